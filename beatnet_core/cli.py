"""The ``beatnet`` command: thin wrappers around the library, one function per subcommand.

Each subcommand is registered by an ``_add_<name>(subparsers)`` function below
and runs a ``_run_<name>(args)`` function; the work itself lives in the library.
"""
from __future__ import annotations

import argparse
import sys

from beatnet_core.ecg import ECGFormatError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="beatnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _SUBCOMMANDS:
        add(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ECGFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


_SUBCOMMANDS: list = []


def subcommand(add):
    """Register a function that adds one subcommand's parser."""
    _SUBCOMMANDS.append(add)
    return add


@subcommand
def _add_inspect(sub):
    p = sub.add_parser("inspect", help="read ECG files; print leads, quality flags, beats and heart rate")
    p.add_argument("files", nargs="+", help="ECG files (WFDB .hea, CSV, NPY, EDF, DICOM)")
    p.add_argument("--fs", type=float, default=None, help="sampling rate for formats that lack one")
    p.set_defaults(func=_run_inspect)


def _run_inspect(args) -> int:
    import numpy as np

    from beatnet_core import load_ecg, tokenize
    from beatnet_core.signal import quality_flags

    status = 0
    for path in args.files:
        try:
            ecg = load_ecg(path, fs=args.fs)
            tokens = tokenize(ecg)
        except ECGFormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        rr = np.diff(tokens.r_times)
        hr = 60.0 / np.median(rr) if rr.size else float("nan")
        print(f"{ecg!r}")
        for key in ("age", "sex", "diagnoses"):
            if ecg.meta.get(key) is not None:
                print(f"  {key}: {ecg.meta[key]}")
        if ecg.meta.get("derived_leads"):
            print(f"  derived leads: {ecg.meta['derived_leads']}")
        flags = {k: v for k, v in quality_flags(ecg).items() if v}
        print(f"  lead quality: {flags or 'all leads clean'}")
        print(f"  beats: {tokens.n_beats}, median heart rate {hr:.0f} bpm, "
              f"RR sd {1000 * rr.std() if rr.size else float('nan'):.0f} ms")
        print(f"  tokens: {tokens.windows.shape} (beats x leads x samples at {tokens.fs:g} Hz, "
              f"{tokens.window_s[0]:.3f} s before to {tokens.window_s[1]:.3f} s after each R peak)")
    return status


@subcommand
def _add_bench(sub):
    p = sub.add_parser("bench", help="benchmarks: QRS detection accuracy, tokenizer, prediction and training speed")
    bench = p.add_subparsers(dest="bench", required=True)
    q = bench.add_parser("qrs", help="QRS detection vs cardiologist / official annotations")
    q.add_argument("--dataset", choices=["ludb", "mitdb"], required=True)
    q.add_argument("--data-dir", required=True, help="LUDB folder (with data/) or MIT-BIH folder")
    q.add_argument("--json", default=None, help="also write the figures to this JSON file")
    q.set_defaults(func=_run_bench_qrs)
    t = bench.add_parser("tokenize", help="median time of tokenize() on 10 s 12-lead 500 Hz LUDB records")
    t.add_argument("--data-dir", required=True, help="LUDB folder")
    t.add_argument("--records", type=int, default=50)
    t.add_argument("--threads", type=int, default=1)
    t.set_defaults(func=_run_bench_tokenize)
    pr = bench.add_parser("predict", help="prediction speed: one record on one core, and batch records/s")
    pr.add_argument("--data-dir", required=True, help="LUDB folder")
    pr.add_argument("--model", default=None, help="run directory (default: the bundled model)")
    pr.add_argument("--records", type=int, default=50)
    pr.set_defaults(func=_run_bench_predict)
    tr = bench.add_parser("train", help="seconds per training step of every model, in float32 and bfloat16")
    tr.add_argument("--data", required=True, help="PTB-XL folder")
    tr.add_argument("--threads", type=int, default=2)
    tr.add_argument("--steps", type=int, default=8)
    tr.set_defaults(func=_run_bench_train)


def _run_bench_qrs(args) -> int:
    from beatnet_core.bench.qrs import run_qrs_benchmark

    run_qrs_benchmark(args.dataset, args.data_dir, args.json)
    return 0


def _run_bench_tokenize(args) -> int:
    from beatnet_core.bench.speed import bench_tokenize

    r = bench_tokenize(args.data_dir, n_records=args.records, threads=args.threads)
    print(f"tokenize ({r['shape']}, {r['records']} records x {r['repeats']}, {r['threads']} thread(s)): "
          f"median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms")
    return 0


def _run_bench_predict(args) -> int:
    from beatnet_core.bench.speed import bench_predict

    r = bench_predict(args.data_dir, model=args.model, n_records=args.records)
    print(f"predict one 10 s 12-lead 500 Hz record (tokenize + model + attention, 1 core): "
          f"median {r['single_median_ms']:.1f} ms, p95 {r['single_p95_ms']:.1f} ms")
    print(f"batch prediction ({r['records']} records x {r['repeats']}, batches of {r['batch_size']}, "
          f"{r['batch_threads']} threads): {r['batch_records_per_s']:.0f} records/s")
    return 0


def _run_bench_train(args) -> int:
    from beatnet_core.bench.speed import bench_train_step

    rows = bench_train_step(args.data, threads=args.threads, steps=args.steps)
    steps_per_epoch = rows[0]["steps_per_epoch"]
    print(f"training step, batch {rows[0]['batch_size']}, {args.threads} thread(s); an epoch of the "
          f"superdiagnostic training folds is {steps_per_epoch} steps (validation not included)")
    for r in rows:
        print(f"  {r['model']:<14} {r['dtype']:<9} {r['seconds_per_step']:.3f} s/step  "
              f"~{r['seconds_per_step'] * steps_per_epoch:.0f} s/epoch")
    return 0


@subcommand
def _add_data(sub):
    p = sub.add_parser("data", help="training data: download PTB-XL")
    data = p.add_subparsers(dest="data", required=True)
    d = data.add_parser("download", help="download and verify the official PTB-XL v1.0.3 release (resumable)")
    d.add_argument("dataset", choices=["ptbxl"], help="dataset to download")
    d.add_argument("--to", required=True, metavar="DIR", help="target directory (created; re-runs resume)")
    d.add_argument("--base-url", default=None, metavar="URL",
                   help="release URL holding SHA256SUMS.txt (default: PhysioNet's PTB-XL 1.0.3)")
    d.add_argument("--records", choices=["both", "500", "100"], default="both",
                   help="signal files to fetch: both rates, or only records500/ or records100/ (default: both)")
    d.add_argument("--workers", type=int, default=4, help="files fetched at the same time (default: 4)")
    d.set_defaults(func=_run_data_download)


def _run_data_download(args) -> int:
    from beatnet_core.data.download import PTBXL_BASE_URL, DownloadError, download_ptbxl

    try:
        report = download_ptbxl(args.to, args.base_url or PTBXL_BASE_URL, records=args.records,
                                workers=args.workers)
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


@subcommand
def _add_train(sub):
    from beatnet_core.model import MODELS
    from beatnet_core.train import PRECISIONS, TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="train one model on PTB-XL (writes a run directory)")
    p.add_argument("--model", choices=sorted(MODELS), default=d.model)
    p.add_argument("--task", default=d.task, help="superdiagnostic, subdiagnostic, diagnostic, form, rhythm, all, "
                                                 "or several joined by '+' (e.g. superdiagnostic+rhythm)")
    p.add_argument("--data", required=True, help="PTB-XL folder (official layout and/or the shared subset)")
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--label-fraction", type=float, default=d.label_fraction)
    p.add_argument("--test-fold", type=int, choices=range(1, 11), default=d.test_fold, metavar="K",
                   help="strat_fold held out for test (validation: the fold before it); default 10, the benchmark's")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--min-count", type=int, default=d.min_count)
    p.add_argument("--pos-weight", choices=["none", "sqrt", "full"], default=d.pos_weight)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="training arithmetic: bf16 autocast is ~2x faster on CPUs with native bfloat16 "
                        "(auto: bf16 only there)")
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:
    from beatnet_core.train import TrainConfig, train

    cfg = TrainConfig(model=args.model, task=args.task, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, patience=args.patience, label_fraction=args.label_fraction, seed=args.seed,
                      test_fold=args.test_fold,
                      min_count=args.min_count, pos_weight=args.pos_weight, threads=args.threads,
                      max_minutes=args.max_minutes, precision=args.precision)
    summary = train(cfg, args.data, args.out)
    print(f"best epoch {summary['best_epoch']}: validation macro-AUC {summary['val_macro_auc']:.4f}; "
          f"{summary['train_seconds'] / 60:.1f} min; run written to {args.out}")
    return 0


