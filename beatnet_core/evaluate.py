"""Evaluate trained runs, and benchmark every model side by side on PTB-XL.

``beatnet evaluate RUN_DIR --split test [--json FILE]``: macro-AUC over the
classes with positives in the split, per-class AUC with support, Fmax, and 95 %
bootstrap confidence intervals (1000 resamples of the records).

``beatnet benchmark ptbxl --task TASK --seeds 3``: trains and evaluates every
model in :data:`beatnet_core.model.MODELS` with the same harness, and writes
``reports/ptbxl_<task>.md`` and ``.json``: mean +- sd over seeds, wall-clock
training time, parameter counts, and the commands.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from beatnet_core.metrics import bootstrap_ci, fmax, macro_auc, per_class_auc

SPLITS = ("train", "val", "test")


def evaluate_run(run_dir, data_dir, split: str = "test", n_boot: int = 1000, seed: int = 0,
                 progress: bool = True, dataset=None) -> dict:
    """Metrics of a run directory on one split of the PTB-XL records in ``data_dir``."""
    from beatnet_core.train import load_run, load_task, make_inputs, predict_scores

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    model, run = load_run(run_dir)
    cfg = run["config"]["train_config"]
    ds = dataset if dataset is not None else load_task(data_dir, run["task"], cfg["min_count"], progress)
    missing = [c for c in run["labels"] if c not in ds.label_names]
    if missing:
        raise ValueError(f"{run_dir}: labels {missing} are not in the data's {run['task']!r} label set")
    cols = [ds.label_names.index(c) for c in run["labels"]]
    idx = getattr(ds.split(), split)
    y = ds.labels[idx][:, cols]
    scores = predict_scores(model, make_inputs(model, ds.take(idx), progress), np.arange(len(idx)))
    auc = per_class_auc(y, scores)
    ci = bootstrap_ci(y, scores, n_boot=n_boot, seed=seed)
    thresholds = run["thresholds"]
    pred = scores >= thresholds
    per_class = []
    for k, code in enumerate(run["labels"]):
        tp = int((pred[:, k] & (y[:, k] == 1)).sum())
        per_class.append({
            "label": code, "description": run["descriptions"].get(code, ""), "support": int(y[:, k].sum()),
            "auc": None if np.isnan(auc[k]) else float(auc[k]), "auc_ci95": ci["per_class_auc"][k],
            "threshold": float(thresholds[k]),
            "sensitivity": tp / max(1, int(y[:, k].sum())),
            "ppv": tp / max(1, int(pred[:, k].sum())),
        })
    return {
        "run_dir": str(run_dir), "model": run["config"]["model"], "task": run["task"], "split": split,
        "records": int(len(idx)), "macro_auc": macro_auc(y, scores), "macro_auc_ci95": ci["macro_auc"],
        "classes_evaluated": int(np.isfinite(auc).sum()), "fmax": fmax(y, scores),
        "per_class": per_class, "bootstrap": {"n_boot": n_boot, "seed": seed},
        "n_parameters": run["config"]["summary"]["n_parameters"],
        "train_seconds": run["config"]["summary"]["train_seconds"],
    }


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
                    **train_overrides) -> dict:
    """Train and evaluate every model on one task over ``seeds`` seeds; write the report.

    ``train_overrides`` set :class:`~beatnet_core.train.TrainConfig` fields for
    every model alike (e.g. ``epochs``), so the training budget is the same.
    """
    from beatnet_core.model import MODELS
    from beatnet_core.train import TrainConfig, load_task, train

    models = models or list(MODELS)
    ds = load_task(data_dir, task, TrainConfig.min_count, progress)
    results: dict[str, list[dict]] = {}
    for name in models:
        for seed in range(seeds):
            cfg = TrainConfig(model=name, task=task, seed=seed, **train_overrides)
            run = Path(runs_dir) / task / f"{name}_seed{seed}"
            summary = train(cfg, data_dir, run, progress=progress, dataset=ds)
            result = evaluate_run(run, data_dir, "test", n_boot=n_boot, seed=seed, progress=progress, dataset=ds)
            result["val_macro_auc"] = summary["val_macro_auc"]
            result["best_epoch"] = summary["best_epoch"]
            result["train_config"] = json.loads((run / "config.json").read_text())["train_config"]
            results.setdefault(name, []).append(result)
            if progress:
                print(f"{name} seed {seed}: test macro-AUC {result['macro_auc']:.4f}, "
                      f"{summary['train_seconds']:.0f} s", file=sys.stderr)
    report = {"task": task, "seeds": seeds, "data_dir": str(data_dir), "records": len(ds),
              "test_records": int(len(ds.split().test)), "labels": ds.label_names,
              "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, torch threads "
                         f"{TrainConfig.threads}", "date": time.strftime("%Y-%m-%d"),
              "train_overrides": train_overrides, "models": {}}
    for name, rs in results.items():
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


def write_benchmark_report(report: dict, report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    task = report["task"]
    (report_dir / f"ptbxl_{task}.json").write_text(json.dumps(report, indent=2))
    lines = [f"# PTB-XL benchmark: `{task}`", "",
             f"Measured {report['date']} on {report['machine']}. Data: {report['records']} labelled records in "
             f"`{report['data_dir']}`; test = `strat_fold` 10 ({report['test_records']} records); "
             f"{report['seeds']} seeds (0..{report['seeds'] - 1}); training overrides: "
             f"`{report['train_overrides'] or 'none'}`.", "",
             "Command:", "",
             f"    beatnet benchmark ptbxl --task {task} --seeds {report['seeds']} --data {report['data_dir']}"
             + "".join(f" --{k.replace('_', '-')} {v}" for k, v in report["train_overrides"].items()), "",
             "| model | parameters | test macro-AUC (mean +- sd) | per-seed test macro-AUC [95% CI] | "
             "val macro-AUC | Fmax | training time |",
             "|---|---|---|---|---|---|---|"]
    for name, m in report["models"].items():
        per_seed = "; ".join(f"{r['macro_auc']:.4f} [{r['macro_auc_ci95'][0]:.3f}-{r['macro_auc_ci95'][1]:.3f}]"
                             for r in m["runs"])
        lines.append(f"| {name} | {m['n_parameters']:,} | {m['macro_auc_mean']:.4f} +- {m['macro_auc_sd']:.4f} | "
                     f"{per_seed} | {m['val_macro_auc_mean']:.4f} | {m['fmax_mean']:.4f} | "
                     f"{m['train_seconds_mean'] / 60:.1f} min |")
    lines += ["", "Per-class test AUC (seed 0) with support:", "",
              "| label | support | " + " | ".join(report["models"]) + " |",
              "|---|---|" + "---|" * len(report["models"])]
    first = next(iter(report["models"].values()))["runs"][0]["per_class"]
    for k, row in enumerate(first):
        cells = []
        for m in report["models"].values():
            auc = m["runs"][0]["per_class"][k]["auc"]
            cells.append("-" if auc is None else f"{auc:.3f}")
        lines.append(f"| {row['label']} | {row['support']} | " + " | ".join(cells) + " |")
    path = report_dir / f"ptbxl_{task}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
