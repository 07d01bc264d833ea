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
    p = sub.add_parser("bench", help="benchmarks: QRS detection accuracy, tokenizer speed")
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
    from beatnet_core.train import TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="train one model on PTB-XL (writes a run directory)")
    p.add_argument("--model", choices=sorted(MODELS), default=d.model)
    p.add_argument("--task", default=d.task, help="superdiagnostic, subdiagnostic, diagnostic, form, rhythm, all, "
                                                 "or several joined by '+' (e.g. superdiagnostic+rhythm)")
    p.add_argument("--data", required=True, help="PTB-XL folder (official layout and/or the shared subset)")
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--label-fraction", type=float, default=d.label_fraction)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--min-count", type=int, default=d.min_count)
    p.add_argument("--pos-weight", choices=["none", "sqrt", "full"], default=d.pos_weight)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--threads", type=int, default=d.threads)
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:
    from beatnet_core.train import TrainConfig, train

    cfg = TrainConfig(model=args.model, task=args.task, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, patience=args.patience, label_fraction=args.label_fraction, seed=args.seed,
                      min_count=args.min_count, pos_weight=args.pos_weight, threads=args.threads,
                      max_minutes=args.max_minutes)
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
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    import json
    from pathlib import Path

    from beatnet_core.evaluate import evaluate_run, format_evaluation

    result = evaluate_run(args.run_dir, args.data, args.split, n_boot=args.n_boot)
    print(format_evaluation(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


@subcommand
def _add_benchmark(sub):
    p = sub.add_parser("benchmark", help="train + evaluate every model side by side; write reports/")
    p.add_argument("dataset", choices=["ptbxl"])
    p.add_argument("--task", default="superdiagnostic")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--data", required=True, help="PTB-XL folder")
    p.add_argument("--models", nargs="*", default=None, help="default: every registered model")
    p.add_argument("--epochs", type=int, default=None, help="same budget for every model")
    p.add_argument("--runs-dir", default="runs/benchmark")
    p.add_argument("--report-dir", default="reports")
    p.set_defaults(func=_run_benchmark)


def _run_benchmark(args) -> int:
    from beatnet_core.evaluate import benchmark_ptbxl

    overrides = {"epochs": args.epochs} if args.epochs else {}
    report = benchmark_ptbxl(args.data, args.task, args.seeds, args.models, args.runs_dir, args.report_dir,
                             **overrides)
    for name, m in report["models"].items():
        print(f"{name:<14} test macro-AUC {m['macro_auc_mean']:.4f} +- {m['macro_auc_sd']:.4f} "
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


if __name__ == "__main__":
    raise SystemExit(main())
