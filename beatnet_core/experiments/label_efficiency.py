"""Label efficiency: test macro-AUC of BEAT-Net and the CNN trained on fractions of the labels.

The paper (Ma & Liao, arXiv 2601.07316) claims BEAT-Net recovers its
full-data performance from 30-35 % of the labels. Here every model is
trained by the one harness (:func:`beatnet_core.train.train`) on nested,
label-stratified fractions of PTB-XL's training folds
(:func:`beatnet_core.data.ptbxl.stratified_fraction` through
``TrainConfig.label_fraction``: for one seed the 5 % subset lies inside the
10 % one, and so on, in the spirit of iterative stratification, Sechidis et
al. 2011), with several seeds, and scored by superdiagnostic macro-AUC on
the test fold (``strat_fold`` 10; Strodthoff et al. 2021). The report gives
the smallest fraction at which each model reaches 97 % of its own 100 % AUC.

Training budget. A full study is 8 fractions x 3 seeds x 2 models = 48 runs,
which on a 2-core CPU must fit in well under an hour, so each run gets a
fixed epoch plan (:func:`plan_epochs`): ``epochs`` at 100 % of the labels,
at least ``min_steps`` optimiser steps for small fractions (a 5 % subset is
2 batches per epoch; the same number of epochs would compare models trained
for 1/20 of the steps), at most ``max_epochs``, early stopping on validation
macro-AUC with ``patience``. With ``budget_minutes`` every run also gets a
wall-clock cap (``TrainConfig.max_minutes``): when it starts, its share of
the budget still left, in proportion to its estimated cost among the runs
still to do. On an idle machine the caps do not bind (the plan fits); on a
loaded one the study still ends in time (a run that overshoots its cap by
an epoch takes that time from the later runs); runs that hit their cap are
flagged in the report. Runs train in bfloat16 mixed precision where the CPU
has it natively (``precision="auto"``; about twice the epochs in the same
time, with the same accuracy as float32 in the PTB-XL ablation of
``reports/ptbxl.md``), else in float32; the report says which.

Finished runs are kept in ``runs_dir/label_efficiency/<model>/seed<k>/frac<pct>``
and reused when the same configuration is asked again (resume after an
interruption; the robustness and attention studies read the 100 % runs).
"""
from __future__ import annotations

import json
import math
import time

import numpy as np

from beatnet_core.experiments import common
from beatnet_core.experiments.common import DISPLAY, fmt, mean_sd

FRACTIONS = (0.05, 0.10, 0.20, 0.30, 0.35, 0.50, 0.75, 1.0)
MODELS = ("beatnet", "xresnet1d101")
SEEDS = (0, 1, 2)
#: Share of the 100 % AUC that counts as "recovered" (the paper's criterion).
RECOVERY = 0.97
#: The paper's claim: 97 % recovered at or below this fraction, and BEAT-Net above the CNN up to it.
CLAIM_FRACTION = 0.35

#: Rough costs on the project's 2-core CPU (2 torch threads, idle machine): seconds per optimiser
#: step of 64 records by training arithmetic (``beatnet bench train``), and per validation pass over
#: 250 records (float32 always). Used only to split a time budget between runs and to print an estimate.
STEP_SECONDS = {("tokens", "float32"): 0.49, ("signal", "float32"): 0.18,      # measured 2026-11-21
                ("tokens", "bfloat16"): 0.29, ("signal", "bfloat16"): 0.14}
EVAL_SECONDS = {"tokens": 0.9, "signal": 1.2}

#: Tiny model widths for smoke runs (``quick``).
TINY_MODELS = {
    "beatnet": {"d_model": 16, "n_heads": 2, "n_layers": 1, "cnn_channels": [4, 8], "cnn_kernels": [7, 5],
                "mlp_ratio": 1},
    "xresnet1d101": {"width": 0.125, "layers": [1, 1, 1, 1], "head_hidden": 16},
    "inception1d": {"width": 0.125, "depth": 3, "head_hidden": 16},
}


def plan_epochs(n_train: int, batch_size: int, epochs: int, min_steps: int, max_epochs: int) -> int:
    """Epochs for a run on ``n_train`` records: ``epochs``, raised to reach ``min_steps`` steps, capped.

    >>> plan_epochs(1772, 64, 6, 60, 20), plan_epochs(89, 64, 6, 60, 20), plan_epochs(620, 64, 6, 60, 20)
    (6, 20, 6)
    """
    steps = max(1, math.ceil(n_train / batch_size))
    return int(min(max(epochs, max_epochs), max(epochs, math.ceil(min_steps / steps))))


