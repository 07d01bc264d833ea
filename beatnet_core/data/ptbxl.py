"""PTB-XL as a training set: conditioned signals, benchmark labels, folds.

:func:`load_ptbxl` reads whatever PTB-XL signals a directory holds:

- the official layout of the PhysioNet release (Wagner et al. 2020):
  ``ptbxl_database.csv``, ``scp_statements.csv`` and WFDB records under
  ``records500/`` (500 Hz) and/or ``records100/`` (100 Hz), in raw mV. Each
  record is read with :func:`beatnet_core.load_ecg` (500 Hz preferred) and
  conditioned by :func:`beatnet_core.signal.condition`, the one preprocessing
  shared by training and inference;
- the project's amplitude-normalised subset ``ptbxl_subset_250hz.npz``
  (already band-passed, z-scored and at 250 Hz, i.e. exactly what
  :func:`~beatnet_core.signal.condition` makes with the default
  :class:`~beatnet_core.signal.ConditioningSpec`). It is used only with that
  spec; a record present both raw and in the subset is taken from the raw
  files.

Conditioned signals are cached in an ``.npz`` file (see :func:`default_cache_dir`)
keyed by the files read and the spec, so only the first load pays for reading
and filtering. Labels come from :mod:`beatnet_core.data.labels` and are
computed on every load (cheap), so one cache serves all tasks.

Splits follow the benchmark of Strodthoff et al. (2021): ``strat_fold`` 1-8
train, 9 validation, 10 test. :func:`stratified_fraction` draws nested,
label-stratified training subsets for label-efficiency studies.

References
----------
Wagner P. et al., "PTB-XL, a large publicly available electrocardiography
dataset", Scientific Data 7, 154 (2020).
Strodthoff N. et al., "Deep Learning for ECG Analysis: Benchmarks and Insights
from PTB-XL", IEEE JBHI 25(5):1519-1528 (2021).
Sechidis K., Tsoumakas G., Vlahavas I., "On the stratification of multi-label
data", ECML PKDD 2011 (iterative stratification).
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from beatnet_core import signal as signal_module
from beatnet_core.ecg import LEADS
from beatnet_core.signal import ConditioningSpec, condition

from beatnet_core.data.labels import has_label, parse_scp_codes, read_scp_statements, task_labels

DATABASE_FILE = "ptbxl_database.csv"
SUBSET_FILE = "ptbxl_subset_250hz.npz"
#: Every PTB-XL record is 10 s long.
RECORD_SECONDS = 10.0
#: The preprocessing already applied to ``ptbxl_subset_250hz.npz``.
SUBSET_SPEC = ConditioningSpec()
#: Raised when the cache layout changes, so old cache files are not read.
_CACHE_VERSION = 1

#: ``strat_fold`` values of the benchmark's splits.
TRAIN_FOLDS = (1, 2, 3, 4, 5, 6, 7, 8)
VAL_FOLDS = (9,)
TEST_FOLDS = (10,)


class Split(NamedTuple):
    """Row indices of the train, validation and test records."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass
