"""QRS detection benchmark on cardiologist-annotated data (ANSI/AAMI EC57 style).

``beatnet bench qrs --dataset ludb|mitdb --data-dir DIR [--json FILE]``

Scores :func:`beatnet_core.detect_qrs` (all leads fused) and, in the same run,
neurokit2's default detector on one lead (lead II on LUDB, the first channel
on MIT-BIH) as the baseline:

- a detection matches a reference beat within 150 ms (one-to-one, nearest first);
- sensitivity = TP / reference beats, positive predictivity = TP / detections;
- timing error = |detection - reference| of matched beats, in ms.

LUDB reference: the cardiologists' QRS peak marks (``N``) of the 12 per-lead
annotation files, merged into one reference per beat (marks within 100 ms of
each other are one beat; its time is their median). Only the annotated span of
each record is scored: LUDB leaves about the first and last second of each
record unannotated, and detections there are neither hits nor false positives.

MIT-BIH reference: the official ``atr`` beat annotations (beat symbols only;
rhythm, noise and comment marks are not beats), for the records that have them
(only 100 in ``../shared/data``); the whole record is scored. Records without
annotations are still read and processed, reporting beats found and heart rate.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from beatnet_core.ecg import ECG
from beatnet_core.io import load_ecg
from beatnet_core.qrs import detect_qrs

MATCH_WINDOW_S = 0.150
LUDB_LEAD_EXTENSIONS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
#: MIT-BIH beat annotation symbols (PhysioNet's list of beat codes).
MITDB_BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")


@dataclass
class Scores:
    """Counts and timing errors accumulated over records."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors_ms: list = field(default_factory=list)
    seconds: float = 0.0
    signal_seconds: float = 0.0

    def add(self, detected: np.ndarray, reference: np.ndarray, fs: float) -> tuple[int, int, int]:
        tp, fp, fn, err = match_beats(detected, reference, fs)
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        self.errors_ms.extend((err / fs * 1000.0).tolist())
        return tp, fp, fn

    def summary(self, dataset: str, records: int) -> dict:
        e = np.asarray(self.errors_ms)
        se = self.tp / max(1, self.tp + self.fn)
        ppv = self.tp / max(1, self.tp + self.fp)
        return {
            "dataset": dataset, "records": records, "reference_beats": self.tp + self.fn,
            "detected_beats": self.tp + self.fp, "true_positives": self.tp,
            "false_positives": self.fp, "false_negatives": self.fn,
            "sensitivity": se, "ppv": ppv, "f1": 2 * se * ppv / max(1e-12, se + ppv),
            "median_abs_error_ms": float(np.median(e)) if e.size else float("nan"),
            "p95_abs_error_ms": float(np.percentile(e, 95)) if e.size else float("nan"),
            "detection_seconds": self.seconds,
            "seconds_per_hour_of_ecg": self.seconds / max(1e-9, self.signal_seconds) * 3600,
        }


def match_beats(detected: np.ndarray, reference: np.ndarray, fs: float,
                window_s: float = MATCH_WINDOW_S) -> tuple[int, int, int, np.ndarray]:
    """One-to-one matching of detections to reference beats within ``window_s``.

    Pairs are formed closest first, so a detection between two reference
    beats goes to the nearer one. Returns (TP, FP, FN, absolute errors in samples).
    """
    det = np.asarray(detected, np.int64)
    ref = np.asarray(reference, np.int64)
    tol = window_s * fs
    if det.size == 0 or ref.size == 0:
        return 0, int(det.size), int(ref.size), np.zeros(0)
    # candidate pairs: each reference with its neighbouring detections
    idx = np.searchsorted(det, ref)
    pairs = []
    for r_i, j in enumerate(idx):
        for d_i in (j - 1, j, j + 1):
            if 0 <= d_i < det.size and abs(det[d_i] - ref[r_i]) <= tol:
                pairs.append((abs(det[d_i] - ref[r_i]), r_i, d_i))
    pairs.sort()
    used_r, used_d, errors = set(), set(), []
    for dist, r_i, d_i in pairs:
        if r_i not in used_r and d_i not in used_d:
            used_r.add(r_i)
            used_d.add(d_i)
            errors.append(dist)
    tp = len(errors)
    return tp, int(det.size - tp), int(ref.size - tp), np.asarray(errors, float)