def plan_runs(models, seeds, fractions, n_train: int, n_val: int, epochs_of: dict, min_steps: int, max_epochs: int,
              batch_size: int, budget_minutes: float | None = None,
              dtype: str = "float32") -> tuple[list[dict], float]:
    """Every run of the study with its epochs, steps, estimated seconds and wall-clock cap.

    Returns the runs and the estimated total seconds on an idle 2-core CPU
    (from :data:`STEP_SECONDS` for the training ``dtype`` and :data:`EVAL_SECONDS`). With
    ``budget_minutes``, each run's ``max_minutes`` is its share of the budget
    in proportion to its estimated cost (the cap if every run takes exactly
    its share; :func:`label_efficiency` recomputes it from the time left).
    """
    from beatnet_core.model import MODELS as REGISTRY

    jobs = []                     # seed by seed, so an interrupted study still compares the models
    for seed in seeds:
        for f in fractions:
            for model in models:
                kind = REGISTRY[model].input_kind
                n = min(n_train, max(1, int(round(f * n_train))))
                ep = plan_epochs(n, batch_size, epochs_of[model], min_steps, max_epochs)
                steps = ep * math.ceil(n / batch_size)
                cost = steps * STEP_SECONDS[kind, dtype] + ep * EVAL_SECONDS[kind] * n_val / 250
                jobs.append({"model": model, "seed": int(seed), "fraction": f, "train_records": n,
                             "epochs_planned": ep, "steps_planned": steps, "estimated_seconds": cost})
    total = sum(j["estimated_seconds"] for j in jobs)
    for j in jobs:
        j["max_minutes"] = (budget_minutes * j["estimated_seconds"] / total) if budget_minutes else None
    return jobs, total


