"""Interval measurements of a record: heart rate, RR variability, PR, QRS, QT/QTc.

Rate and RR come from the detected R peaks. The QRS complex is delimited on
all leads together (:func:`qrs_boundaries`, spatial velocity): neurokit2's
single-lead delineation misses most of a wide QRS (on the bundled left bundle
branch block it gave 68 ms in lead II, and nothing in I, V1, V5, V6). The P
onset and T end come from neurokit2's wavelet delineation
(``ecg_delineate(method="dwt")``) of lead II band-passed 0.5-40 Hz. Per beat,
each boundary is matched to *that* beat within a physiological window; the
median over beats is reported, and an interval that varies too much from beat
to beat is "not measurable" rather than a guess. Against LUDB's cardiologist
annotations of 30 records (tests/test_app_measurements.py; not the records the
thresholds below were set on), median absolute errors were 4 ms for QRS (vs.
the median of the 12 leads' annotated durations), 6 ms for PR and 18 ms for QT
(lead II), with 29, 24 and 24 of the 30 records measurable.

Nothing here raises: a value that cannot be measured (no P waves in atrial
fibrillation, a failed delineation, too few beats, lead II unavailable) is
reported as "not measurable" with the reason.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from beatnet_core import LEADS

#: Delineation lead (the classic interval lead), then fall-backs.
DELINEATION_LEADS = ("II", "V5", "I", "V2")


@dataclass
class Measurement:
    """One measured quantity with its normal range and a flag.

    ``flag`` is ``"normal"``, ``"low"``, ``"high"`` or ``"not measurable"``;
    ``note`` says why it is not measurable, or how it was measured.
    """

    name: str
    value: float | None
    unit: str
    normal: str
    flag: str
    note: str = ""

    @property
    def text(self) -> str:
        if self.value is None or not np.isfinite(self.value):
            return "not measurable"
        if self.unit in ("ms", "bpm"):
            return f"{self.value:.0f} {self.unit}"
        return f"{self.value:.2f} {self.unit}".strip()

    @property
    def abnormal(self) -> bool:
        return self.flag in ("low", "high")


def _flag(value, low=None, high=None) -> str:
    if value is None or not np.isfinite(value):
        return "not measurable"
    if low is not None and value < low:
        return "low"
    if high is not None and value > high:
        return "high"
    return "normal"


def _missing(name, unit, normal, why) -> Measurement:
    return Measurement(name, None, unit, normal, "not measurable", why)


def qtc_upper_limit(sex) -> tuple[float, str]:
    """Upper normal QTc (Bazett, ms): 450 for men, 460 for women (AHA/ACCF/HRS 2009); 450 if unknown."""
    s = str(sex or "").strip().lower()
    if s in ("f", "female", "woman", "1"):
        return 460.0, "< 460 ms (women)"
    if s in ("m", "male", "man", "0"):
        return 450.0, "< 450 ms (men)"
    return 450.0, "< 450 ms (men), < 460 ms (women)"


def rate_and_rhythm(r_peaks, fs: float) -> list[Measurement]:
    """Heart rate (bpm, from the mean RR) and RR variability (SD of RR, and its coefficient of variation)."""
    r = np.asarray(r_peaks, float)
    r = r[r >= 0]
    if r.size < 2:
        return [_missing("Heart rate", "bpm", "60–100 bpm", "fewer than two beats detected"),
                _missing("RR variability", "ms", "CV < 10 %", "fewer than three beats detected")]
    rr = np.diff(r) / fs * 1000.0
    hr = 60000.0 / rr.mean()
    out = [Measurement("Heart rate", hr, "bpm", "60–100 bpm", _flag(hr, 60, 100),
                       f"{r.size} beats, mean RR {rr.mean():.0f} ms")]
    if rr.size < 2:
        out.append(_missing("RR variability", "ms", "CV < 10 %", "fewer than three beats detected"))
        return out
    sd = float(rr.std(ddof=1))
    cv = sd / rr.mean()
    out.append(Measurement("RR variability", sd, "ms", "CV < 10 %", _flag(cv * 100, None, 10),
                           f"SD of RR {sd:.0f} ms, CV {cv:.0%}; "
                           + ("irregular" if cv > 0.10 else "regular")))
    return out


def _pick(values, lo, hi, last: bool) -> float:
    """The last (or first) finite boundary inside [lo, hi], NaN if none."""
    a = np.asarray([v for v in values if v is not None], float)
    a = a[np.isfinite(a) & (a >= lo) & (a <= hi)]
    if not a.size:
        return math.nan
    return float(a.max() if last else a.min())


#: QRS boundaries: where the spatial velocity falls below this share of its
#: peak (above the window's 10th-percentile floor). 0.05 matched LUDB's
#: cardiologists best (median of their per-lead QRS durations).
QRS_THRESHOLD = 0.05


def _band(x: np.ndarray, fs: float, order: int = 4) -> np.ndarray:
    hi = min(40.0, 0.45 * fs)
    sos = sps.butter(order, [0.5, hi], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, np.asarray(x, float), axis=0)


def qrs_boundaries(ecg, r_peaks) -> tuple[np.ndarray, np.ndarray]:
    """Per beat, the global QRS onset and offset (sample indices; NaN where not found).

    Uses the spatial velocity of all usable leads, sqrt(sum over leads of
    (dV/dt)^2): the QRS complex is where the heart's electrical vector moves
    fast in *any* lead, so the onset is the earliest and the offset the latest
    deflection across the leads, as in the clinical definition of QRS duration.
    """
    fs = float(ecg.fs)
    x = _band(ecg.signal[:, np.asarray(ecg.lead_mask, bool)], fs, order=2)
    v = np.sqrt(((np.gradient(x, axis=0) * fs) ** 2).sum(axis=1))
    w = max(1, int(round(0.01 * fs)))
    v = np.convolve(v, np.ones(w) / w, mode="same")
    ms = fs / 1000.0
    gap = max(1, int(round(4 * ms)))          # a dip shorter than 4 ms does not end the QRS
    onsets, offsets = [], []
    for ri in np.asarray(r_peaks, int):
        a, b = int(ri - 200 * ms), int(ri + 250 * ms)
        if a < 0 or b >= v.size:
            onsets.append(math.nan)
            offsets.append(math.nan)
            continue
        seg = v[a:b]
        c = int(ri - a)
        lo, hi = max(0, c - int(60 * ms)), min(seg.size, c + int(60 * ms))
        pk = lo + int(np.argmax(seg[lo:hi]))
        floor = float(np.percentile(seg, 10))
        above = seg > floor + QRS_THRESHOLD * (seg[pk] - floor)
        i = pk
        while i > 0 and above[max(0, i - gap):i].any():
            i -= 1
        j = pk
        while j < seg.size - 1 and above[j + 1:j + 1 + gap].any():
            j += 1
        onsets.append(float(a + i))
        offsets.append(float(a + j))
    return np.asarray(onsets), np.asarray(offsets)


def delineate(ecg, lead: str, r_peaks: np.ndarray) -> dict[str, np.ndarray]:
    """Per beat PR, QRS and QT (ms; NaN where a boundary was not found).

    QRS onset/offset: :func:`qrs_boundaries` (all leads). P onset and T end:
    neurokit2's DWT delineation of ``lead``, each matched to its own beat.
    """
    import neurokit2 as nk

    fs = float(ecg.fs)
    r = np.asarray(r_peaks, int)
    on, off = qrs_boundaries(ecg, r)
    y = _band(ecg.lead(lead), fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, waves = nk.ecg_delineate(y, rpeaks=r, sampling_rate=int(round(fs)), method="dwt")
    ms = fs / 1000.0
    pr, qt = [], []
    for k in range(r.size):
        if not np.isfinite(on[k]):
            pr.append(math.nan)
            qt.append(math.nan)
            continue
        p_on = _pick(waves.get("ECG_P_Onsets", []), on[k] - 400 * ms, on[k] - 60 * ms, last=True)
        t_off = _pick(waves.get("ECG_T_Offsets", []), off[k] + 100 * ms, on[k] + 700 * ms, last=False)
        pr.append((on[k] - p_on) / ms)
        qt.append((t_off - on[k]) / ms)
    return {"PR": np.asarray(pr), "QRS": (off - on) / ms, "QT": np.asarray(qt)}


#: Plausible per-beat ranges (ms): outside them a boundary was surely misplaced.
_PLAUSIBLE = {"PR": (60, 400), "QRS": (40, 250), "QT": (200, 700)}
#: At least this share of beats must give a value, else the interval is "not measurable".
MIN_BEAT_SHARE = 0.4
#: Largest beat-to-beat spread (median absolute deviation, ms) of a reported
#: interval. A PR that wanders more has no consistent P wave before each QRS
#: (atrial fibrillation, AV dissociation) or was not delineated reliably; a QT
#: that wanders more has an unreliable T-wave end. Set on the bundled samples:
#: sinus rhythms 2-14 ms, atrial fibrillation 17 ms, complete AV block 20 ms.
MAX_SPREAD_MS = {"PR": 15.0, "QRS": 20.0, "QT": 20.0}


def intervals(ecg, r_peaks, sex=None) -> list[Measurement]:
    """PR, QRS, QT and QTc (Bazett) from delineation of lead II (or the next usable lead)."""
    names = [("PR interval", "PR", "120–200 ms", (120, 200)),
             ("QRS duration", "QRS", "< 120 ms", (None, 120)),
             ("QT interval", "QT", "rate dependent: see QTc", (None, None))]
    qtc_hi, qtc_text = qtc_upper_limit(sex)
    r = np.asarray(r_peaks, int)
    r = r[(r >= 0) & (r < ecg.n_samples)]
    lead = next((name for name in DELINEATION_LEADS if ecg.lead_mask[LEADS.index(name)]), None)

    def all_missing(why):
        return ([_missing(n, "ms", normal, why) for n, _, normal, _ in names]
                + [_missing("QTc (Bazett)", "ms", qtc_text, why)])

    if lead is None:
        return all_missing("no usable lead among " + ", ".join(DELINEATION_LEADS))
    if r.size < 3:
        return all_missing("fewer than three beats detected")
    # the first and last beats are often cut by the record's edges: keep those with room around them
    fs = float(ecg.fs)
    inner = r[(r > 0.3 * fs) & (r < ecg.n_samples - 0.5 * fs)]
    if inner.size >= 2:
        r = inner
    try:
        per_beat = delineate(ecg, lead, r)
    except Exception as exc:  # neurokit2 fails on odd signals (flat stretches, very few beats): say so
        return all_missing(f"delineation of lead {lead} failed ({type(exc).__name__})")
    out = []
    medians = {}
    for name, key, normal, (lo, hi) in names:
        v = per_beat[key]
        plo, phi = _PLAUSIBLE[key]
        ok = v[np.isfinite(v) & (v >= plo) & (v <= phi)]
        spread = float(np.median(np.abs(ok - np.median(ok)))) if ok.size else math.inf
        if ok.size < max(2, MIN_BEAT_SHARE * len(v)) or spread > MAX_SPREAD_MS[key]:
            why = {"PR": f"lead {lead}: no consistent P wave before each QRS (e.g. atrial fibrillation, "
                         "AV dissociation, junctional rhythm)",
                   "QRS": "QRS onset/offset not found consistently",
                   "QT": f"lead {lead}: T-wave end not found consistently"}[key]
            out.append(_missing(name, "ms", normal, why))
            medians[key] = math.nan
            continue
        med = float(np.median(ok))
        medians[key] = med
        where = "all leads" if key == "QRS" else f"lead {lead}"
        out.append(Measurement(name, med, "ms", normal, _flag(med, lo, hi),
                               f"{where}, median of {ok.size}/{len(v)} beats (± {spread:.0f} ms)"))
    rr = np.diff(np.asarray(r_peaks, float)) / fs
    if np.isfinite(medians.get("QT", math.nan)) and rr.size:
        rr_s = float(np.median(rr))
        qtc = medians["QT"] / math.sqrt(rr_s)
        out.append(Measurement("QTc (Bazett)", qtc, "ms", qtc_text, _flag(qtc, None, qtc_hi),
                               f"QT / √RR, RR {rr_s * 1000:.0f} ms"))
    else:
        out.append(_missing("QTc (Bazett)", "ms", qtc_text, "QT not measurable"))
    return out


def measure(ecg, r_peaks, sex=None) -> list[Measurement]:
    """All measurements of a record; never raises."""
    sex = sex if sex is not None else (ecg.meta.get("sex") if isinstance(ecg.meta, dict) else None)
    try:
        out = rate_and_rhythm(r_peaks, float(ecg.fs))
    except Exception as exc:  # pragma: no cover - defensive: arithmetic on odd input
        out = [_missing("Heart rate", "bpm", "60–100 bpm", f"failed ({type(exc).__name__})")]
    try:
        out += intervals(ecg, r_peaks, sex)
    except Exception as exc:  # pragma: no cover - defensive
        out += [_missing("Intervals", "ms", "", f"failed ({type(exc).__name__})")]
    return out


def as_rows(measurements: list[Measurement]) -> list[dict]:
    """Table rows for display and the JSON export."""
    return [{"measurement": m.name, "value": m.text, "normal range": m.normal,
             "flag": {"normal": "✓ normal", "low": "▼ low", "high": "▲ high"}.get(m.flag, "–"),
             "how": m.note} for m in measurements]


def as_dict(measurements: list[Measurement]) -> dict:
    return {m.name: {"value": None if m.value is None or not np.isfinite(m.value) else round(float(m.value), 1),
                     "unit": m.unit, "normal": m.normal, "flag": m.flag, "note": m.note} for m in measurements}
