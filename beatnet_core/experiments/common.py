"""Plumbing shared by the studies: data paths, run discovery, scoring records, report files.

Every study reads the same PTB-XL records, splits and conditioning as
:mod:`beatnet_core.train` (``strat_fold`` 1-8 / 9 / 10, Strodthoff et al.
2021), scores them with the same :func:`beatnet_core.train.predict_scores`
(heartbeat tokens for BEAT-Net; 2.5 s windows at 100 Hz averaged per record
for the CNNs), and writes into the report folder:

- ``<study>.md``   a Markdown section with the table(s) and the exact command;
- ``<study>.json`` every number of the study and of its figure;
- ``<study>.png``  the figure;

and refreshes the experiments section of ``README.md`` there (the rest of
that file, and the other reports in the folder, are left as they are).
"""
from __future__ import annotations

import functools
import inspect
import json
import math
import os
import platform
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from beatnet_core.ecg import ECGFormatError

#: Where the label-efficiency runs live inside ``runs_dir`` (reused by the other studies).
LABEL_EFFICIENCY_DIR = "label_efficiency"
#: Display names of the models in tables and figures.
DISPLAY = {"beatnet": "BEAT-Net", "xresnet1d101": "xresnet1d101", "inception1d": "inception1d"}
#: Study name -> report file stem, in the order of ``beatnet experiments all``.
STUDY_FILES = {"label-efficiency": "label_efficiency", "robustness": "robustness",
               "attention": "attention", "external": "external_ludb"}
_BEGIN = "<!-- beatnet-experiments:begin -->"
_END = "<!-- beatnet-experiments:end -->"

PAPER = ('Ma & Liao, "BEAT-Net: Injecting Biomimetic Spatio-Temporal Priors for Interpretable ECG '
         'Classification", arXiv 2601.07316')
PTBXL_REF = "Wagner et al., Scientific Data 7, 154 (2020); benchmark splits of Strodthoff et al., IEEE JBHI 25(5) (2021)"
LUDB_REF = "Kalyakulina et al., IEEE Access 8 (2020)"


# --------------------------------------------------------------------------- paths and data

def ptbxl_dir(data_dir) -> Path:
    """The PTB-XL folder: ``data_dir`` itself if it holds ``ptbxl_database.csv``, else ``data_dir/ptbxl``."""
    data_dir = Path(data_dir)
    return data_dir if (data_dir / "ptbxl_database.csv").is_file() else data_dir / "ptbxl"


def ludb_dir(data_dir) -> Path:
    """The LUDB folder (with ``data/``): ``data_dir`` itself or ``data_dir/ludb``."""
    data_dir = Path(data_dir)
    return data_dir if (data_dir / "data").is_dir() and not (data_dir / "ludb").is_dir() else data_dir / "ludb"


def run_dir_for(runs_dir, model: str, seed: int, fraction: float) -> Path:
    """``runs_dir/label_efficiency/<model>/seed<k>/frac<percent>``, e.g. ``.../frac035``."""
    return Path(runs_dir) / LABEL_EFFICIENCY_DIR / model / f"seed{seed}" / f"frac{round(fraction * 100):03d}"


def is_run(path) -> bool:
    """True if ``path`` is a complete run directory written by :func:`beatnet_core.train.train`."""
    path = Path(path)
    return all((path / n).is_file() for n in ("weights.safetensors", "config.json", "labels.json",
                                              "conditioning.json", "thresholds.json"))


def find_full_runs(runs_dir) -> dict[str, list[Path]]:
    """The 100 % runs of the label-efficiency study in ``runs_dir``: model -> run dirs, by seed.

    ``runs_dir`` may also be a folder of plain run directories (any layout):
    every complete run found below it that trained on all labels is taken.
    """
    runs_dir = Path(runs_dir)
    found: dict[str, list[Path]] = {}
    standard = sorted((runs_dir / LABEL_EFFICIENCY_DIR).glob("*/seed*/frac100"))
    candidates = standard or sorted(p.parent for p in runs_dir.rglob("config.json"))
    for run in candidates:
        if not is_run(run):
            continue
        config = json.loads((run / "config.json").read_text())
        if float(config["train_config"].get("label_fraction", 1.0)) < 1.0:
            continue
        found.setdefault(config["model"], []).append(run)
    for model, runs in found.items():
        runs.sort(key=lambda r: json.loads((r / "config.json").read_text())["train_config"]["seed"])
    return found