@common.uses_threads
def label_efficiency(data_dir, out_dir="reports", runs_dir="runs/experiments", *, models=MODELS,
                     fractions=FRACTIONS, seeds=SEEDS, epochs: int = 12, cnn_epochs: int | None = 15,
                     min_steps: int = 60, max_epochs: int = 20, patience: int = 4, batch_size: int = 64,
                     lr: float | None = None, budget_minutes: float | None = None, task: str = "superdiagnostic",
                     min_count: int = 10, max_records: int | None = None, model_overrides: dict | None = None,
                     threads: int = 2, precision: str = "auto", reuse: bool = True, progress: bool = True, write: bool = True,
                     command: str | None = None) -> dict:
    """Train every model on every fraction and seed; report test macro-AUC against the fraction.

    Parameters
    ----------
    data_dir : path
        The shared data folder (with ``ptbxl/``) or the PTB-XL folder itself.
    out_dir : path
        Report folder: ``label_efficiency.{md,json,png}`` and the README summary.
    runs_dir : path
        Where runs are written (and reused from).
    models : sequence of str
        Registered model names (:data:`beatnet_core.model.MODELS`).
    fractions : sequence of float
        Label fractions in (0, 1]; include 1.0 for the recovery criterion.
    seeds : sequence of int
        Seeds (subset draw, initialisation, batches).
    epochs : int
        Epochs at 100 % of the labels for BEAT-Net (token models).
    cnn_epochs : int, optional
        The same for the signal models (CNNs); None: ``epochs``. A CNN epoch
        shows each record as one random 2.5 s crop, a quarter of it.
    min_steps, max_epochs, patience, batch_size, lr :
        See :func:`plan_epochs` and :class:`beatnet_core.train.TrainConfig`.
    budget_minutes : float, optional
        Wall-clock budget of the whole study (shared out as per-run caps).
    task, min_count :
        Label set and its minimum positives, as in ``beatnet train``.
    max_records : int, optional
        Use only about this many records (smoke runs).
    model_overrides : dict, optional
        model name -> model config fields (e.g. :data:`TINY_MODELS`).
    threads : int
        torch threads per run.
    precision : str
        Training arithmetic of every run (``TrainConfig.precision``): ``"auto"``
        trains in bfloat16 mixed precision where the CPU has native bfloat16
        (about twice as fast), else float32; the report states which.
    reuse : bool
        Reuse a finished run with the same configuration instead of retraining.
    progress : bool
        Progress bars and status lines on stderr.
    write : bool
        Write the report files.
    command : str, optional
        The command line to record (default: the equivalent ``beatnet experiments`` command).

    Returns
    -------
    dict
        The JSON payload (``results``, ``curves``, ``recovery``, ``claims``, ``plan``, ...).
    """
    from tqdm.auto import tqdm

    from beatnet_core.metrics import macro_auc, per_class_auc
    from beatnet_core.model import MODELS as REGISTRY
    from beatnet_core.train import TrainConfig, finished_with, load_run, predict_scores, train, training_dtype

    t0 = time.perf_counter()
    fractions = sorted({float(f) for f in fractions})
    if not all(0 < f <= 1 for f in fractions):
        raise ValueError(f"fractions must be in (0, 1], got {fractions}")
    unknown = [m for m in models if m not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown models {unknown}; known: {sorted(REGISTRY)}")
    overrides = model_overrides or {}
    ds = common.load_dataset(data_dir, task, min_count, max_records, progress)
    split = ds.split()
    n_train = len(split.train)
    n_val = len(split.val)
    kind_of = {m: REGISTRY[m].input_kind for m in models}
    epochs_of = {m: (epochs if kind_of[m] == "tokens" or cnn_epochs is None else cnn_epochs) for m in models}

    dtype = str(training_dtype(precision)).removeprefix("torch.")
    precision = "bf16" if dtype == "bfloat16" else "fp32"    # what "auto" chose on this machine, recorded per run
    jobs, total_cost = plan_runs(models, seeds, fractions, n_train, n_val, epochs_of, min_steps, max_epochs,
                                 batch_size, budget_minutes, dtype)
    common.log(f"label efficiency: {len(jobs)} runs on {n_train} training records; estimated "
               f"{total_cost / 60:.0f} min on an idle 2-core CPU"
               + (f", capped at {budget_minutes:.0f} min" if budget_minutes else ""), progress)

    inputs: dict = {}
    results: dict = {}
    for job in tqdm(jobs, desc="label efficiency", unit="run", disable=not progress):
        model, seed, f = job["model"], job["seed"], job["fraction"]
        run = common.run_dir_for(runs_dir, model, seed, f)
        if budget_minutes:
            left_s = budget_minutes * 60 - (time.perf_counter() - t0)
            todo = sum(j["estimated_seconds"] for j in jobs[jobs.index(job):])
            job["max_minutes"] = max(0.1, left_s * job["estimated_seconds"] / todo / 60)
        cfg = TrainConfig(model=model, task=task, epochs=job["epochs_planned"], batch_size=batch_size,
                          patience=patience, label_fraction=f, seed=seed, min_count=min_count, threads=threads,
                          max_minutes=job["max_minutes"], model_overrides=dict(overrides.get(model, {})),
                          precision=precision,
                          **({"lr": lr} if lr is not None else {}))
        kind = kind_of[model]
        if kind not in inputs:
            inputs[kind] = common.inputs_for(kind, ds, progress)
        reused = reuse and finished_with(run, cfg, ignore=("max_minutes", "threads")) is not None
        if not reused:
            if hasattr(inputs[kind], "augment"):   # shared inputs augment (training batches only) as the run says
                inputs[kind].augment = bool(getattr(cfg, "augment", False))
            train(cfg, None, run, progress=progress, dataset=ds, inputs=inputs[kind])
        config = json.loads((run / "config.json").read_text())
        summary = config["summary"]
        net, info = load_run(run)
        scores = predict_scores(net, inputs[kind], split.test)
        y = common.label_columns(ds, info["labels"])[split.test]
        early = summary["epochs_run"] - summary["best_epoch"] >= patience
        results.setdefault(model, {}).setdefault(_key(f), {})[str(seed)] = {
            "test_macro_auc": macro_auc(y, scores),
            "per_class_auc": dict(zip(info["labels"], per_class_auc(y, scores).tolist())),
            "val_macro_auc": summary["val_macro_auc"], "best_epoch": summary["best_epoch"],
            "epochs_run": summary["epochs_run"], "epochs_planned": job["epochs_planned"],
            "train_records": summary["train_records"], "train_seconds": summary["train_seconds"],
            "stopped_early": bool(early),
            "hit_time_cap": bool(summary["epochs_run"] < job["epochs_planned"] and not early),
            "reused": reused, "run_dir": common.display_path(run),
        }

    payload = _summarise(results, models, fractions, seeds)
    options = {"data": str(data_dir), "out": str(out_dir), "runs_dir": str(runs_dir), "models": list(models),
               "fractions": [_pct(f) for f in fractions], "seeds": list(seeds), "epochs": epochs,
               "cnn_epochs": cnn_epochs, "min_steps": min_steps, "max_epochs": max_epochs, "patience": patience,
               "batch_size": batch_size, "lr": lr, "budget_minutes": budget_minutes, "max_records": max_records,
               "threads": threads, "precision": precision}
    payload.update({
        "study": "label-efficiency", "study_command": common.cli_command("label-efficiency", options),
        "task": task, "labels": ds.label_names, "data": {
            "ptbxl": str(common.ptbxl_dir(data_dir)), "records": len(ds), "train_records": n_train,
            "val_records": n_val, "test_records": len(split.test),
            "sources": {str(k): int(v) for k, v in zip(*np.unique(ds.source, return_counts=True))}},
        "models": list(models), "fractions": fractions, "seeds": list(seeds),
        "budget": {"epochs": {DISPLAY.get(m, m): e for m, e in epochs_of.items()}, "min_steps": min_steps, "max_epochs": max_epochs, "patience": patience,
                   "batch_size": batch_size, "lr": lr or TrainConfig.lr, "budget_minutes": budget_minutes,
                   "training_dtype": dtype,
                   "model_overrides": {m: o for m, o in overrides.items() if m in models}},
        "plan": jobs, "estimated_seconds": total_cost, "runtime_seconds": time.perf_counter() - t0,
        "environment": common.environment(threads), "results": results,
    })
    payload["command"] = command or payload["study_command"]
    if write:
        common.write_study(out_dir, "label-efficiency", _markdown(payload), payload, _figure(payload))
    return common.jsonable(payload)


# --------------------------------------------------------------------------- helpers

def _key(fraction: float) -> str:
    return f"{fraction:.2f}"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:g}"


