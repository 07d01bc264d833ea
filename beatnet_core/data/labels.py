"""PTB-XL label sets: SCP-ECG statements aggregated as in the PTB-XL benchmark.

Every PTB-XL record carries ``scp_codes``, a dict literal of SCP-ECG statement
-> likelihood (%), e.g. ``"{'NORM': 100.0, 'SR': 0.0}"``. The benchmark of
Strodthoff et al. (2021) defines six label sets (tasks) from it through
``scp_statements.csv`` (Wagner et al. 2020):

=================  ==========================================================
task               labels of a record
=================  ==========================================================
``all``            every statement in ``scp_codes`` (71 possible)
``diagnostic``     the statements flagged ``diagnostic == 1`` (44 possible)
``subdiagnostic``  the ``diagnostic_subclass`` of those statements (23)
``superdiagnostic`` the ``diagnostic_class`` of those statements: NORM, MI,
                   STTC, CD, HYP
``form``           the statements flagged ``form == 1`` (19)
``rhythm``         the statements flagged ``rhythm == 1`` (12)
=================  ==========================================================

As in the benchmark's ``utils.compute_label_aggregations``, every statement
listed in ``scp_codes`` counts whatever its likelihood, 0.0 included (rhythm
statements such as ``SR`` are always filed with 0.0). As in its
``utils.select_data``, labels are the ones observed, sorted (what sklearn's
``MultiLabelBinarizer`` produces), optionally restricted to those with enough
positive records (``min_count``).

References
----------
Wagner P. et al., "PTB-XL, a large publicly available electrocardiography
dataset", Scientific Data 7, 154 (2020).
Strodthoff N. et al., "Deep Learning for ECG Analysis: Benchmarks and Insights
from PTB-XL", IEEE JBHI 25(5):1519-1528 (2021);
https://github.com/helme/ecg_ptbxl_benchmarking (``code/utils/utils.py``).
"""
from __future__ import annotations

import ast
import math
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

#: The benchmark's six label sets, in the order of its experiments table.
TASKS: tuple[str, ...] = ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm")

#: The five diagnostic superclasses (Wagner et al. 2020, Table 2).
SUPERCLASSES: tuple[str, ...] = ("NORM", "MI", "STTC", "CD", "HYP")

STATEMENTS_FILE = "scp_statements.csv"

# Plain-language names of the diagnostic classes, and of the subclasses that
# are not themselves statements (those that are, e.g. IMI, take the
# statement's description); wording from Wagner et al. (2020), Table 2.
_CLASS_DESCRIPTIONS = {
    "NORM": "normal ECG",
    "MI": "myocardial infarction",
    "STTC": "ST/T change",
    "CD": "conduction disturbance",
    "HYP": "hypertrophy",
}
_SUBCLASS_DESCRIPTIONS = {
    "ISCA": "ischemic in anterior leads (anterolateral, anteroseptal, lateral or anterior)",
    "ISCI": "ischemic in inferior leads (inferior or inferolateral)",
    "LAFB/LPFB": "left anterior or left posterior fascicular block",
    "STTC": "ST/T change (non-diagnostic T, digitalis effect, long QT, aneurysm, electrolytes)",
    "_AVB": "AV block (first, second or third degree)",
}


def parse_scp_codes(text) -> dict[str, float]:
    """Parse one ``scp_codes`` field into a dict statement -> likelihood.

    The field is a Python dict literal; it is read with :func:`ast.literal_eval`,
    which accepts literals only, so a malformed or hostile database cannot run
    code (the benchmark's own loader does the same).

    Parameters
    ----------
    text : str, dict or None
        The field as stored in ``ptbxl_database.csv`` (an already parsed dict
        is passed through; empty or missing gives ``{}``).

    Returns
    -------
    dict
        Statement code -> likelihood in percent (0.0 where not stated).

    Raises
    ------
    ValueError
        If the field is not a dict literal of statement -> number.

    Examples
    --------
    >>> parse_scp_codes("{'NORM': 100.0, 'SR': 0.0}")
    {'NORM': 100.0, 'SR': 0.0}
    >>> parse_scp_codes("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: scp_codes is not a dict literal: "__import__('os')"
    """
    if isinstance(text, Mapping):
        return {str(k): float(v) for k, v in text.items()}
    if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
        return {}
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ValueError(f"scp_codes is not a dict literal: {str(text)[:80]!r}") from None
    if not isinstance(value, dict):
        raise ValueError(f"scp_codes is not a dict literal: {str(text)[:80]!r}")
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise ValueError(f"scp_codes must map statements to numbers: {str(text)[:80]!r}") from None