# --------------------------------------------------------------------------- references

def ludb_reference(record_path: Path, fs: float) -> tuple[np.ndarray, int, int]:
    """Merged QRS reference (sample indices) and the annotated span [start, stop] of a LUDB record."""
    import wfdb

    marks, first, last = [], [], []
    for ext in LUDB_LEAD_EXTENSIONS:
        ann = wfdb.rdann(str(record_path), ext)
        sym = np.asarray(ann.symbol)
        samples = np.asarray(ann.sample)
        if samples.size:
            first.append(samples.min())
            last.append(samples.max())
        marks.append(samples[sym == "N"])
    allmarks = np.sort(np.concatenate(marks))
    groups = np.split(allmarks, np.flatnonzero(np.diff(allmarks) > 0.1 * fs) + 1)
    reference = np.asarray([int(np.median(g)) for g in groups if g.size], np.int64)
    return reference, int(min(first)), int(max(last))


def mitdb_reference(record_path: Path) -> np.ndarray | None:
    """Official beat annotations of a MIT-BIH record, or None when it has no ``atr`` file."""
    import wfdb

    if not record_path.with_suffix(".atr").exists():
        return None
    ann = wfdb.rdann(str(record_path), "atr")
    keep = np.isin(np.asarray(ann.symbol), list(MITDB_BEAT_SYMBOLS))
    return np.asarray(ann.sample)[keep].astype(np.int64)


# --------------------------------------------------------------------------- runs

def _timed(ecg: ECG, method: str) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    r = detect_qrs(ecg, method=method)
    return r, time.perf_counter() - t0


def bench_ludb(data_dir: Path, records: list[int] | None = None, progress: bool = True) -> dict:
    from tqdm import tqdm

    folder = Path(data_dir) / "data"
    if not folder.is_dir():
        folder = Path(data_dir)
    ids = records or sorted(int(p.stem) for p in folder.glob("*.hea"))
    if not ids:
        raise FileNotFoundError(f"no LUDB records (*.hea) under {data_dir}")
    ours, base = Scores(), Scores()
    per_record = []
    for rid in tqdm(ids, desc="LUDB", unit="rec", disable=not progress):
        path = folder / str(rid)
        ecg = load_ecg(path.with_suffix(".hea"))
        ref, lo, hi = ludb_reference(path, ecg.fs)
        row = {"record": rid, "reference_beats": int(ref.size)}
        for name, scores, method in (("fused", ours, "fused"), ("baseline", base, "neurokit")):
            r, dt = _timed(ecg, method)
            scores.seconds += dt
            scores.signal_seconds += ecg.duration_s
            r = r[(r >= lo) & (r <= hi)]
            tp, fp, fn = scores.add(r, ref, ecg.fs)
            row[name] = {"tp": tp, "fp": fp, "fn": fn}
        per_record.append(row)
    out = ours.summary("ludb", len(ids))
    out["baseline"] = base.summary("ludb", len(ids))
    out["baseline"]["detector"] = "neurokit2 default (ecg_clean + ecg_peaks), lead II"
    out["detector"] = "beatnet fused multi-lead"
    out["per_record_errors"] = [row for row in per_record
                                if row["fused"]["fp"] or row["fused"]["fn"]
                                or row["baseline"]["fp"] or row["baseline"]["fn"]]
    return out