@subcommand
def _add_evaluate(sub):
    p = sub.add_parser("evaluate", help="metrics of a trained run with bootstrap confidence intervals")
    p.add_argument("run_dir")
    p.add_argument("--data", required=True, help="PTB-XL folder")
    p.add_argument("--split", choices=["train", "val", "test"], default="test")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--json", default=None, help="also write the figures to this JSON file")
    p.add_argument("--model-card", default=None, metavar="PATH",
                   help="also write the run's model card (test split only), e.g. assets/MODEL_CARD.md")
    p.add_argument("--training-note", default="",
                   help="model card: a remark after the training time (e.g. how the machine was shared)")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    import json
    from pathlib import Path

    from beatnet_core.evaluate import evaluate_run, format_evaluation, write_model_card

    if args.model_card and args.split != "test":
        raise SystemExit("beatnet evaluate: --model-card reports the test split; drop --split or use --split test")
    result = evaluate_run(args.run_dir, args.data, args.split, n_boot=args.n_boot)
    print(format_evaluation(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if args.model_card:
        saved = json.loads((Path(args.run_dir) / "config.json").read_text())
        evaluate = " ".join(["beatnet evaluate", args.run_dir, "--data", args.data]
                            + (["--n-boot", str(args.n_boot)] if args.n_boot != 1000 else [])
                            + (["--json", args.json] if args.json else []) + ["--model-card", args.model_card])
        command = f"{_train_command(saved, args.data, args.run_dir)} && {evaluate}"
        write_model_card(result, args.run_dir, args.model_card, command, args.training_note,
                         data_dir=args.data)
        print(f"model card written to {args.model_card}")
    return 0


def _train_command(saved: dict, data: str, out: str) -> str:
    """The ``beatnet train`` command line that trains a run like this one (its saved ``config.json``)."""
    from beatnet_core.train import TrainConfig, model_config_of, saved_model_config

    train_config, default = saved["train_config"], TrainConfig()
    words = ["beatnet train", "--model", train_config["model"], "--task", train_config["task"],
             "--data", data, "--out", out]
    options = ("epochs", "seed", "label_fraction", "test_fold", "batch_size", "lr", "patience", "min_count",
               "pos_weight", "max_minutes", "threads", "precision")
    other = {}
    for name, value in train_config.items():
        if name in ("model", "task") or value == getattr(default, name, value):
            continue
        if name in options:
            words += [f"--{name.replace('_', '-')}", str(value)]
        else:
            other[name] = value
    # a run saved by older code may differ from today's model defaults (e.g. no whole-beat token)
    model = saved_model_config(saved)
    today = model_config_of(saved["model"], model["n_classes"])
    changed = {k: v for k, v in model.items() if k != "n_classes" and today.get(k) != v
               and k not in train_config.get("model_overrides", {})}
    if changed:
        other["model_overrides"] = {**other.get("model_overrides", {}), **changed}
    if other:   # set from Python (TrainConfig), not on the command line
        words.append(f"(and TrainConfig {other}, which have no command-line option)")
    return " ".join(words)


@subcommand
def _add_benchmark(sub):
    from beatnet_core.train import PRECISIONS

    p = sub.add_parser("benchmark", help="train + evaluate every model side by side; write reports/")
    p.add_argument("dataset", choices=["ptbxl"])
    p.add_argument("--task", default="superdiagnostic")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--data", required=True, help="PTB-XL folder")
    p.add_argument("--models", nargs="*", default=None, help="default: every registered model")
    p.add_argument("--epochs", type=int, default=None, help="same budget for every model")
    p.add_argument("--threads", type=int, default=None, help="torch threads per training run")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="training arithmetic of every model (default fp32)")
    p.add_argument("--test-folds", type=int, nargs="+", choices=range(1, 11), default=[10], metavar="K",
                   help="strat_folds held out in turn (cross-validation; report ptbxl_<task>_cv.md); default 10")
    p.add_argument("--runs-dir", default="runs/benchmark",
                   help="finished runs found here with the same config are evaluated, not retrained (others are "
                        "retrained in place: fold-10 runs are shared with the single-split benchmark)")
    p.add_argument("--report-dir", default="reports")
    p.set_defaults(func=_run_benchmark)


def _run_benchmark(args) -> int:
    from beatnet_core.evaluate import benchmark_ptbxl, mean_and_sd

    overrides = {k: v for k, v in (("epochs", args.epochs), ("threads", args.threads),
                                   ("precision", args.precision)) if v}
    report = benchmark_ptbxl(args.data, args.task, args.seeds, args.models, args.runs_dir, args.report_dir,
                             test_folds=tuple(args.test_folds), **overrides)
    for name, m in report["models"].items():
        print(f"{name:<14} test macro-AUC {mean_and_sd(m)} "
              f"({m['n_parameters']:,} parameters, {m['train_seconds_mean'] / 60:.1f} min)")
    return 0


@subcommand
def _add_predict(sub):
    p = sub.add_parser("predict", help="diagnose ECG files with the bundled (or a given) model")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default=None, help="run directory (default: the bundled model)")
    p.add_argument("--fs", type=float, default=None, help="sampling rate for formats that lack one")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.set_defaults(func=_run_predict)


