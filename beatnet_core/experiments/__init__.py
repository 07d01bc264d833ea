"""Experiments that reproduce the claims of the BEAT-Net paper, side by side with the CNNs.

Ma & Liao, "BEAT-Net: Injecting Biomimetic Spatio-Temporal Priors for
Interpretable ECG Classification", arXiv 2601.07316, claim that BEAT-Net
(1) recovers its full-data performance from 30-35 % of the labels, (2) is more
robust than CNNs, and (3) attends to Lead II for rhythm without being told.
Each claim is one study, one public function; a fourth validates the shipped
model on an external dataset (LUDB):

=====================  ==========================================  ==========================
study                  function                                    report (in ``out_dir``)
=====================  ==========================================  ==========================
``label-efficiency``   :func:`label_efficiency`                    ``label_efficiency.*``
``robustness``         :func:`robustness`                          ``robustness.*``
``attention``          :func:`attention`                           ``attention.*``
``external``           :func:`external_validation`                 ``external_ludb.*``
=====================  ==========================================  ==========================

:func:`run_all` runs them in that order within a time budget (60 minutes on
the project's 2-core CPU), reusing the 100 % label-efficiency runs for the
robustness, attention and external studies, and writes the summary in
``out_dir/README.md``. ``beatnet experiments <study>`` is the command line.
"""
from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

from beatnet_core.experiments import common
from beatnet_core.experiments.attention import attention
from beatnet_core.experiments.corruptions import corrupt, snr_db
from beatnet_core.experiments.external import external_validation
from beatnet_core.experiments.label_efficiency import TINY_MODELS, label_efficiency
from beatnet_core.experiments.robustness import robustness

__all__ = ["label_efficiency", "robustness", "attention", "external_validation", "run_all", "corrupt", "snr_db",
           "STUDIES", "QUICK"]

#: Study name (as on the command line) -> function.
STUDIES = {"label-efficiency": label_efficiency, "robustness": robustness, "attention": attention,
           "external": external_validation}

#: Settings of a smoke run (``--quick``): a few records, tiny models, one epoch.
QUICK = {
    "label-efficiency": {"max_records": 60, "fractions": (0.5, 1.0), "seeds": (0,), "epochs": 1, "cnn_epochs": 1,
                         "min_steps": 0, "max_epochs": 1, "patience": 1, "min_count": 1,
                         "model_overrides": TINY_MODELS, "threads": 1},
    "robustness": {"max_records": 12, "threads": 1},
    "attention": {"max_records": 10, "min_support": 1, "threads": 1},
    "external": {"max_records": 12, "n_boot": 50, "threads": 1},
}
#: Minutes kept for the robustness, attention and external studies (and loading) out of run_all's budget:
#: ~4 min robustness (6 runs x 19 conditions x 251 records), ~1 attention, ~1 external, ~1 loading and
#: tokenizing, ~3 slack (measured in smoke runs on the 2-core machine, scaled to the full record counts).
RESERVED_MINUTES = 10.0