def bench_mitdb(data_dir: Path, records: list[str] | None = None, progress: bool = True) -> dict:
    from tqdm import tqdm

    folder = Path(data_dir)
    names = records or sorted(p.stem for p in folder.glob("*.hea"))
    if not names:
        raise FileNotFoundError(f"no MIT-BIH records (*.hea) under {data_dir}")
    ours, base = Scores(), Scores()
    scored, unscored = [], []
    for name in tqdm(names, desc="MIT-BIH", unit="rec", disable=not progress):
        path = folder / name
        ecg = load_ecg(path.with_suffix(".hea"))
        ref = mitdb_reference(path)
        r, dt = _timed(ecg, "fused")
        rb, dtb = _timed(ecg, "neurokit")
        ours.seconds += dt
        base.seconds += dtb
        info = {"record": name, "duration_s": round(ecg.duration_s, 1), "leads": ecg.available_leads,
                "beats_found": int(r.size), "mean_heart_rate_bpm": round(60.0 * r.size / ecg.duration_s, 1),
                "baseline_beats_found": int(rb.size), "seconds": round(dt, 3)}
        if ref is None:
            unscored.append(info)
            continue
        ours.signal_seconds += ecg.duration_s
        base.signal_seconds += ecg.duration_s
        tp, fp, fn = ours.add(r, ref, ecg.fs)
        info.update(reference_beats=int(ref.size), tp=tp, fp=fp, fn=fn)
        tpb, fpb, fnb = base.add(rb, ref, ecg.fs)
        info["baseline"] = {"tp": tpb, "fp": fpb, "fn": fnb}
        scored.append(info)
    out = ours.summary("mitdb", len(scored))
    out["baseline"] = base.summary("mitdb", len(scored))
    out["baseline"]["detector"] = "neurokit2 default (ecg_clean + ecg_peaks), first channel (MLII)"
    out["detector"] = "beatnet fused multi-lead"
    out["scored_records"] = scored
    out["unannotated_records"] = unscored
    return out


def format_report(result: dict) -> str:
    """Human-readable table of one benchmark result."""
    lines = [f"QRS detection on {result['dataset']}: {result['records']} scored record(s), "
             f"{result['reference_beats']} reference beats (match window 150 ms)",
             f"{'detector':<44} {'Se %':>7} {'PPV %':>7} {'F1 %':>7} {'med ms':>7} {'p95 ms':>7} {'s/h ECG':>8}"]
    for label, r in ((result["detector"], result), (result["baseline"]["detector"], result["baseline"])):
        lines.append(f"{label[:44]:<44} {100 * r['sensitivity']:7.2f} {100 * r['ppv']:7.2f} "
                     f"{100 * r['f1']:7.2f} {r['median_abs_error_ms']:7.1f} {r['p95_abs_error_ms']:7.1f} "
                     f"{r['seconds_per_hour_of_ecg']:8.2f}")
    lines.append(f"  fused: TP {result['true_positives']}, FP {result['false_positives']}, "
                 f"FN {result['false_negatives']}; baseline: TP {result['baseline']['true_positives']}, "
                 f"FP {result['baseline']['false_positives']}, FN {result['baseline']['false_negatives']}")
    for rec in result.get("unannotated_records", []):
        lines.append(f"  unannotated {rec['record']}: {rec['duration_s']:.0f} s, leads {rec['leads']}, "
                     f"{rec['beats_found']} beats found ({rec['mean_heart_rate_bpm']} bpm mean), "
                     f"baseline {rec['baseline_beats_found']}, {rec['seconds']:.2f} s")
    return "\n".join(lines)


def run_qrs_benchmark(dataset: str, data_dir: Path, json_path: Path | None = None,
                      progress: bool = True) -> dict:
    """Run one dataset's benchmark, print the table, optionally write JSON."""
    runners = {"ludb": bench_ludb, "mitdb": bench_mitdb}
    if dataset not in runners:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(runners)}")
    result = runners[dataset](Path(data_dir), progress=progress)
    print(format_report(result))
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(result, indent=2))
    return result