def _run_predict(args) -> int:
    import json

    from tqdm import tqdm

    from beatnet_core import BeatNetPredictor, load_ecg

    predictor = BeatNetPredictor.load(args.model)
    status = 0
    bar = tqdm(total=len(args.files), desc="predict", unit="file", disable=len(args.files) < 10, file=sys.stderr)
    for start in range(0, len(args.files), args.batch_size):
        ecgs = []
        for path in args.files[start:start + args.batch_size]:
            try:
                ecgs.append(load_ecg(path, fs=args.fs))
            except ECGFormatError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 2
        try:
            preds = predictor.predict_many(ecgs)
        except ECGFormatError:   # one record without beats: fall back to one by one
            preds = []
            for ecg in ecgs:
                try:
                    preds.append(predictor.predict(ecg))
                except ECGFormatError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    status = 2
        for pred in preds:
            if args.json:
                print(json.dumps(pred.to_dict()))
                continue
            top = sorted(pred.probabilities.items(), key=lambda kv: -kv[1])[:5]
            print(f"{pred.source}: {', '.join(pred.labels) or '(no label over its threshold)'}")
            for code, p in top:
                mark = "*" if code in pred.labels else " "
                print(f"  {mark} {code:<7} {p:6.3f}  {pred.descriptions.get(code, '')}")
        bar.update(len(args.files[start:start + args.batch_size]))
    bar.close()
    return status