def bundled_model() -> Path | None:
    """The shipped model (``$BEATNET_MODEL`` or ``assets/model``) if it is a complete run, else None."""
    from beatnet_core.predict import BUNDLED_MODEL

    path = Path(os.environ.get("BEATNET_MODEL") or BUNDLED_MODEL)
    return path if is_run(path) else None


def external_model(runs_dir=None) -> tuple[Path | None, str | None]:
    """The model of the external study and a note on it: the shipped model, else the seed-0 100 %
    BEAT-Net run of the label-efficiency study in ``runs_dir`` (None, None if neither exists)."""
    shipped = bundled_model()
    if shipped is not None:
        return shipped, None
    runs = find_full_runs(runs_dir).get("beatnet", []) if runs_dir is not None and Path(runs_dir).is_dir() else []
    if not runs:
        return None, None
    return runs[0], ("No shipped model existed at the time of this run: the seed-0 100 % BEAT-Net run of the "
                     "label-efficiency study stands in for it")


def small_rows(split, max_records: int) -> np.ndarray:
    """About ``max_records`` rows: 60 % train, 20 % validation, 20 % test, spread evenly over each split.

    Evenly spaced (not the first rows) so a smoke run sees raw (ecg_id <= 500)
    and subset records alike.
    """
    n_train = max(4, int(round(0.6 * max_records)))
    n_other = max(4, (max_records - n_train) // 2)

    def spread(idx, n):
        idx = np.asarray(idx)
        return idx if n >= idx.size else idx[np.linspace(0, idx.size - 1, n).round().astype(int)]

    return np.unique(np.concatenate([spread(split.train, n_train), spread(split.val, n_other),
                                     spread(split.test, n_other)]))


def load_dataset(data_dir, task: str = "superdiagnostic", min_count: int = 10, max_records: int | None = None,
                 progress: bool = True):
    """:func:`beatnet_core.train.load_task` on the PTB-XL folder, cut to ``max_records`` for smoke runs."""
    from beatnet_core.train import load_task

    ds = load_task(ptbxl_dir(data_dir), task, min_count, progress)
    if max_records:
        ds = ds.take(small_rows(ds.split(), max_records))
    return ds


def with_signals(ds, signals: np.ndarray, lead_mask: np.ndarray):
    """The same records and labels with other (e.g. corrupted, re-conditioned) signals."""
    return replace(ds, signals=np.asarray(signals, np.float32), lead_mask=np.asarray(lead_mask, bool))


# --------------------------------------------------------------------------- scoring

@dataclass
class LoadedRun:
    """A trained run ready to score records."""

    path: Path
    model: object
    info: dict

    @property
    def name(self) -> str:
        return self.info["config"]["model"]

    @property
    def kind(self) -> str:
        return self.model.input_kind

    @property
    def seed(self) -> int:
        return int(self.info["config"]["train_config"].get("seed", 0))

    @property
    def labels(self) -> list[str]:
        return list(self.info["labels"])


def load_runs(paths) -> list[LoadedRun]:
    """Load run directories (see :func:`beatnet_core.train.load_run`)."""
    from beatnet_core.train import load_run

    out = []
    for path in paths:
        model, info = load_run(path)
        out.append(LoadedRun(Path(path), model, info))
    return out


def empty_tokens(fs: float, source_fs: float, lead_mask: np.ndarray):
    """BeatTokens with no beat: what a record whose beats were all missed gives the model."""
    from beatnet_core.tokenizer import POST_R_S, PRE_R_S, BeatTokens

    n = int(round(PRE_R_S * fs)) + int(round(POST_R_S * fs))
    z = np.zeros(0, np.float32)
    return BeatTokens(windows=np.zeros((0, len(lead_mask), n), np.float32), r_samples=np.zeros(0, np.int64),
                      r_times=z, rr_before=z, rr_after=z, lead_mask=np.asarray(lead_mask, bool).copy(),
                      beat_mask=np.zeros(0, bool), fs=float(fs), source_fs=float(source_fs))


def token_inputs(ds, progress: bool = False):
    """:class:`beatnet_core.train.TokenInputs` of ``ds`` that survives records without detected beats.

    The tokens are made by the same :func:`~beatnet_core.tokenizer.tokenize_conditioned`
    as in training; a record in which no beat is found (e.g. after heavy
    corruption) gets zero beats, so the model still scores it (from padding
    only) instead of the whole evaluation stopping.
    """
    from tqdm import tqdm

    from beatnet_core.tokenizer import tokenize_conditioned
    from beatnet_core.train import TokenInputs

    inputs = TokenInputs(ds.take(np.zeros(0, np.int64)), progress=False)
    items = []
    for i in tqdm(range(len(ds)), desc="tokenizing", unit="rec", disable=not progress, leave=False):
        try:
            items.append(tokenize_conditioned(ds.signals[i], ds.fs, ds.lead_mask[i], source=f"ecg_id {ds.ecg_id[i]}"))
        except ECGFormatError:
            items.append(empty_tokens(ds.fs, ds.fs, ds.lead_mask[i]))
    inputs.items = items
    return inputs


def inputs_for(kind: str, ds, progress: bool = False):
    """Model inputs of one kind (``"tokens"`` or ``"signal"``) for every record of ``ds``."""
    from beatnet_core.train import SignalInputs

    builders = {"tokens": lambda: token_inputs(ds, progress), "signal": lambda: SignalInputs(ds)}
    try:
        return builders[kind]()
    except KeyError:
        raise ValueError(f"unknown input kind {kind!r}; expected one of {sorted(builders)}") from None


def score_runs(runs: list[LoadedRun], ds, progress: bool = False, inputs: dict | None = None) -> list[np.ndarray]:
    """Probabilities (records, the run's labels) of every run on every record of ``ds``.

    Inputs are built once per input kind (pass ``inputs`` to reuse them) and
    shared by the runs; columns follow each run's own label list.
    """
    from beatnet_core.train import predict_scores

    inputs = {} if inputs is None else inputs
    out = []
    for run in runs:
        if run.kind not in inputs:
            inputs[run.kind] = inputs_for(run.kind, ds, progress)
        out.append(predict_scores(run.model, inputs[run.kind], np.arange(len(ds))))
    return out


def label_columns(ds, labels: list[str]) -> np.ndarray:
    """The dataset's label matrix in the order of ``labels`` (a run's label list)."""
    missing = [c for c in labels if c not in ds.label_names]
    if missing:
        raise ValueError(f"labels {missing} are not in the data's {ds.task!r} label set {ds.label_names}")
    return ds.labels[:, [ds.label_names.index(c) for c in labels]]


@contextmanager
def torch_threads(n: int):
    """Run a block with ``n`` torch threads, then restore the previous count.

    On a shared 2-core machine more threads than free cores slow torch down
    many times over, so every study sets its count explicitly.
    """
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def uses_threads(fn):
    """Decorator: run a study under :func:`torch_threads` of its ``threads`` argument."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        with torch_threads(bound.arguments["threads"]):
            return fn(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------- numbers

def finite_or_none(x):
    """JSON-safe float: None for NaN/inf (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def mean_sd(values) -> tuple[float | None, float | None]:
    """Mean and sample sd (ddof=1; 0 for one value) of the finite values; (None, None) if none."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if v.size == 0:
        return None, None
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def fmt(x, digits: int = 3, sd=None) -> str:
    """``0.912`` or ``0.912 +- 0.004``; ``-`` for missing values."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    s = f"{x:.{digits}f}"
    if sd is not None:
        s += f" +- {sd:.{digits}f}"
    return s


def per_model(values: dict) -> str:
    """``{'BEAT-Net': 6, 'xresnet1d101': 10}`` -> ``'BEAT-Net 6, xresnet1d101 10'``."""
    return ", ".join(f"{k} {v}" for k, v in (values or {}).items())


def jsonable(obj):
    """Convert numpy scalars/arrays, Paths and NaN inside ``obj`` to plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return finite_or_none(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


# --------------------------------------------------------------------------- reports

def environment(threads: int | None = None) -> dict:
    """Date, machine and library versions, recorded in every study's JSON."""
    import torch

    return {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": threads if threads is not None else torch.get_num_threads()}


def display_path(path) -> str:
    """A path as reports should show it: relative to the working directory when inside it.

    Reports are committed and read on other machines: no absolute paths of this one.
    """
    text = str(path)
    if os.path.isabs(text):
        rel = os.path.relpath(text)
        if not rel.startswith(".." + os.sep + ".." + os.sep):
            return rel
    return text


def cli_command(study: str, options: dict) -> str:
    """The ``beatnet experiments`` command line that reproduces a study (options in CLI spelling)."""
    parts = ["beatnet", "experiments", study]
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            parts.append(flag)
        elif isinstance(value, (list, tuple)):
            parts += [flag] + [display_path(v) for v in value]
        else:
            parts += [flag, display_path(value)]
    return " ".join(parts)


def measured(payload: dict, with_torch: bool = False) -> list[str]:
    """Markdown lines: when and where a study was measured, how long it took, and how to reproduce it."""
    env = payload["environment"]
    where = env["machine"] + (f", torch {env['torch']}, {env['torch_threads']} threads" if with_torch else "")
    reused, total = reused_runs(payload)
    took = f"{payload['runtime_seconds'] / 60:.1f} min"
    if reused:   # the time covers only the runs trained now
        took += (f" ({total - reused} of {total} runs trained in that time; {reused} reused from "
                 "earlier runs with the same configuration)")
    return [f"Measured {env['date']} ({where}); {took}. Reproduce with:", "", *reproduce(payload)]


def reused_runs(*payloads: dict) -> tuple[int, int]:
    """(runs reused from earlier runs, all training runs) in the studies' results."""
    runs = [r for p in payloads for r in _run_entries(p.get("results"))]
    return sum(bool(r["reused"]) for r in runs), len(runs)


def _run_entries(node) -> list[dict]:
    """Every per-run result (a dict with a ``reused`` flag) nested in a study's results."""
    if isinstance(node, dict):
        if "reused" in node:
            return [node]
        return [r for value in node.values() for r in _run_entries(value)]
    return []


def reproduce(payload: dict) -> list[str]:
    """Markdown lines: the command that produced a report and, if different, the study's own command."""
    lines = [f"    {payload['command']}", ""]
    own = payload.get("study_command")
    if own and own != payload["command"]:
        lines += [f"This study alone (reusing the runs it reads): `{own}`", ""]
    return lines


def new_figure(width: float = 7.0, height: float = 4.5, ncols: int = 1):
    """A matplotlib Figure that does not touch pyplot's global state (safe in any process)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes if ncols > 1 else axes[0]


def write_study(out_dir, study: str, markdown: str, payload: dict, fig=None) -> dict[str, Path]:
    """Write ``<study>.md``, ``<study>.json`` (and ``<study>.png``) and refresh the README summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = STUDY_FILES[study]
    paths = {"md": out / f"{stem}.md", "json": out / f"{stem}.json"}
    if fig is not None:
        paths["png"] = out / f"{stem}.png"
        fig.tight_layout()
        fig.savefig(paths["png"])
        payload = dict(payload, figure_file=paths["png"].name)
    paths["json"].write_text(json.dumps(jsonable(payload), indent=2))
    paths["md"].write_text(markdown.rstrip() + "\n")
    update_summary(out)
    return paths


def update_summary(out_dir) -> Path:
    """Rewrite the experiments section of ``out_dir/README.md`` from the study JSONs present.

    Only the text between the experiments markers is replaced (appended if
    absent); a README that does not exist is created with a list of the other
    reports in the folder.
    """
    from beatnet_core.experiments.summary import summary_section

    out = Path(out_dir)
    readme = out / "README.md"
    section = f"{_BEGIN}\n{summary_section(out).rstrip()}\n{_END}\n"
    if readme.is_file():
        text = readme.read_text()
        if _BEGIN in text and _END in text:
            pattern = re.compile(re.escape(_BEGIN) + r".*?" + re.escape(_END) + r"\n?", re.S)
            text = pattern.sub(lambda _: section, text, count=1)
        else:
            text = text.rstrip() + "\n\n" + section
    else:
        ours = {f"{stem}.md" for stem in STUDY_FILES.values()} | {"README.md"}
        others = sorted(p.name for p in out.glob("*.md") if p.name not in ours)
        listing = "\n".join(f"- [{name}]({name})" for name in others) or "- (none yet)"
        text = ("# Reports\n\nMeasured results of BEAT-Net, each with the command that produced it.\n\n"
                f"Other reports in this folder:\n\n{listing}\n\n{section}")
    readme.write_text(text)
    return readme


def log(msg: str, progress: bool = True) -> None:
    """A status line on stderr (kept apart from tqdm's bars)."""
    if progress:
        print(msg, file=sys.stderr, flush=True)