class PTBXLDataset:
    """Conditioned PTB-XL records with the labels of one benchmark task.

    Attributes
    ----------
    signals : np.ndarray
        float32, shape (records, samples, 12): 10 s at ``spec.fs``, leads in
        :data:`beatnet_core.LEADS` order, conditioned by
        :func:`beatnet_core.signal.condition`.
    lead_mask : np.ndarray
        bool, shape (records, 12): False where a lead was flat or absent (zero).
    ecg_id, patient_id, strat_fold : np.ndarray
        int64 per record, from ``ptbxl_database.csv``.
    labels : np.ndarray
        uint8, shape (records, labels), multi-hot.
    label_names : list of str
    age : np.ndarray
        float32 years; NaN where unknown. PTB-XL files ages above 89 as 300
        (de-identification); they are kept as filed.
    sex : np.ndarray
        int8: 0 male, 1 female (PTB-XL's coding), -1 unknown.
    source : np.ndarray
        str per record: ``"records500"``, ``"records100"`` or ``"subset"``.
    task : str
    spec : ConditioningSpec
    """

    signals: np.ndarray
    lead_mask: np.ndarray
    ecg_id: np.ndarray
    patient_id: np.ndarray
    strat_fold: np.ndarray
    labels: np.ndarray
    label_names: list[str]
    age: np.ndarray
    sex: np.ndarray
    source: np.ndarray
    task: str
    spec: ConditioningSpec

    @property
    def fs(self) -> float:
        return float(self.spec.fs)

    @property
    def leads(self) -> tuple[str, ...]:
        return LEADS

    def __len__(self) -> int:
        return int(self.ecg_id.shape[0])

    def __repr__(self) -> str:
        return (f"PTBXLDataset({len(self)} records, task={self.task!r}, {len(self.label_names)} labels, "
                f"{self.signals.shape[1]} samples at {self.fs:g} Hz)")

    def split(self, test_fold: int = TEST_FOLDS[0]) -> Split:
        """Train / validation / test row indices by ``strat_fold`` (see :func:`fold_rotation`).

        The default is the benchmark's split (folds 1-8 / 9 / 10).
        """
        return split_indices(self.strat_fold, *fold_rotation(test_fold))

    def take(self, rows) -> "PTBXLDataset":
        """The records at ``rows`` (indices or a boolean mask), as a new dataset."""
        rows = np.asarray(rows)
        per_record = {name: getattr(self, name)[rows] for name in
                      ("signals", "lead_mask", "ecg_id", "patient_id", "strat_fold", "labels", "age", "sex",
                       "source")}
        return PTBXLDataset(label_names=list(self.label_names), task=self.task, spec=self.spec, **per_record)

    def label_counts(self) -> dict[str, int]:
        """Positive records per label."""
        return dict(zip(self.label_names, self.labels.sum(axis=0).astype(int).tolist()))


def split_indices(strat_fold, train_folds=TRAIN_FOLDS, val_folds=VAL_FOLDS, test_folds=TEST_FOLDS) -> Split:
    """Row indices of the benchmark's splits: folds 1-8 train, 9 validation, 10 test.

    PTB-XL's ``strat_fold`` keeps all records of a patient in one fold and
    puts only human-validated records in folds 9 and 10 (Wagner et al. 2020).

    Parameters
    ----------
    strat_fold : array-like of int
    train_folds, val_folds, test_folds : tuple of int

    Returns
    -------
    Split
        ``(train, val, test)`` int64 index arrays, each ascending.

    Examples
    --------
    >>> split_indices([1, 9, 10, 3, 8]).train.tolist()
    [0, 3, 4]
    """
    folds = np.asarray(strat_fold)
    return Split(*(np.flatnonzero(np.isin(folds, f)).astype(np.int64)
                   for f in (train_folds, val_folds, test_folds)))