def run_all(data_dir, out_dir="reports", runs_dir="runs/experiments", *, quick: bool = False,
            budget_minutes: float | None = 60.0, attention_runs=None, model=None, n_boot: int = 1000,
            max_records: int | None = None, threads: int | None = None, progress: bool = True, command: str | None = None, **label_efficiency_options) -> dict:
    """Run the four studies in order; write every report and ``out_dir/README.md``.

    Parameters
    ----------
    data_dir : path
        The shared data folder (``ptbxl/`` and ``ludb/``).
    out_dir, runs_dir : path
        Reports and training runs. With ``quick`` both get a ``quick/``
        subfolder, so a smoke run never overwrites real results.
    quick : bool
        Smoke run (:data:`QUICK`): minutes, not an hour.
    budget_minutes : float, optional
        Wall-clock budget of the whole run; the label-efficiency runs share it
        minus :data:`RESERVED_MINUTES` (ignored with ``quick``).
    attention_runs : list of paths, optional
        BEAT-Net runs for the attention study (default: the 100 % runs of the
        label-efficiency study; e.g. a run trained with rhythm labels).
    model : path, optional
        Model of the external study (default: the shipped model, else the
        seed-0 100 % BEAT-Net run of the label-efficiency study).
    n_boot : int
        Bootstrap resamples of the external study's CIs.
    max_records : int, optional
        Every study uses only about this many records (smoke runs).
    threads : int, optional
        torch threads of every study (default 2; 1 with ``quick``).
    progress : bool
    command : str, optional
        The command line to record (default: rebuilt from the arguments).
    **label_efficiency_options
        Passed to :func:`label_efficiency` (models, fractions, seeds, epochs, ...).

    Returns
    -------
    dict
        ``{"studies": {name: payload or None}, "errors": {name: message}, "runtime_seconds": ...}``.
    """
    t0 = time.perf_counter()
    out_dir, runs_dir = Path(out_dir), Path(runs_dir)
    if quick:
        out_dir, runs_dir = out_dir / "quick", runs_dir / "quick"
    limit = {"max_records": max_records} if max_records else {}
    if threads:
        limit["threads"] = threads
    le_opts = {**(QUICK["label-efficiency"] if quick else {}), **limit, **label_efficiency_options}
    if not quick and budget_minutes:
        le_opts.setdefault("budget_minutes", max(1.0, budget_minutes - RESERVED_MINUTES))
    command = command or common.cli_command("all", {"data": str(data_dir), "out": str(out_dir.parent if quick else out_dir),
                                                    "runs_dir": str(runs_dir.parent if quick else runs_dir),
                                                    "quick": quick, "budget_minutes": budget_minutes})
    studies, errors, seconds, notes = {}, {}, {}, []

    def step(name, fn, **kwargs):
        t = time.perf_counter()
        try:
            studies[name] = fn(data_dir, out_dir, progress=progress, command=command, **kwargs)
        except Exception as exc:  # one failed study must not lose the others' results
            studies[name] = None
            errors[name] = f"{type(exc).__name__}: {exc}"
            common.log(f"{name} failed:\n{traceback.format_exc()}", True)
        seconds[name] = time.perf_counter() - t

    step("label-efficiency", label_efficiency, runs_dir=runs_dir, **le_opts)
    le = studies["label-efficiency"]
    full = {}
    if le:
        for m, by_fraction in le["results"].items():
            full[m] = [r["run_dir"] for _, r in sorted(by_fraction.get("1.00", {}).items())]
    full_runs = [r for rs in full.values() for r in rs]
    if full_runs:
        step("robustness", robustness, runs=full_runs, **{**(QUICK["robustness"] if quick else {}), **limit})
        step("attention", attention, runs=attention_runs or full.get("beatnet") or None,
             **{**(QUICK["attention"] if quick else {}), **limit})
    else:
        errors["robustness"] = errors["attention"] = "no 100 % runs from the label-efficiency study"
    primary, note = model, None
    if primary is None and common.bundled_model() is None and full.get("beatnet"):
        primary = full["beatnet"][0]
        note = ("No shipped model existed at the time of this run: the seed-0 100 % BEAT-Net run of the "
                "label-efficiency study stands in for it")
        notes.append(note)
    ext_opts = {**(QUICK["external"] if quick else {"n_boot": n_boot}), **limit}
    step("external", external_validation, model=primary, extra_runs=full_runs, model_note=note, **ext_opts)

    total = time.perf_counter() - t0
    env = common.environment()
    if le:
        notes.append(f"Label-efficiency training budget: epochs at 100 % of the labels {common.per_model(le['budget']['epochs'])}, "
                     f">= {le['budget']['min_steps']} steps, <= {le['budget']['max_epochs']} epochs, patience "
                     f"{le['budget']['patience']}" + (f", {le['budget']['budget_minutes']:.0f} min wall-clock cap"
                                                      if le['budget']['budget_minutes'] else "")
                     + " (reduced from the paper to fit the budget).")
    notes += [f"{name} failed: {msg}" for name, msg in errors.items()]
    record = {"command": command, "date": env["date"], "machine": env["machine"], "quick": quick,
              "runtime_seconds": total, "study_seconds": seconds, "errors": errors, "notes": notes,
              "out_dir": str(out_dir), "runs_dir": str(runs_dir)}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "experiments_all.json").write_text(json.dumps(common.jsonable(record), indent=2))
    common.update_summary(out_dir)
    return {"studies": studies, "errors": errors, "runtime_seconds": total, "study_seconds": seconds,
            "out_dir": str(out_dir), "runs_dir": str(runs_dir)}
