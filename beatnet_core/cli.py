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


if __name__ == "__main__":
    raise SystemExit(main())