def fold_rotation(test_fold: int = TEST_FOLDS[0]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Train, validation and test folds when ``test_fold`` is held out: validation is the fold before it.

    Test fold 10 gives the benchmark's split (1-8 / 9 / 10). Rotating the test
    fold (cross-validation) scores every record by a model that did not
    train on it: up to ten times the test records of one split, for differences
    one fold of ~250 records cannot resolve. Folds 1-8 were not all
    validated by a cardiologist (Wagner et al. 2020), so their labels are
    noisier than those of folds 9 and 10.

    Examples
    --------
    >>> fold_rotation(10)
    ((1, 2, 3, 4, 5, 6, 7, 8), (9,), (10,))
    >>> fold_rotation(1)
    ((2, 3, 4, 5, 6, 7, 8, 9), (10,), (1,))
    """
    if test_fold not in range(1, 11):
        raise ValueError(f"test_fold must be a PTB-XL strat_fold from 1 to 10, not {test_fold!r}")
    val_fold = 10 if test_fold == 1 else test_fold - 1
    train = tuple(f for f in range(1, 11) if f not in (val_fold, test_fold))
    return train, (val_fold,), (test_fold,)


def stratified_fraction(labels: np.ndarray, train_idx, fraction: float, seed: int = 0) -> np.ndarray:
    """A label-stratified subset of the training records, nested across fractions.

    For a given ``seed`` the records of ``train_idx`` are put in one fixed
    order and ``fraction`` takes its first ``round(fraction * n)``, so the
    10 % subset lies inside the 20 % subset, and so on (a label-efficiency
    curve then only adds data, as in the benchmark's reduced-training-set
    experiments). The order is stratified at every prefix, in the spirit of
    iterative stratification (Sechidis et al. 2011) made sequential: each
    next record is drawn (at random, by ``seed``) from the label combination
    whose addition best brings every label's count, the count of records
    with no label, and the combinations' own counts towards
    ``prefix length x share in train_idx`` (greedy least squares). On
    PTB-XL this keeps every label's count in every prefix within about one
    record of proportional.

    Parameters
    ----------
    labels : np.ndarray
        Multi-hot matrix of the whole dataset, shape (records, labels).
    train_idx : array-like of int
        Rows to sample from (e.g. ``split_indices(...).train``).
    fraction : float
        In (0, 1]; 1 returns all of ``train_idx``.
    seed : int
        Different seeds give different (each internally nested) subsets.

    Returns
    -------
    np.ndarray
        int64 row indices (a subset of ``train_idx``), ascending.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).random((1000, 3)) < [0.5, 0.2, 0.05]
    >>> small = stratified_fraction(y, np.arange(1000), 0.1, seed=1)
    >>> large = stratified_fraction(y, np.arange(1000), 0.3, seed=1)
    >>> len(small), len(large), bool(np.isin(small, large).all())
    (100, 300, True)
    >>> y[small].sum(axis=0).tolist(), y.sum(axis=0).tolist()
    ([51, 20, 5], [515, 197, 52])
    """
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    train_idx = np.asarray(train_idx, dtype=np.int64)
    if train_idx.size == 0:
        return train_idx
    order = _stratified_order(np.asarray(labels)[train_idx].astype(bool), seed)
    n_keep = min(train_idx.size, max(1, int(round(float(fraction) * train_idx.size))))
    return np.sort(train_idx[order[:n_keep]])


#: Weight of keeping label combinations (not only single labels) in proportion.
_COMBINATION_WEIGHT = 0.5


def _stratified_order(y: np.ndarray, seed: int) -> np.ndarray:
    """A permutation of the rows of ``y`` whose every prefix is stratified (see stratified_fraction)."""
    rng = np.random.default_rng(seed)
    n = y.shape[0]
    # A "no label" column makes unlabelled records keep their share too.
    columns = np.concatenate([y, ~y.any(axis=1, keepdims=True)], axis=1)
    combos, combo_of_row, combo_size = np.unique(columns, axis=0, return_inverse=True, return_counts=True)
    combo_of_row = combo_of_row.reshape(-1)
    combos = combos.astype(np.float64)
    # Members of each combination, in random order, stored contiguously.
    shuffled = rng.permutation(n)
    members = shuffled[np.argsort(combo_of_row[shuffled], kind="stable")]
    first_member = np.r_[0, np.cumsum(combo_size)[:-1]]
    label_share = columns.mean(axis=0)
    combo_share = combo_size / n
    label_count = np.zeros(columns.shape[1])
    taken = np.zeros(len(combos), np.int64)
    order = np.empty(n, np.int64)
    for k in range(n):
        # Adding a record of combination c changes the squared deviation from
        # proportional counts by sum_j c_j (1 - 2 deficit_j): pick the largest drop.
        label_deficit = (k + 1) * label_share - label_count
        combo_deficit = (k + 1) * combo_share - taken
        gain = combos @ (2 * label_deficit - 1) + _COMBINATION_WEIGHT * (2 * combo_deficit - 1)
        gain += 1e-9 * rng.random(len(combos))  # break ties at random, not by combination order
        gain[taken == combo_size] = -np.inf
        c = int(np.argmax(gain))
        order[k] = members[first_member[c] + taken[c]]
        taken[c] += 1
        label_count += combos[c]
    return order


def default_cache_dir() -> Path:
    """Where conditioned datasets are cached: ``$BEATNET_CACHE``, else ``$XDG_CACHE_HOME/beatnet``
    or ``~/.cache/beatnet``.

    >>> default_cache_dir().name in ("beatnet", os.path.basename(os.environ.get("BEATNET_CACHE", "")))
    True
    """
    if os.environ.get("BEATNET_CACHE"):
        return Path(os.environ["BEATNET_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "beatnet"


def read_database(data_dir: str | os.PathLike) -> pd.DataFrame:
    """``ptbxl_database.csv`` indexed by ``ecg_id``, with ``scp_codes`` parsed to dicts.

    Examples
    --------
    >>> db = read_database("../shared/data/ptbxl")  # doctest: +SKIP
    >>> db.loc[1, "scp_codes"]  # doctest: +SKIP
    {'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}
    """
    path = Path(data_dir) / DATABASE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: PTB-XL's {DATABASE_FILE} not found (is {data_dir} a PTB-XL directory?)")
    db = pd.read_csv(path, index_col="ecg_id")
    missing = {"scp_codes", "strat_fold"} - set(db.columns)
    if missing:
        raise ValueError(f"{path}: columns {sorted(missing)} missing; not PTB-XL's database file")
    db.index = db.index.astype(np.int64)
    parsed = []
    for ecg_id, text in db["scp_codes"].items():
        try:
            parsed.append(parse_scp_codes(text))
        except ValueError as exc:
            raise ValueError(f"{path}: ecg_id {ecg_id}: {exc}") from None
    db["scp_codes"] = parsed
    return db


def load_ptbxl(data_dir: str | os.PathLike, task: str = "superdiagnostic",
               spec: ConditioningSpec = ConditioningSpec(), *, min_count: int = 1,
               drop_unlabelled: bool = False, prefer_fs: int = 500, use_subset: bool = True,
               cache_dir: str | os.PathLike | None | bool = None, workers: int = 1,
               progress: bool = True) -> PTBXLDataset:
    """Load every PTB-XL record found in ``data_dir``, conditioned, with the labels of ``task``.

    Parameters
    ----------
    data_dir : str or PathLike
        A PTB-XL directory: ``ptbxl_database.csv``, ``scp_statements.csv``,
        and ``records500/`` and/or ``records100/`` (official layout) and/or
        ``ptbxl_subset_250hz.npz``. Records listed in the database but with
        no signal here are left out.
    task : str
        A benchmark label set (see :data:`beatnet_core.data.labels.TASKS`).
    spec : ConditioningSpec
        Preprocessing of raw records. The subset file is used only when this
        equals :data:`SUBSET_SPEC` (its preprocessing cannot be redone).
    min_count : int
        Drop labels with fewer positive records than this among the records loaded.
    drop_unlabelled : bool
        Drop records with no label in ``task``, as the benchmark's
        ``select_data`` does (e.g. 12 of the 2,285 shared records have no
        superdiagnostic statement). Off by default: every record found is returned.
    prefer_fs : {500, 100}
        Which raw files to read when both ``records500`` and ``records100`` exist.
    use_subset : bool
        Read ``ptbxl_subset_250hz.npz`` when present.
    cache_dir : path, None or False
        Where to cache the conditioned signals; None: :func:`default_cache_dir`;
        False: no cache.
    workers : int
        Processes reading raw records (helps with the full 21,799 records).
    progress : bool
        Show a progress bar while raw records are read.

    Returns
    -------
    PTBXLDataset
        Records in ascending ``ecg_id``.

    Examples
    --------
    >>> ds = load_ptbxl("../shared/data/ptbxl", "superdiagnostic")  # doctest: +SKIP
    >>> ds.signals.shape, ds.label_names  # doctest: +SKIP
    ((2285, 2500, 12), ['CD', 'HYP', 'MI', 'NORM', 'STTC'])
    >>> len(ds.split().test)  # doctest: +SKIP
    253
    """
    data_dir = Path(data_dir)
    if prefer_fs not in (100, 500):
        raise ValueError(f"prefer_fs must be 100 or 500, got {prefer_fs}")
    db = read_database(data_dir)
    statements = read_scp_statements(data_dir)

    raw_files = _find_raw_records(data_dir, db, prefer_fs)
    subset_ids = np.zeros(0, np.int64)
    subset_path = data_dir / SUBSET_FILE
    if use_subset and subset_path.is_file():
        if spec == SUBSET_SPEC:
            with np.load(subset_path, allow_pickle=False) as npz:
                subset_ids = npz["ecg_id"].astype(np.int64)
            unknown = np.setdiff1d(subset_ids, db.index.to_numpy())
            if unknown.size:
                warnings.warn(f"{subset_path}: {unknown.size} records are not in {DATABASE_FILE} and are "
                              f"left out (no labels), e.g. ecg_id {unknown[:5].tolist()}", stacklevel=2)
        else:
            warnings.warn(f"{subset_path} is skipped: its records are already conditioned with "
                          f"{SUBSET_SPEC}, not the requested {spec}", stacklevel=2)

    # One copy per record: raw files win over the subset, since conditioning
    # them reproduces the subset's preprocessing from the original signal.
    from_subset = np.setdiff1d(np.intersect1d(subset_ids, db.index.to_numpy()), list(raw_files))
    ecg_ids = np.union1d(np.fromiter(raw_files, np.int64, len(raw_files)), from_subset)
    if ecg_ids.size == 0:
        raise FileNotFoundError(f"{data_dir}: no PTB-XL signals found (expected records500/, records100/ "
                                f"or {SUBSET_FILE} next to {DATABASE_FILE})")

    signals, lead_mask, source = _conditioned_signals(
        data_dir, ecg_ids, raw_files, from_subset, subset_path, spec, cache_dir, workers, progress)

    rows = db.loc[ecg_ids]
    label_names, labels = task_labels(rows["scp_codes"], statements, task, min_count=min_count)
    dataset = PTBXLDataset(
        signals=signals, lead_mask=lead_mask, ecg_id=ecg_ids,
        patient_id=_int_column(rows, "patient_id"), strat_fold=_int_column(rows, "strat_fold"),
        labels=labels, label_names=label_names,
        age=_float_column(rows, "age"),
        sex=_int_column(rows, "sex").astype(np.int8), source=source, task=task, spec=spec)
    if drop_unlabelled:
        dataset = dataset.take(has_label(dataset.labels))
    return dataset


def _float_column(rows: pd.DataFrame, column: str) -> np.ndarray:
    if column not in rows:
        return np.full(len(rows), np.nan, np.float32)
    return pd.to_numeric(rows[column], errors="coerce").to_numpy(np.float32)


def _int_column(rows: pd.DataFrame, column: str) -> np.ndarray:
    if column not in rows:
        return np.full(len(rows), -1, np.int64)
    values = pd.to_numeric(rows[column], errors="coerce")
    return values.fillna(-1).round().astype(np.int64).to_numpy()


def _find_raw_records(data_dir: Path, db: pd.DataFrame, prefer_fs: int) -> dict[int, tuple[str, Path]]:
    """ecg_id -> (``records500`` or ``records100``, header path) for the WFDB records present."""
    columns = [("records500", "filename_hr"), ("records100", "filename_lr")]
    if prefer_fs == 100:
        columns.reverse()
    columns = [(name, col) for name, col in columns if col in db and (data_dir / name).is_dir()]
    found: dict[int, tuple[str, Path]] = {}
    for ecg_id, row in zip(db.index, db[[col for _, col in columns]].itertuples(index=False)):
        for (name, _), stem in zip(columns, row):
            if isinstance(stem, str) and stem:
                header = data_dir / (stem + ".hea")
                if header.is_file():
                    found[int(ecg_id)] = (name, header)
                    break
    return found


def _cache_key(data_dir: Path, ecg_ids, raw_files, from_subset, subset_path: Path, spec: ConditioningSpec) -> str:
    """Hash of everything the conditioned signals depend on.

    Files are identified by path, size and modification time (hashing the
    contents of 21,799 records would cost as much as reading them), and the
    preprocessing by the spec and the source of beatnet_core.signal, so
    editing the filters invalidates old caches.
    """
    def stat(path: Path) -> list:
        st = path.stat()
        return [str(path.relative_to(data_dir)), st.st_size, st.st_mtime_ns]

    raw = []
    for ecg_id in ecg_ids:
        if int(ecg_id) in raw_files:
            header = raw_files[int(ecg_id)][1]
            data_file = header.with_suffix(".dat")  # PTB-XL's signal files; a glob per record is too slow
            raw.append([int(ecg_id), stat(header), stat(data_file) if data_file.is_file() else None])
    payload = {
        "version": _CACHE_VERSION,
        "data_dir": str(data_dir.resolve()),
        "spec": asdict(spec),
        "signal_module": hashlib.sha256(Path(signal_module.__file__).read_bytes()).hexdigest(),
        "raw": raw,
        "subset": stat(subset_path) if len(from_subset) else None,
        "subset_ids": [int(i) for i in from_subset],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _conditioned_signals(data_dir, ecg_ids, raw_files, from_subset, subset_path, spec, cache_dir, workers, progress):
    """(signals, lead_mask, source) for ``ecg_ids``, from the cache or built and cached."""
    cache_file = None
    if cache_dir is not False:
        key = _cache_key(data_dir, ecg_ids, raw_files, from_subset, subset_path, spec)
        cache_file = Path(cache_dir or default_cache_dir()) / f"ptbxl-{key[:20]}.npz"
        cached = _read_cache(cache_file, ecg_ids)
        if cached is not None:
            return cached

    n_samples = int(round(RECORD_SECONDS * spec.fs))
    signals = np.zeros((len(ecg_ids), n_samples, len(LEADS)), np.float32)
    lead_mask = np.zeros((len(ecg_ids), len(LEADS)), bool)
    source = np.empty(len(ecg_ids), dtype="<U10")
    row_of = {int(e): i for i, e in enumerate(ecg_ids)}

    if len(from_subset):
        with np.load(subset_path, allow_pickle=False) as npz:
            subset_ids = npz["ecg_id"].astype(np.int64)
            leads = [str(name) for name in npz["leads"]]
            if leads != list(LEADS):
                raise ValueError(f"{subset_path}: leads {leads} are not in BEAT-Net's order {list(LEADS)}")
            picked = np.flatnonzero(np.isin(subset_ids, from_subset))
            block = npz["signals"][picked].astype(np.float32)
        if block.shape[1] != n_samples:
            raise ValueError(f"{subset_path}: records have {block.shape[1]} samples, expected {n_samples}")
        rows = [row_of[int(e)] for e in subset_ids[picked]]
        signals[rows] = block
        # The subset stores masked leads as zeros; a lead with any signal was recorded.
        lead_mask[rows] = np.any(block != 0, axis=1)
        source[rows] = "subset"

    raw_ids = [int(e) for e in ecg_ids if int(e) in raw_files]
    headers = [str(raw_files[e][1]) for e in raw_ids]
    jobs = [(header, spec, n_samples) for header in headers]
    bar = tqdm(total=len(jobs), desc="PTB-XL records", unit="rec", disable=not progress or not jobs)
    try:
        if workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = pool.map(_read_and_condition, jobs, chunksize=16)
                for ecg_id, (x, mask) in zip(raw_ids, results):
                    signals[row_of[ecg_id]], lead_mask[row_of[ecg_id]] = x, mask
                    bar.update()
        else:
            for ecg_id, job in zip(raw_ids, jobs):
                signals[row_of[ecg_id]], lead_mask[row_of[ecg_id]] = _read_and_condition(job)
                bar.update()
    finally:
        bar.close()
    for ecg_id in raw_ids:
        source[row_of[ecg_id]] = raw_files[ecg_id][0]

    if cache_file is not None:
        _write_cache(cache_file, ecg_id=np.asarray(ecg_ids), signals=signals, lead_mask=lead_mask, source=source)
    return signals, lead_mask, source


def _read_and_condition(job) -> tuple[np.ndarray, np.ndarray]:
    """Read one WFDB record and condition it (runs in worker processes too)."""
    from beatnet_core.io import load_ecg

    header, spec, n_samples = job
    ecg = load_ecg(header)
    x = condition(ecg, spec)
    if x.shape[0] != n_samples:
        raise ValueError(f"{header}: {ecg.duration_s:.2f} s record; PTB-XL records are {RECORD_SECONDS:g} s")
    return x, ecg.lead_mask.copy()


def _read_cache(path: Path, ecg_ids: np.ndarray):
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not np.array_equal(npz["ecg_id"], ecg_ids):
                return None
            return npz["signals"], npz["lead_mask"], npz["source"]
    except (OSError, ValueError, KeyError, EOFError) as exc:  # truncated or foreign file: rebuild it
        warnings.warn(f"{path}: unreadable cache ({exc}); rebuilding it", stacklevel=3)
        return None


def _write_cache(path: Path, **arrays) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a temporary name then renamed, so a reader never sees half a file.
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only or full disk must not stop training
        tmp.unlink(missing_ok=True)
        warnings.warn(f"could not write the dataset cache {path}: {exc}", stacklevel=3)