@subcommand
def _add_experiments(sub):
    from beatnet_core.train import PRECISIONS

    p = sub.add_parser("experiments", help="reproduce the paper's claims side by side with the CNNs "
                                           "(label efficiency, robustness, attention, LUDB); write reports/")
    studies = p.add_subparsers(dest="study", required=True)
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--data", default="../shared/data", help="data folder with ptbxl/ and ludb/ "
                                                                 "(default: ../shared/data)")
    shared.add_argument("--out", default="reports", help="report folder; its README.md is merged, not replaced")
    shared.add_argument("--runs-dir", default="runs/experiments",
                        help="training runs of the label-efficiency study (written there, reused by the others)")
    shared.add_argument("--quick", action="store_true",
                        help="smoke run (few records, tiny models, 1 epoch) into <out>/quick and <runs-dir>/quick")
    shared.add_argument("--max-records", type=int, default=None, help="use only about this many records")
    shared.add_argument("--no-progress", action="store_true", help="no progress bars")
    shared.add_argument("--threads", type=int, default=None, help="torch threads (default 2; --quick: 1)")
    training = argparse.ArgumentParser(add_help=False)
    training.add_argument("--models", nargs="+", default=None, help="default: beatnet xresnet1d101")
    training.add_argument("--fractions", nargs="+", type=float, default=None, metavar="PERCENT",
                          help="label fractions in percent (default: 5 10 20 30 35 50 75 100)")
    training.add_argument("--seeds", nargs="+", type=int, default=None, help="default: 0 1 2")
    training.add_argument("--epochs", type=int, default=None, help="BEAT-Net epochs at 100%% of the labels (12)")
    training.add_argument("--cnn-epochs", type=int, default=None, help="CNN epochs at 100%% of the labels (15)")
    training.add_argument("--min-steps", type=int, default=None, help="optimiser steps at least, small fractions (60)")
    training.add_argument("--max-epochs", type=int, default=None, help="epochs at most (20)")
    training.add_argument("--patience", type=int, default=None, help="early-stopping patience (4)")
    training.add_argument("--batch-size", type=int, default=None)
    training.add_argument("--lr", type=float, default=None)
    training.add_argument("--precision", choices=PRECISIONS, default=None,
                          help="training arithmetic (auto: bfloat16 where the CPU has it natively)")
    training.add_argument("--budget-minutes", type=float, default=None,
                          help="wall-clock budget shared by the training runs (all: of the whole run, 60)")
    a = studies.add_parser("all", parents=[shared, training], help="the four studies in order (< 60 min, 2 CPUs)")
    a.add_argument("--attention-runs", nargs="+", default=None,
                   help="BEAT-Net runs for the attention study (default: the 100%% label-efficiency runs)")
    a.add_argument("--model", default=None, help="model of the external study (default: the shipped model)")
    a.add_argument("--n-boot", type=int, default=None)
    studies.add_parser("label-efficiency", parents=[shared, training],
                       help="BEAT-Net and the CNN on nested stratified fractions of the labels, several seeds")
    r = studies.add_parser("robustness", parents=[shared], help="macro-AUC drop under test-time corruptions")
    r.add_argument("--runs", nargs="+", default=None, help="run dirs (default: the 100%% runs in --runs-dir)")
    r.add_argument("--groups", nargs="+", choices=["raw", "subset"], default=None)
    r.add_argument("--seed", type=int, default=None, help="corruption seed (0)")
    t = studies.add_parser("attention", parents=[shared], help="lead attention per label, Lead II, attribution")
    t.add_argument("--runs", nargs="+", default=None, help="BEAT-Net run dirs (default: 100%% runs in --runs-dir)")
    t.add_argument("--attribution", choices=["ablation", "integrated_gradients"], default=None)
    t.add_argument("--min-support", type=int, default=None)
    e = studies.add_parser("external", parents=[shared], help="the shipped model on the 200 LUDB records")
    e.add_argument("--model", default=None, help="run dir (default: the shipped model)")
    e.add_argument("--extra-runs", nargs="+", default=None, help="more runs (e.g. CNNs) to score side by side")
    e.add_argument("--n-boot", type=int, default=None)
    p.set_defaults(func=_run_experiments)


