"""From an ECG (a sample or an upload) to everything the pages show, in plain functions.

:func:`analyse` runs the model, finds the beats, measures the intervals and
collects what the user should know about the input (missing or derived
leads, the 10 s page shown of a longer record). :func:`read_upload` turns
uploaded files into an ECG or a clear :class:`InputError`. Nothing here
imports Streamlit; ``app/state.py`` does the caching and session state.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from beatnet_core import ECGFormatError, detect_qrs, load_ecg

from app.measurements import Measurement, as_dict, measure

#: Length of the page analysed and drawn (s): the bundled model reads 10 s records (PTB-XL).
PAGE_S = 10.0
#: Upload limit, stated on the page. A 10 s 12-lead record is well under 1 MB;
#: 50 MB holds ~45 min of a 12-lead 500 Hz WFDB record (16-bit), of which the app shows 10 s pages.
MAX_UPLOAD_MB = 50
ACCEPTED_FORMATS = ("WFDB (.hea with its .dat or .mat: select both files), CSV/TXT (one column per lead, "
                    "lead names in the header), NumPy .npy, EDF/EDF+/BDF, DICOM ECG (.dcm)")
UPLOAD_TYPES = ["hea", "dat", "mat", "csv", "txt", "tsv", "npy", "edf", "bdf", "dcm"]


class InputError(Exception):
    """A problem with the user's input; the message is shown to the user as is."""


@dataclass
class Analysis:
    """Everything shown for one record.

    ``ecg`` is the page analysed and drawn (at most :data:`PAGE_S` seconds);
    ``duration_s`` is the whole record's length and ``page_start_s`` where the
    page starts in it.
    """

    key: str
    name: str
    ecg: object
    duration_s: float
    page_start_s: float
    prediction: object | None
    model_error: str | None
    r_peaks: np.ndarray
    measurements: list[Measurement]
    reference: list[str] = field(default_factory=list)
    reference_not_output: list[str] = field(default_factory=list)   # reference statements the model cannot give
    sample: dict | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def labels(self) -> list[str]:
        return list(self.prediction.labels) if self.prediction is not None else []

    @property
    def n_beats(self) -> int:
        return int(len(self.r_peaks))

    def top_label(self) -> str | None:
        """The most probable predicted label (or the most probable label when none is over its threshold)."""
        if self.prediction is None:
            return None
        probs = self.prediction.probabilities
        pool = self.labels or list(probs)
        return max(pool, key=lambda c: probs.get(c, 0.0)) if pool else None


def page(ecg, start_s: float = 0.0):
    """The :data:`PAGE_S` window of ``ecg`` starting at ``start_s`` (the whole record if shorter)."""
    if ecg.duration_s <= PAGE_S + 0.5:
        return ecg
    start = float(np.clip(start_s, 0.0, max(0.0, ecg.duration_s - PAGE_S)))
    return ecg.window(start, start + PAGE_S)


def input_notes(ecg) -> list[str]:
    """Plain-language remarks about the input: leads missing, derived or interpolated; rate ignored."""
    meta = ecg.meta if isinstance(ecg.meta, dict) else {}
    notes = []
    masked = meta.get("masked_leads") or {}
    if masked:
        notes.append("Not available: " + ", ".join(f"{k} ({v})" for k, v in masked.items())
                     + ". The model uses the other leads.")
    if meta.get("derived_leads"):
        notes.append("Computed from I and II (Einthoven/Goldberger): " + ", ".join(meta["derived_leads"]) + ".")
    if meta.get("interpolated_leads"):
        notes.append("Short gaps bridged by interpolation in: " + ", ".join(meta["interpolated_leads"]) + ".")
    if meta.get("fs_argument_ignored"):
        notes.append(f"The file states its own sampling rate ({ecg.fs:g} Hz); the rate entered "
                     f"({meta['fs_argument_ignored']:g} Hz) was not used.")
    units = str(meta.get("units", "mV"))
    if units.lower() not in ("mv", "millivolt", "millivolts"):
        notes.append(f"Amplitudes are in {units}, not mV: the 10 mm/mV scale does not apply.")
    return notes


def analyse(ecg, predictor, *, name: str, key: str, reference=None, sample=None, page_start_s: float = 0.0,
            model_error: str | None = None) -> Analysis:
    """Run the model on (a 10 s page of) ``ecg``, find its beats and measure it.

    Raises :class:`InputError` when the record has no detectable heartbeat.
    A model failure is not an input error: it is kept in ``model_error`` and
    the trace and measurements are still shown.
    """
    t0 = time.perf_counter()
    shown = page(ecg, page_start_s)
    notes = input_notes(ecg)
    if shown is not ecg:
        a, b = shown.meta.get("window_s", (0.0, shown.duration_s))
        notes.insert(0, f"Record is {ecg.duration_s:.0f} s long; showing and analysing {a:.0f}–{b:.0f} s "
                        "(the model reads 10 s pages).")
    prediction = None
    if predictor is not None:
        try:
            prediction = predictor.predict(shown)
        except ECGFormatError as exc:
            raise InputError(_no_beats_message(name, exc)) from None
        except Exception as exc:  # the model failed on this record: still show the trace
            model_error = f"The model could not classify this record ({type(exc).__name__}: {exc})."
    if prediction is not None and getattr(prediction, "r_peaks", None) is not None:
        r = np.asarray(prediction.r_peaks, np.int64)
    else:
        r = np.asarray(detect_qrs(shown), np.int64)
    r = r[(r >= 0) & (r < shown.n_samples)]
    if r.size == 0:
        raise InputError(_no_beats_message(name, None))
    return Analysis(key=key, name=name, ecg=shown, duration_s=ecg.duration_s,
                    page_start_s=float(shown.meta.get("window_s", (0.0,))[0]), prediction=prediction,
                    model_error=model_error, r_peaks=r, measurements=measure(shown, r),
                    reference=list(reference or ecg.meta.get("diagnoses") or []), sample=sample, notes=notes,
                    seconds=time.perf_counter() - t0)