def read_scp_statements(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``scp_statements.csv`` (a file, or the PTB-XL directory holding it).

    Parameters
    ----------
    path : str or PathLike
        ``.../scp_statements.csv`` or the directory that contains it.

    Returns
    -------
    pandas.DataFrame
        Indexed by statement code, with the float flags ``diagnostic``,
        ``form``, ``rhythm`` (1.0 or NaN), ``diagnostic_class``,
        ``diagnostic_subclass`` and ``description``.

    Examples
    --------
    >>> stm = read_scp_statements("../shared/data/ptbxl")  # doctest: +SKIP
    >>> len(stm), stm.loc["IMI", "diagnostic_class"]  # doctest: +SKIP
    (71, 'MI')
    """
    path = Path(path)
    if path.is_dir():
        path = path / STATEMENTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: PTB-XL's {STATEMENTS_FILE} not found")
    table = pd.read_csv(path, index_col=0)
    missing = {"description", "diagnostic", "form", "rhythm", "diagnostic_class",
               "diagnostic_subclass"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: not PTB-XL's statement table (columns {sorted(missing)} missing)")
    table.index = table.index.astype(str)
    return table


def statement_labels(scp_codes: Mapping[str, float], statements: pd.DataFrame, task: str) -> set[str]:
    """The labels one record gets in ``task`` (the benchmark's aggregation rules).

    Parameters
    ----------
    scp_codes : mapping
        Statement -> likelihood of one record (see :func:`parse_scp_codes`);
        only the keys matter, as in the benchmark.
    statements : pandas.DataFrame
        From :func:`read_scp_statements`.
    task : str
        One of :data:`TASKS`.

    Returns
    -------
    set of str

    Examples
    --------
    >>> stm = read_scp_statements("../shared/data/ptbxl")  # doctest: +SKIP
    >>> codes = {"IMI": 35.0, "ABQRS": 0.0, "SR": 0.0}
    >>> [sorted(statement_labels(codes, stm, t)) for t in ("superdiagnostic", "form", "rhythm")]  # doctest: +SKIP
    [['MI'], ['ABQRS'], ['SR']]
    """
    return _labels_of(scp_codes, _statement_to_label(statements, task))


def _statement_to_label(statements: pd.DataFrame, task: str) -> dict[str, str] | None:
    """Map statement -> its label in ``task`` (None for ``all``: every statement is its own label)."""
    _check_task(task)
    if task == "all":
        return None
    column = {"diagnostic": "diagnostic", "subdiagnostic": "diagnostic", "superdiagnostic": "diagnostic",
              "form": "form", "rhythm": "rhythm"}[task]
    flagged = statements[statements[column] == 1.0]
    if task in ("diagnostic", "form", "rhythm"):
        return {code: code for code in flagged.index}
    attribute = "diagnostic_subclass" if task == "subdiagnostic" else "diagnostic_class"
    # The benchmark skips statements whose (sub)class is empty (str(c) != 'nan').
    return {code: str(c) for code, c in flagged[attribute].items() if isinstance(c, str) and c}


def _labels_of(scp_codes: Mapping[str, float], mapping: dict[str, str] | None) -> set[str]:
    if mapping is None:
        return {str(k) for k in scp_codes}
    return {mapping[k] for k in scp_codes if k in mapping}


def task_labels(scp_codes: Iterable, statements: pd.DataFrame, task: str = "superdiagnostic", *,
                min_count: int = 1, label_names: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Label names and multi-hot matrix of a PTB-XL task, one row per record.

    Parameters
    ----------
    scp_codes : iterable
        One ``scp_codes`` per record, as dict-literal strings (parsed with
        :func:`parse_scp_codes`) or dicts, e.g. the ``scp_codes`` column of
        ``ptbxl_database.csv``.
    statements : pandas.DataFrame
        From :func:`read_scp_statements`.
    task : str
        One of :data:`TASKS`.
    min_count : int
        Keep only labels with at least this many positive records among the
        records given. The benchmark keeps labels with more than
        ``min_samples`` positives (``min_samples=0`` in its experiments, i.e.
        ``min_count=1``: every observed label) and applies no threshold to
        ``diagnostic``.
    label_names : list of str, optional
        Use exactly these labels, in this order (e.g. a trained model's label
        list), instead of the observed ones; ``min_count`` is then ignored.

    Returns
    -------
    label_names : list of str
        Sorted, as sklearn's ``MultiLabelBinarizer`` orders them in the benchmark.
    labels : np.ndarray
        uint8, shape (records, labels): 1 where the record has the label.
        Records with no label in the task have an all-zero row (the benchmark
        drops them; see :func:`has_label`).

    Examples
    --------
    >>> import pandas as pd
    >>> db = pd.read_csv("../shared/data/ptbxl/ptbxl_database.csv")  # doctest: +SKIP
    >>> stm = read_scp_statements("../shared/data/ptbxl")  # doctest: +SKIP
    >>> names, y = task_labels(db.scp_codes, stm, "superdiagnostic")  # doctest: +SKIP
    >>> dict(zip(names, y.sum(axis=0).tolist()))  # doctest: +SKIP
    {'CD': 532, 'HYP': 229, 'MI': 330, 'NORM': 1244, 'STTC': 613}
    """
    mapping = _statement_to_label(statements, task)
    per_record = [_labels_of(parse_scp_codes(codes), mapping) for codes in scp_codes]
    if label_names is None:
        counts: dict[str, int] = {}
        for labels in per_record:
            for name in labels:
                counts[name] = counts.get(name, 0) + 1
        label_names = sorted(name for name, n in counts.items() if n >= max(int(min_count), 1))
    else:
        label_names = list(label_names)
    column = {name: j for j, name in enumerate(label_names)}
    matrix = np.zeros((len(per_record), len(label_names)), np.uint8)
    for i, labels in enumerate(per_record):
        for name in labels:
            j = column.get(name)
            if j is not None:
                matrix[i, j] = 1
    return label_names, matrix


def has_label(labels: np.ndarray) -> np.ndarray:
    """Boolean mask of the records with at least one label (the ones the benchmark keeps).

    >>> has_label(np.array([[1, 0], [0, 0]], np.uint8)).tolist()
    [True, False]
    """
    return np.asarray(labels).any(axis=1)


def describe_label(code: str, statements: pd.DataFrame | str | os.PathLike | None = None,
                   task: str | None = None) -> str:
    """Plain-language description of a label, e.g. ``'IMI'`` -> ``'inferior myocardial infarction'``.

    Statements take their ``description`` from ``scp_statements.csv``;
    diagnostic classes and the subclasses that are not statements themselves
    (``ISCA``, ``LAFB/LPFB``, ``_AVB``, ...) take the names of Wagner et al.
    (2020). ``STTC`` and ``NORM`` are both a class and a subclass or
    statement: ``task`` says which is meant (classes by default).

    Parameters
    ----------
    code : str
        A label of any task.
    statements : DataFrame, path or None
        The statement table, ``scp_statements.csv`` or its directory. None
        looks in ``$BEATNET_PTBXL``, ``$BEATNET_DATA/ptbxl`` and the project's
        ``../shared/data/ptbxl``.
    task : str, optional
        The task the label belongs to, to resolve codes that mean different
        things in different tasks.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        If the code is not a PTB-XL label.

    Examples
    --------
    >>> describe_label("MI")
    'myocardial infarction'
    >>> describe_label("IMI", "../shared/data/ptbxl")  # doctest: +SKIP
    'inferior myocardial infarction'
    """
    code = str(code)
    if task in (None, "superdiagnostic") and code in _CLASS_DESCRIPTIONS:
        return _CLASS_DESCRIPTIONS[code]
    if task in (None, "subdiagnostic") and code in _SUBCLASS_DESCRIPTIONS:
        return _SUBCLASS_DESCRIPTIONS[code]
    if not isinstance(statements, pd.DataFrame):
        statements = _default_statements() if statements is None else _cached_statements(str(Path(statements)))
    if code in statements.index:
        return str(statements.loc[code, "description"])
    raise KeyError(f"{code!r} is not a PTB-XL SCP statement, diagnostic class or subclass")


@lru_cache(maxsize=8)
def _cached_statements(path: str) -> pd.DataFrame:
    return read_scp_statements(path)


def _default_statements() -> pd.DataFrame:
    candidates = []
    if os.environ.get("BEATNET_PTBXL"):
        candidates.append(Path(os.environ["BEATNET_PTBXL"]))
    if os.environ.get("BEATNET_DATA"):
        candidates.append(Path(os.environ["BEATNET_DATA"]) / "ptbxl")
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "ptbxl")
    for folder in candidates:
        if (folder / STATEMENTS_FILE).is_file():
            return _cached_statements(str(folder))
    raise FileNotFoundError(f"{STATEMENTS_FILE} not found in {[str(c) for c in candidates]}; pass "
                            "statements=<PTB-XL directory> or set BEATNET_PTBXL")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown PTB-XL task {task!r}; choose one of {', '.join(TASKS)}")
