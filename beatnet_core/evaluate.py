"""Evaluate trained runs, and benchmark every model side by side on PTB-XL.

``beatnet evaluate RUN_DIR --split test [--json FILE]``: macro-AUC over the
classes with positives in the split, per-class AUC with support, Fmax, and 95 %
bootstrap confidence intervals (1000 resamples of the records).

``beatnet benchmark ptbxl --task TASK --seeds 3``: trains and evaluates every
model in :data:`beatnet_core.model.MODELS` with the same harness, and writes
``reports/ptbxl_<task>.md`` and ``.json``: mean +- sd over seeds, wall-clock
training time, parameter counts, and the commands. ``--test-folds 10 1 2 ...``
cross-validates (each fold held out in turn; ``ptbxl_<task>_cv.md``).
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from beatnet_core.metrics import bootstrap_ci, fmax, fold_mean, macro_auc, paired_bootstrap_difference, per_class_auc

SPLITS = ("train", "val", "test")


def evaluate_run(run_dir, data_dir, split: str = "test", n_boot: int = 1000, seed: int = 0,
                 progress: bool = True, dataset=None, keep_scores: bool = False) -> dict:
    """Metrics of a run directory on one split of the PTB-XL records in ``data_dir``.

    The split is the run's own (its ``test_fold``; older runs: fold 10).
    ``keep_scores`` adds the arrays ``y_true``, ``scores`` and ``predicted``
    (over the thresholds; records x labels) to the result.
    """
    from beatnet_core.train import load_run, load_task, make_inputs, predict_scores, saved_train_config

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    model, run = load_run(run_dir)
    cfg = saved_train_config(run["config"])
    ds = dataset if dataset is not None else load_task(data_dir, run["task"], cfg["min_count"], progress)
    missing = [c for c in run["labels"] if c not in ds.label_names]
    if missing:
        raise ValueError(f"{run_dir}: labels {missing} are not in the data's {run['task']!r} label set")
    cols = [ds.label_names.index(c) for c in run["labels"]]
    idx = getattr(ds.split(cfg["test_fold"]), split)
    y = ds.labels[idx][:, cols]
    scores = predict_scores(model, make_inputs(model, ds.take(idx), progress), np.arange(len(idx)))
    pred = scores >= run["thresholds"]
    return {
        "run_dir": str(run_dir), "model": run["config"]["model"], "task": run["task"], "split": split,
        "test_fold": cfg["test_fold"],
        **score_metrics(y, scores, pred, run["labels"], run["descriptions"], n_boot, seed, run["thresholds"]),
        "n_parameters": run["config"]["summary"]["n_parameters"],
        "train_seconds": run["config"]["summary"]["train_seconds"],
        **({"y_true": y, "scores": scores, "predicted": pred} if keep_scores else {}),
    }


def score_metrics(y: np.ndarray, scores: np.ndarray, pred: np.ndarray, labels: list[str], descriptions: dict,
                  n_boot: int = 1000, seed: int = 0, thresholds=None, groups=None) -> dict:
    """Macro-AUC with its bootstrap CI, Fmax, and per class: support, AUC (CI), sensitivity and PPV of ``pred``.

    ``groups`` (cross-validation: each record's held-out fold): AUCs and Fmax
    are the means of the folds' own, CIs from resamples within each fold
    (:func:`~beatnet_core.metrics.fold_mean`); counts are over all records.
    """
    auc = fold_mean(per_class_auc, y, scores, groups)
    ci = bootstrap_ci(y, scores, n_boot=n_boot, seed=seed, groups=groups)
    per_class = []
    for k, code in enumerate(labels):
        tp = int((pred[:, k] & (y[:, k] == 1)).sum())
        per_class.append({
            "label": code, "description": descriptions.get(code, ""), "support": int(y[:, k].sum()),
            "auc": None if np.isnan(auc[k]) else float(auc[k]), "auc_ci95": ci["per_class_auc"][k],
            **({"threshold": float(thresholds[k])} if thresholds is not None else {}),
            "sensitivity": tp / max(1, int(y[:, k].sum())),
            "ppv": tp / max(1, int(pred[:, k].sum())),
        })
    return {"records": int(len(y)), "macro_auc": fold_mean(macro_auc, y, scores, groups),
            "macro_auc_ci95": ci["macro_auc"], "classes_evaluated": int(np.isfinite(auc).sum()),
            "fmax": fold_mean(fmax, y, scores, groups), "per_class": per_class,
            "bootstrap": {"n_boot": n_boot, "seed": seed}}


def format_evaluation(result: dict) -> str:
    lo, hi = result["macro_auc_ci95"]
    lines = [f"{result['model']} on {result['task']} ({result['split']}: {result['records']} records, "
             f"{result['classes_evaluated']} classes with positives)",
             f"  macro-AUC {result['macro_auc']:.4f} (95% CI {lo:.4f}-{hi:.4f}), Fmax {result['fmax']:.4f}",
             f"  {'label':<8} {'support':>7} {'AUC':>6} {'95% CI':>15}  description"]
    for row in result["per_class"]:
        if row["auc"] is None:
            lines.append(f"  {row['label']:<8} {row['support']:>7} {'-':>6} {'':>15}  {row['description']}")
            continue
        c = row["auc_ci95"]
        ci = f"{c[0]:.3f}-{c[1]:.3f}" if c[0] is not None else "-"
        lines.append(f"  {row['label']:<8} {row['support']:>7} {row['auc']:6.3f} {ci:>15}  {row['description']}")
    return "\n".join(lines)


def benchmark_ptbxl(data_dir, task: str, seeds: int = 3, models: list[str] | None = None,
                    runs_dir="runs/benchmark", report_dir="reports", n_boot: int = 1000, progress: bool = True,
                    test_folds: tuple[int, ...] = (10,), **train_overrides) -> dict:
    """Train and evaluate every model on one task over ``seeds`` seeds; write the report.

    ``train_overrides`` set :class:`~beatnet_core.train.TrainConfig` fields for
    every model alike (e.g. ``epochs``), so the training budget is the same.
    Other ``test_folds`` cross-validate: each fold is held out in turn
    (validation: the fold before it, :func:`~beatnet_core.data.ptbxl.fold_rotation`);
    every figure is the mean of the folds' own and the paired comparison
    resamples records within each fold (:func:`_cross_validated`), so it rests
    on all their records. The report is ``ptbxl_<task>_cv.md`` (the
    single-split report is left as it is).
    """
    from beatnet_core.model import MODELS
    from beatnet_core.train import TrainConfig, finished_with, load_task, train

    models = models or list(MODELS)
    test_folds = tuple(test_folds)
    if len(set(test_folds)) != len(test_folds):
        raise ValueError(f"test folds {list(test_folds)}: each fold can be held out once")
    ds = load_task(data_dir, task, TrainConfig.min_count, progress)
    results: dict[str, list[dict]] = {}
    for name in models:
        for seed in range(seeds):
            per_fold = []
            for fold in test_folds:
                cfg = TrainConfig(model=name, task=task, seed=seed, test_fold=fold, **train_overrides)
                run = benchmark_run_dir(runs_dir, task, name, seed, fold)
                summary = finished_with(run, cfg)
                if summary is None:   # resumable: a finished run with the same config is not trained again
                    summary = train(cfg, data_dir, run, progress=progress, dataset=ds)
                result = evaluate_run(run, data_dir, "test", n_boot=n_boot, seed=seed, progress=progress,
                                      dataset=ds, keep_scores=True)
                result["val_macro_auc"] = summary["val_macro_auc"]
                result["best_epoch"] = summary["best_epoch"]
                result["train_config"] = json.loads((run / "config.json").read_text())["train_config"]
                per_fold.append(result)
                if progress:
                    print(f"{name} seed {seed} test fold {fold}: test macro-AUC {result['macro_auc']:.4f}, "
                          f"{summary['train_seconds']:.0f} s", file=sys.stderr)
            results.setdefault(name, []).append(per_fold[0] if test_folds == (10,) else
                                                _cross_validated(per_fold, n_boot, seed))
    report = {"task": task, "seeds": seeds, "data_dir": str(data_dir), "records": len(ds),
              "test_folds": list(test_folds),
              "test_records": int(sum(len(ds.split(f).test) for f in test_folds)), "labels": ds.label_names,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch threads per run: "
                         f"{sorted({r['train_config']['threads'] for rs in results.values() for r in rs})}",
              "date": time.strftime("%Y-%m-%d"),
              "train_overrides": train_overrides, "models": {}}
    report["paired"] = _paired_differences(results, n_boot, progress)
    for name, rs in results.items():
        for r in rs:   # the arrays served the paired comparison; the JSON keeps the metrics
            for key in ("y_true", "scores", "predicted", "groups"):
                r.pop(key, None)
        aucs = np.array([r["macro_auc"] for r in rs])
        report["models"][name] = {
            "macro_auc_mean": float(aucs.mean()), "macro_auc_sd": float(aucs.std(ddof=1)) if len(aucs) > 1 else 0.0,
            "fmax_mean": float(np.mean([r["fmax"] for r in rs])),
            "val_macro_auc_mean": float(np.mean([r["val_macro_auc"] for r in rs])),
            "train_seconds_mean": float(np.mean([r["train_seconds"] for r in rs])),
            "n_parameters": rs[0]["n_parameters"], "runs": rs,
        }
    write_benchmark_report(report, Path(report_dir))
    return report


def benchmark_run_dir(runs_dir, task: str, model: str, seed: int, test_fold: int = 10) -> Path:
    """Where :func:`benchmark_ptbxl` keeps a run: ``<runs_dir>/<task>/<model>[_fold<k>]_seed<s>`` (fold 10: no tag)."""
    fold = "" if test_fold == 10 else f"_fold{test_fold}"
    return Path(runs_dir) / task / f"{model}{fold}_seed{seed}"


def _cross_validated(per_fold: list[dict], n_boot: int, seed: int) -> dict:
    """One model and seed over several held-out folds: the mean of the folds' own metrics.

    Each record is scored by the model that held its fold out (and flagged
    with that model's thresholds). AUCs and Fmax are the means over the folds
    of each fold's figure, never a ranking of one fold's scores against
    another's (each fold has its own model, calibrated differently); CIs come
    from resampling records within their fold. ``folds`` keeps every fold's
    own result; validation AUC, best epoch and training time are per-fold means.
    """
    first = per_fold[0]
    y, scores, pred = (np.concatenate([r[key] for r in per_fold]) for key in ("y_true", "scores", "predicted"))
    groups = np.concatenate([np.full(len(r["y_true"]), r["test_fold"]) for r in per_fold])
    labels = [row["label"] for row in first["per_class"]]
    descriptions = {row["label"]: row["description"] for row in first["per_class"]}
    folds = [{k: v for k, v in r.items() if k not in ("y_true", "scores", "predicted")} for r in per_fold]
    return {
        "model": first["model"], "task": first["task"], "split": "test",
        "test_folds": [r["test_fold"] for r in per_fold],
        **score_metrics(y, scores, pred, labels, descriptions, n_boot, seed, groups=groups),
        "n_parameters": first["n_parameters"],
        "train_seconds": float(np.mean([r["train_seconds"] for r in per_fold])),
        "val_macro_auc": float(np.mean([r["val_macro_auc"] for r in per_fold])),
        "best_epoch": float(np.mean([r["best_epoch"] for r in per_fold])),
        "train_config": {**first["train_config"], "test_fold": None},
        "folds": folds, "y_true": y, "scores": scores, "predicted": pred, "groups": groups,
    }


def _paired_differences(results: dict[str, list[dict]], n_boot: int, progress: bool) -> list[dict]:
    """The first model's test macro-AUC minus each other model's, paired on the same test records.

    Seeds are paired in order (each model's macro-AUC is its mean over seeds;
    cross-validated results carry ``groups``, and each macro-AUC is then the
    mean of the held-out folds', resampled within each fold);
    the CI comes from the same bootstrap resamples of the test records for
    both models, so it answers "is the gap bigger than the test set's noise?".
    """
    names = list(results)
    if len(names) < 2:
        return []
    reference = names[0]
    y, groups = results[reference][0]["y_true"], results[reference][0].get("groups")
    out = []
    for other in names[1:]:
        if not all(np.array_equal(r["y_true"], y) and np.array_equal(r.get("groups"), groups)
                   for r in results[other]):
            raise ValueError(f"{reference} and {other} were not scored on the same test records and labels")
        d = paired_bootstrap_difference(y, [r["scores"] for r in results[reference]],
                                        [r["scores"] for r in results[other]], n_boot=n_boot, seed=0, groups=groups)
        out.append({"model": reference, "minus": other, **d})
        if progress:
            print(f"{reference} - {other}: {d['difference']:+.4f} (95% CI {d['ci95'][0]:+.4f} to "
                  f"{d['ci95'][1]:+.4f})", file=sys.stderr)
    return out


def mean_and_sd(model: dict) -> str:
    """A benchmark model's test macro-AUC as text: mean +- sd over seeds (no sd from one seed)."""
    if len(model["runs"]) < 2:
        return f"{model['macro_auc_mean']:.4f} (1 seed)"
    return f"{model['macro_auc_mean']:.4f} +- {model['macro_auc_sd']:.4f}"


def seeds_text(n: int) -> str:
    """``3 seeds (0..2)``, ``1 seed (0)``: the seeds ``range(n)`` a benchmark trained with."""
    return f"{n} seeds (0..{n - 1})" if n > 1 else f"{n} seed (0)"


def write_benchmark_report(report: dict, report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    task, folds = report["task"], report.get("test_folds", [10])
    cv = folds != [10]   # cross-validated: its own report, the figures are the held-out folds' means
    stem = f"ptbxl_{task}_cv" if cv else f"ptbxl_{task}"
    (report_dir / f"{stem}.json").write_text(json.dumps(report, indent=2))
    if not cv:
        test = f"test = `strat_fold` 10 ({report['test_records']} records)"
    else:
        held_out = (f"cross-validation: test = `strat_fold` {', '.join(map(str, folds))} in turn, validation = "
                    f"the fold before each, training = the other eight ({report['test_records']} test records in "
                    "all, each scored by the model that did not train on it); every AUC and Fmax is the mean of "
                    "the held-out folds' own figures, its CI from bootstrap resamples drawn within each fold"
                    if len(folds) > 1 else
                    f"test = `strat_fold` {folds[0]} ({report['test_records']} records), validation = the fold "
                    "before it, training = the other eight")
        test = (f"{held_out}. Folds 1-8 "
                "hold records not validated by a cardiologist (folds 9 and 10 only validated ones; Wagner et "
                "al. 2020), so their labels are noisier and these figures are not comparable with a "
                "fold-10-only benchmark")
    title = "" if not cv else " (cross-validated)" if len(folds) > 1 else f" (test fold {folds[0]})"
    lines = [f"# PTB-XL benchmark: `{task}`{title}", "",
             f"Measured {report['date']} on {report['machine']}. Data: {report['records']} labelled records in "
             f"`{report['data_dir']}`; {test}; "
             f"{seeds_text(report['seeds'])}; training overrides: "
             f"`{report['train_overrides'] or 'none'}`.", "",
             "Command:", "",
             f"    beatnet benchmark ptbxl --task {task} --seeds {report['seeds']} --data {report['data_dir']}"
             + "".join(f" --{k.replace('_', '-')} {v}" for k, v in report["train_overrides"].items())
             + (" --test-folds " + " ".join(map(str, folds)) if cv else ""), "",
             "| model | parameters | test macro-AUC (mean +- sd) | per-seed test macro-AUC [95% CI] | "
             "val macro-AUC | Fmax | training time (wall clock, mean) |",
             "|---|---|---|---|---|---|---|"]
    for name, m in report["models"].items():
        per_seed = "; ".join(f"{r['macro_auc']:.4f} [{r['macro_auc_ci95'][0]:.3f}-{r['macro_auc_ci95'][1]:.3f}]"
                             for r in m["runs"])
        lines.append(f"| {name} | {m['n_parameters']:,} | {mean_and_sd(m)} | "
                     f"{per_seed} | {m['val_macro_auc_mean']:.4f} | {m['fmax_mean']:.4f} | "
                     f"{m['train_seconds_mean'] / 60:.1f} min |")
    if cv:
        lines += ["", "Test macro-AUC of each held-out fold (mean over seeds; records per fold in brackets):", "",
                  "| model | " + " | ".join(f"fold {f}" for f in folds) + " |", "|---|" + "---|" * len(folds)]
        for name, m in report["models"].items():
            cells = [f"{np.mean([r['folds'][k]['macro_auc'] for r in m['runs']]):.4f} "
                     f"[{m['runs'][0]['folds'][k]['records']}]" for k in range(len(folds))]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if report.get("paired"):
        n_boot = report["paired"][0]["n_boot"]
        lines += ["", "Paired difference in test macro-AUC (mean over seeds, seeds paired in order; 95% CI from "
                  f"{n_boot} bootstrap resamples of the test records"
                  + (" drawn within each held-out fold" if cv else "")
                  + ", the same resamples for both models: the uncertainty from the finite test set):", "",
                  "| comparison | difference | 95% CI | resamples where the first is better |", "|---|---|---|---|"]
        for d in report["paired"]:
            lo, hi = d["ci95"]
            lines.append(f"| {d['model']} - {d['minus']} | {d['difference']:+.4f} | {lo:+.4f} to {hi:+.4f} | "
                         f"{100 * d['share_a_better']:.0f} % |")
    lines += ["", "Per-class test AUC (seed 0" + ("; mean of the folds' own" if cv else "")
              + ") with support:", "",
              "| label | support | " + " | ".join(report["models"]) + " |",
              "|---|---|" + "---|" * len(report["models"])]
    first = next(iter(report["models"].values()))["runs"][0]["per_class"]
    for k, row in enumerate(first):
        cells = []
        for m in report["models"].values():
            auc = m["runs"][0]["per_class"][k]["auc"]
            cells.append("-" if auc is None else f"{auc:.3f}")
        lines.append(f"| {row['label']} | {row['support']} | " + " | ".join(cells) + " |")
    path = report_dir / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def unlearnt_statements(data_dir, task: str, learnt, train_ids) -> list[tuple[str, str, int]]:
    """The labels of ``task`` that a model lacks (too rare to train), with description and training count.

    ``learnt``: the model's labels; ``train_ids``: the ``ecg_id`` of its training records.
    Sorted by training count, most first; labels with no record in ``data_dir`` at all are left out.
    """
    from beatnet_core.data.labels import describe_label
    from beatnet_core.train import load_task

    learnt, train_ids = set(learnt), np.asarray(list(train_ids))
    rows = []
    for part in task.split("+"):   # each label set on its own: a description depends on it (STTC, NORM)
        ds = load_task(data_dir, part, min_count=1, progress=False)
        counts = ds.labels[np.isin(ds.ecg_id, train_ids)].sum(axis=0)
        rows += [(code, describe_label(code, Path(data_dir), part), int(n))
                 for code, n in zip(ds.label_names, counts) if code not in learnt]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def write_model_card(result: dict, run_dir, out_path, command: str, training_note: str = "", data_dir=None) -> Path:
    """``MODEL_CARD.md`` for a shipped run: its data, intended use, measured test metrics with CIs, limits.

    Every figure in the card comes from ``result`` (an :func:`evaluate_run` output) and the run's own files;
    with ``data_dir`` (the PTB-XL folder it was trained from) the limits also name the statements of its
    task that were too rare to learn, with their training counts.
    """
    from beatnet_core.data.ptbxl import fold_rotation
    from beatnet_core.train import saved_model_config, saved_train_config

    run = Path(run_dir)
    config = json.loads((run / "config.json").read_text())
    train_folds, (val_fold,), (test_fold,) = fold_rotation(saved_train_config(config)["test_fold"])
    contiguous = train_folds == tuple(range(train_folds[0], train_folds[-1] + 1))
    train_folds = (f"folds {train_folds[0]}-{train_folds[-1]}" if contiguous
                   else "folds " + ", ".join(map(str, train_folds)))
    labels = json.loads((run / "labels.json").read_text())
    spec = json.loads((run / "conditioning.json").read_text())
    splits = json.loads((run / "splits.json").read_text())
    summary = config["summary"]
    model_config = saved_model_config(config)
    pooled = ("; its reading is also added to each beat vector, so lead attention splits the leads' part of it"
              if model_config.get("whole_beat_pooled") else "")
    whole_beat = (" (each lead also attends to a whole-beat token: a CNN of the same design, with its own "
                  f"weights, reading all 12 leads of the beat at once{pooled})"
                  if model_config.get("whole_beat_token") else "")
    rhythm_summary = (" The head also reads the record's rate and RR regularity (log mean RR, coefficient of "
                      "variation, RMSSD / mean, longest / shortest interval, from the detected beats), added to "
                      "the beat-pooled record vector; beat attention splits the beats' part of it."
                      if model_config.get("rhythm_summary") else "")
    rr_limit = ("\n- The rate and RR regularity the model reads come from the detected R peaks: a missed or "
                "false beat moves them (the robustness study's noise and electrode-motion corruptions reach the model "
                "through the detector this way)."
                if model_config.get("rhythm_summary") else "")
    rare = ""
    if data_dir is not None:
        unlearnt = unlearnt_statements(data_dir, labels["task"], labels["labels"], splits["train"])
        if unlearnt:
            listed = "; ".join(f"{code}, {description}: {n} training record{'s' * (n != 1)}"
                               for code, description, n in unlearnt)
            example = " (a paced rhythm read as another rhythm, for instance)" if "PACE" in {r[0] for r in unlearnt} else ""
            rare = ("\n- Labels of this task too rare here to learn (not outputs): " + listed + ". A record "
                    "showing one of them is still given the learnt labels that fit it best, which can be "
                    f"wrong{example}: compare with the reference.")
    lo, hi = result["macro_auc_ci95"]
    rows = []
    for r in result["per_class"]:
        if r["auc"] is None:
            rows.append(f"| {r['label']} | {r['description']} | {r['support']} | - (no test positives) | - | - |")
            continue
        ci = r["auc_ci95"]
        ci_text = f"{ci[0]:.3f}-{ci[1]:.3f}" if ci[0] is not None else "-"
        rows.append(f"| {r['label']} | {r['description']} | {r['support']} | {r['auc']:.3f} | {ci_text} | "
                    f"{r['sensitivity']:.2f} / {r['ppv']:.2f} |")
    text = f"""# BEAT-Net model card

**Not a medical device.** This model is for education and research. It must
not be used to diagnose, treat or triage patients.

## Model
BEAT-Net (after Ma & Liao, arXiv 2601.07316): a beat encoder (1-D CNN shared
across leads) embeds every lead of every heartbeat token, lead attention mixes
the 12 leads of each beat{whole_beat}, a transformer over the beats (positions from beat
times and RR intervals) models the rhythm, and beat attention pools the record
into a multi-label head.{rhythm_summary} {summary['n_parameters']:,} parameters. Files in this
folder: `weights.safetensors` (loaded without pickle), `config.json`,
`labels.json`, `thresholds.json` (per-label thresholds maximising F1 on the
validation fold), `conditioning.json`, `train_log.csv`, `splits.json`.

## Training data
PTB-XL 1.0.3 (Wagner et al., Scientific Data 7, 154, 2020; CC BY 4.0): the
{len(splits['train']) + len(splits['val']) + len(splits['test'])} records with a label of task
`{labels['task']}` among the 2,285 whose signals are in the project's shared data (records
1-500 in the original raw layout, 1,819 further records as an amplitude-normalised
250 Hz subset). Splits by `strat_fold`: {len(splits['train'])} training records ({train_folds}),
{len(splits['val'])} validation (fold {val_fold}: early stopping and thresholds), {len(splits['test'])} test
(fold {test_fold}).
Preprocessing (the same function at inference): {spec['order']}th-order Butterworth band-pass
{spec['band'][0]}-{spec['band'][1]} Hz, zero phase; per-lead z-score over the record; resampling to
{spec['fs']:g} Hz; beats cut by the fused multi-lead QRS detector into windows from 0.256 s before
to 0.448 s after each R peak. Training: {summary['epochs_run']} epochs (best: {summary['best_epoch']}),
{summary['train_seconds'] / 60:.1f} min on a 2-core CPU{training_note}; configuration in `config.json`.

Labels ({len(labels['labels'])}): {', '.join(f"{c} ({labels['descriptions'].get(c, '')})" for c in labels['labels'])}.

## Test results (PTB-XL fold {test_fold}, {result['records']} records)
Macro-AUC over the {result['classes_evaluated']} labels with test positives:
**{result['macro_auc']:.3f}** (95% bootstrap CI {lo:.3f}-{hi:.3f}, {result['bootstrap']['n_boot']} resamples);
Fmax {result['fmax']:.3f}.

| label | description | test positives | AUC | 95% CI | sensitivity / PPV at threshold |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Labels with few test positives have wide intervals: read them as such.
Reproduce: `{command}`

## Intended use
Teaching ECG interpretation (showing which leads and beats a model relies on,
next to clinical criteria) and research on interpretable ECG models.
Not for clinical decisions, screening or monitoring.

## Known limits
- Trained on 10 s resting 12-lead ECGs from one German dataset (PTB-XL, mostly
  Schiller devices, 1989-1996); other populations, devices and settings may differ.
- Inputs are z-scored per lead, as the training subset was: absolute voltages are
  lost, so voltage criteria (LVH, low voltage) are weak and hypertrophy is
  recognised from shape alone.
- Only {len(splits['train'])} training records (about 8 % of PTB-XL): rare diagnoses are
  unreliable or absent; labels not listed above are never predicted.{rare}
- Beat tokens need detectable QRS complexes: records where the detector finds no beat
  are refused; very noisy records give unreliable beats and predictions.
- Attention shows what the model weighted, not why; it is not a clinical explanation.{rr_limit}
- Thresholds were tuned on {len(splits['val'])} validation records; probabilities are not calibrated.
"""
    out = Path(out_path)
    out.write_text(text)
    return out