def _run_experiments(args) -> int:
    from pathlib import Path

    from beatnet_core import experiments as ex
    from beatnet_core.experiments.common import STUDY_FILES, cli_command

    fixed = ("func", "command", "study", "data", "out", "runs_dir", "quick", "no_progress")
    opts = {k: v for k, v in vars(args).items() if k not in fixed and v is not None}
    command = cli_command(args.study, {"data": args.data, "out": args.out, "runs_dir": args.runs_dir,
                                       "quick": args.quick, **opts})
    if "fractions" in opts:
        opts["fractions"] = [f / 100 for f in opts["fractions"]]
    progress = not args.no_progress
    if args.study == "all":
        result = ex.run_all(args.data, args.out, args.runs_dir, quick=args.quick, progress=progress,
                            command=command, **opts)
        for name, seconds in result["study_seconds"].items():
            status = f"FAILED: {result['errors'][name]}" if name in result["errors"] else "ok"
            print(f"{name:<17} {seconds / 60:5.1f} min  {status}")
        print(f"reports in {result['out_dir']} (summary: {Path(result['out_dir']) / 'README.md'}); "
              f"{result['runtime_seconds'] / 60:.1f} min")
        return 1 if result["errors"] else 0
    out, runs_dir = Path(args.out), Path(args.runs_dir)
    if args.quick:
        out, runs_dir = out / "quick", runs_dir / "quick"
        opts = {**ex.QUICK[args.study], **opts}
    if args.study in ("label-efficiency", "robustness", "attention"):
        opts["runs_dir"] = runs_dir
    if args.study == "external" and "model" not in opts:
        opts["model"], opts["model_note"] = ex.common.external_model(runs_dir)
    try:
        payload = ex.STUDIES[args.study](args.data, out, progress=progress, command=command, **opts)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.study}: claims {payload.get('claims')}")
    print(f"wrote {out / STUDY_FILES[args.study]}.md/.json/.png and {out / 'README.md'}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