def _summarise(results: dict, models, fractions, seeds) -> dict:
    curves, recovery = {}, {}
    for model in models:
        mean, sd, n = [], [], []
        for f in fractions:
            aucs = [r["test_macro_auc"] for r in results.get(model, {}).get(_key(f), {}).values()]
            m, s = mean_sd(aucs)
            mean.append(m), sd.append(s), n.append(len(aucs))
        curves[model] = {"fraction": list(fractions), "mean": mean, "sd": sd, "n_seeds": n}
        full = mean[fractions.index(1.0)] if 1.0 in fractions else None
        per_seed = {}
        for seed in seeds:
            runs = results.get(model, {})
            seed_auc = {f: runs.get(_key(f), {}).get(str(seed), {}).get("test_macro_auc") for f in fractions}
            per_seed[str(seed)] = _smallest_recovering(fractions, [seed_auc[f] for f in fractions],
                                                       seed_auc.get(1.0))
        recovery[model] = {"full_auc": full, "threshold": None if full is None else RECOVERY * full,
                           "fraction": _smallest_recovering(fractions, mean, full), "per_seed": per_seed}
    claims = {}
    if "beatnet" in models:
        f97 = recovery["beatnet"]["fraction"]
        claims["beatnet_recovers_97pct_at_or_below_35pct"] = None if f97 is None else f97 <= CLAIM_FRACTION + 1e-9
        cnns = [m for m in models if m != "beatnet"]
        for cnn in cnns:
            above = {}
            for i, f in enumerate(fractions):
                b, c = curves["beatnet"]["mean"][i], curves[cnn]["mean"][i]
                if f <= CLAIM_FRACTION + 1e-9 and b is not None and c is not None:
                    above[_pct(f)] = b > c
            claims[f"beatnet_above_{cnn}_at_every_fraction_le_35pct"] = all(above.values()) if above else None
            claims[f"beatnet_above_{cnn}_by_fraction"] = above
    return {"curves": curves, "recovery": recovery, "claims": claims,
            "figure": {"x_percent": [100 * f for f in fractions],
                       "series": {m: {"label": DISPLAY.get(m, m), "mean": curves[m]["mean"], "sd": curves[m]["sd"],
                                      "recovery_threshold": recovery[m]["threshold"]} for m in models},
                       "xlabel": "labelled training records (% of folds 1-8)",
                       "ylabel": "test macro-AUC (superdiagnostic)"}}