def _no_beats_message(name: str, exc) -> str:
    detail = f" ({exc})" if exc else ""
    return (f"{name}: no heartbeats were found in this record{detail}. BEAT-Net needs an ECG with visible QRS "
            "complexes, at least 2.5 s long. Check that the file is an ECG and that its leads are not flat.")


# --------------------------------------------------------------------------- uploads

def _name_and_bytes(f) -> tuple[str, bytes]:
    if hasattr(f, "getvalue") and hasattr(f, "name"):
        return str(f.name), bytes(f.getvalue())
    name, data = f
    return str(name), bytes(data)


def upload_signature(files) -> tuple:
    """A hashable identity of a set of uploads (names and sizes; file ids where Streamlit has them)."""
    sig = []
    for f in files or []:
        fid = getattr(f, "file_id", None)
        if fid is None and hasattr(f, "name"):
            fid = (f.name, getattr(f, "size", None))
        elif fid is None:
            fid = (str(f[0]), len(f[1]))
        sig.append(fid)
    return tuple(sorted(map(str, sig)))


def read_upload(files, fs: float | None = None, max_mb: float = MAX_UPLOAD_MB):
    """Uploaded files (Streamlit ``UploadedFile`` objects or ``(name, bytes)`` pairs) -> ECG.

    Everything stays in memory (``load_ecg``'s bytes path). Raises
    :class:`InputError` with a message that says what is wrong and what is accepted.
    """
    files = list(files or [])
    if not files:
        raise InputError("No file was uploaded.")
    try:
        pairs = [_name_and_bytes(f) for f in files]
    except Exception as exc:
        raise InputError(f"The upload could not be read ({type(exc).__name__}).") from None
    names = ", ".join(n for n, _ in pairs)
    total = sum(len(b) for _, b in pairs)
    if total > max_mb * 2**20:
        raise InputError(f"{names}: {total / 2**20:.1f} MB uploaded; the limit is {max_mb:g} MB. "
                         "For long recordings upload a shorter excerpt.")
    if all(len(b) == 0 for _, b in pairs):
        raise InputError(f"{names}: the file is empty.")
    headers = [n for n, _ in pairs if n.lower().endswith(".hea")]
    signals = [n for n, _ in pairs if n.lower().endswith((".dat", ".mat"))]
    try:
        ecg = load_ecg(pairs, fs=fs, max_bytes=int(max_mb * 2**20))
    except ECGFormatError as exc:
        raise InputError(_friendly(str(exc), headers, signals)) from None
    except Exception as exc:  # a reader failed in a way load_ecg did not anticipate
        raise InputError(f"{names}: could not be read as an ECG ({type(exc).__name__}). "
                         f"Accepted: {ACCEPTED_FORMATS}.") from None
    return ecg


def _friendly(message: str, headers, signals) -> str:
    """load_ecg's message, in the app's words, plus what to do about it."""
    message = message.replace(", or pass name=... to choose one", "").rstrip(". ")
    low = message.lower()
    if "sampling rate missing" in low:
        return (message.split(":")[0] + ": the file does not say its sampling rate. Enter it under "
                "'Sampling rate (Hz)' and upload again.")
    if (headers or signals) and not (headers and signals) and "give both" not in low:
        return (message + ". A WFDB record is two files: select the .hea header and its .dat (or .mat) "
                "signal file together in the upload dialog.")
    if "no heartbeats" in low or "give both" in low:
        return message + "."
    return f"{message}. Accepted: {ACCEPTED_FORMATS}."


# --------------------------------------------------------------------------- export

def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


def export_dict(a: Analysis) -> dict:
    """The prediction and its context, JSON-serialisable (what 'Download JSON' saves)."""
    ecg = a.ecg
    return {
        "record": a.name,
        "source": {"sample": a.sample.get("file") if a.sample else None,
                   "dataset": a.sample.get("dataset") if a.sample else None,
                   "license": a.sample.get("license") if a.sample else None},
        "page_s": [a.page_start_s, a.page_start_s + ecg.duration_s],
        "record_duration_s": a.duration_s,
        "fs_hz": ecg.fs,
        "leads_available": ecg.available_leads,
        "beats": {"count": a.n_beats, "r_peak_samples": a.r_peaks.tolist(),
                  "r_peak_times_s": (a.r_peaks / float(ecg.fs)).round(4).tolist()},
        "prediction": a.prediction.to_dict() if a.prediction is not None else None,
        "model_error": a.model_error,
        "measurements": as_dict(a.measurements),
        "reference_diagnoses": a.reference,
        "notes": a.notes,
        "disclaimer": "BEAT-Net is not a medical device; for education and research only.",
    }


def _clean(obj):
    """Recursively make ``obj`` strict JSON: numpy to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return _jsonable(obj)


def export_json(a: Analysis) -> str:
    return json.dumps(_clean(export_dict(a)), indent=2, allow_nan=False)