def _smallest_recovering(fractions, aucs, full) -> float | None:
    """Smallest fraction whose AUC reaches RECOVERY x the 100 % AUC (None without a 100 % AUC)."""
    if full is None:
        return None
    for f, a in zip(fractions, aucs):
        if a is not None and a >= RECOVERY * full:
            return f
    return None


def _figure(payload: dict):
    fig, ax = common.new_figure(7.0, 4.5)
    colors = {"beatnet": "#1f77b4"}
    for i, (model, s) in enumerate(payload["figure"]["series"].items()):
        x = np.array(payload["figure"]["x_percent"], float)
        m = np.array([np.nan if v is None else v for v in s["mean"]], float)
        sd = np.array([0.0 if v is None else v for v in s["sd"]], float)
        color = colors.get(model, ["#d62728", "#2ca02c", "#9467bd"][i % 3])
        ax.plot(x, m, "o-", color=color, label=f"{s['label']} (mean of seeds)")
        ax.fill_between(x, m - sd, m + sd, color=color, alpha=0.2, linewidth=0)
        if s["recovery_threshold"] is not None:
            ax.axhline(s["recovery_threshold"], color=color, linestyle=":", linewidth=1,
                       label=f"97% of {s['label']}'s 100% AUC")
    ax.axvline(100 * CLAIM_FRACTION, color="grey", linestyle="--", linewidth=1, label="paper's claim: 35%")
    ax.set_xlabel(payload["figure"]["xlabel"])
    ax.set_ylabel(payload["figure"]["ylabel"])
    ax.set_title("Label efficiency on PTB-XL (band: +-1 sd over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _reading(p: dict) -> list[str]:
    """What the curves say, in words written from the measured numbers (BEAT-Net vs each other model)."""
    curves = p["curves"]
    if "beatnet" not in curves:
        return []
    lines = []
    fractions = curves["beatnet"]["fraction"]
    for cnn in (m for m in curves if m != "beatnet"):
        ahead, behind = [], []
        for f, b, c in zip(fractions, curves["beatnet"]["mean"], curves[cnn]["mean"]):
            if b is not None and c is not None:
                (ahead if b > c else behind).append(f)
        name = DISPLAY.get(cnn, cnn)
        text = (f"Reading: BEAT-Net is above {name} at {', '.join(_pct(f) + ' %' for f in ahead) or 'no fraction'}"
                f" and at or below it at {', '.join(_pct(f) + ' %' for f in behind) or 'no fraction'}.")
        if ahead and behind and max(ahead) < min(behind):
            gain = {m: _late_gain(curves[m]) for m in ("beatnet", cnn)}
            text += (" BEAT-Net starts higher (the heartbeat prior, one beat encoder shared by all beats and "
                     "leads, lets it learn from the first labels) but then gains slowly and steadily up to "
                     "100 % instead of saturating: from 35 % to 100 % of the labels it still gains "
                     f"{fmt(gain['beatnet'], 3)} macro-AUC against {fmt(gain[cnn], 3)} for {name}, which "
                     "climbs steeply from a poor start and flattens early.")
            late = _class_gains(p["results"]["beatnet"], f"{CLAIM_FRACTION:.2f}", "1.00")
            if late:
                top = sorted(late, key=late.get, reverse=True)[:3]
                text += (" BEAT-Net's late gain is in " + ", ".join(f"{c} (+{late[c]:.3f})" for c in top)
                         + "; so it reaches 97 % of "
                         "its own 100 % AUC later than the claim, and the CNN overtakes it.")
        lines += ["", text]
    return lines


def _late_gain(curve: dict, frm: float = CLAIM_FRACTION) -> float | None:
    """Mean AUC at 100 % minus mean AUC at ``frm`` (None where either is missing)."""
    by_f = dict(zip(curve["fraction"], curve["mean"]))
    a, b = by_f.get(frm), by_f.get(1.0)
    return None if a is None or b is None else b - a


def _class_gains(by_fraction: dict, frm: str, to: str) -> dict:
    """Per-class test AUC gain (mean over seeds) from fraction key ``frm`` to ``to``."""
    def means(key):
        runs = [r.get("per_class_auc") or {} for r in by_fraction.get(key, {}).values()]
        labels = set.intersection(*(set(r) for r in runs)) if runs else set()
        return {c: float(np.mean([r[c] for r in runs])) for c in labels
                if all(r[c] is not None for r in runs)}
    a, b = means(frm), means(to)
    return {c: b[c] - a[c] for c in a if c in b}


def _markdown(p: dict) -> str:
    models, fractions = p["models"], p["fractions"]
    names = [DISPLAY.get(m, m) for m in models]
    lines = [
        "# Label efficiency: BEAT-Net vs CNN on fractions of the PTB-XL labels", "",
        f"Claim tested ({common.PAPER}): BEAT-Net reaches 97 % of its full-data superdiagnostic macro-AUC with "
        f"<= 35 % of the labels, and is above the CNN at every fraction <= 35 %.", "",
        *common.measured(p, with_torch=True),
        f"Data: PTB-XL ({common.PTBXL_REF}) records in `{p['data']['ptbxl']}`: {p['data']['records']} records "
        f"with a `{p['task']}` label ({p['data']['sources']}); train = folds 1-8 ({p['data']['train_records']}), "
        f"validation = fold 9 ({p['data']['val_records']}), test = fold 10 ({p['data']['test_records']}). "
        f"Fractions are nested and label-stratified per seed (`stratified_fraction`); seeds {p['seeds']}.", "",
        f"Training budget (reduced from the paper's, to fit the 60-minute, 2-core budget): epochs at 100 % "
        f"{common.per_model(p['budget']['epochs'])}, at least {p['budget']['min_steps']} optimiser steps for small fractions, at "
        f"most {p['budget']['max_epochs']} epochs, early stopping patience {p['budget']['patience']}, batch "
        f"{p['budget']['batch_size']}, AdamW lr {p['budget']['lr']} with cosine decay"
        + (f", {p['budget']['training_dtype']} mixed-precision training" if p['budget'].get('training_dtype') == 'bfloat16' else "")
        + (f", wall-clock cap {p['budget']['budget_minutes']:.0f} min shared among runs"
           if p['budget']['budget_minutes'] else "")
        + (f"; model overrides {p['budget']['model_overrides']}" if p['budget']['model_overrides'] else "") + ".",
        "", "| labels | train records | " + " | ".join(f"{n} test macro-AUC" for n in names) + " |",
        "|---|---|" + "---|" * len(models)]
    for i, f in enumerate(fractions):
        n_rec = next((r["train_records"] for m in models for r in p["results"].get(m, {}).get(_key(f), {}).values()),
                     "-")
        cells = [fmt(p["curves"][m]["mean"][i], 4, p["curves"][m]["sd"][i]) for m in models]
        lines.append(f"| {_pct(f)} % | {n_rec} | " + " | ".join(cells) + " |")
    lines += ["", "Mean +- sd over seeds. Smallest fraction reaching 97 % of the model's own 100 % AUC:", ""]
    for m in models:
        r = p["recovery"][m]
        frac = "not reached" if r["fraction"] is None else f"{_pct(r['fraction'])} %"
        per_seed = ", ".join(f"seed {s}: {'-' if v is None else _pct(v) + ' %'}" for s, v in r["per_seed"].items())
        lines.append(f"- {DISPLAY.get(m, m)}: **{frac}** (100 % AUC {fmt(r['full_auc'], 4)}, threshold "
                     f"{fmt(r['threshold'], 4)}; per seed: {per_seed})")
    lines += ["", "Claims:", ""]
    for key, value in p["claims"].items():
        if isinstance(value, dict):
            continue
        verdict = {True: "holds", False: "does NOT hold", None: "not measurable"}[value]
        lines.append(f"- `{key}`: {verdict}")
    lines += _reading(p)
    flagged = [(m, f, s, r) for m, by_f in p["results"].items() for f, by_s in by_f.items()
               for s, r in by_s.items() if r["hit_time_cap"]]
    if flagged:
        lines += ["", f"{len(flagged)} run(s) stopped at the wall-clock cap before their planned epochs: "
                  + ", ".join(f"{DISPLAY.get(m, m)} {float(f) * 100:g} % seed {s} "
                              f"({r['epochs_run']}/{r['epochs_planned']})" for m, f, s, r in flagged) + "."]
    lines += ["", "![label efficiency](label_efficiency.png)", "",
              "Per-run numbers (validation AUC, best epoch, epochs run, time, per-class AUC) are in "
              "`label_efficiency.json`."]
    return "\n".join(lines)
