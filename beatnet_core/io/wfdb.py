"""WFDB records (PhysioNet): a ``.hea`` header plus its signal file(s).

Covers every signal format the ``wfdb`` package reads (16, 212, 24, 32, 80,
310, 311, ...) and the PhysioNet/CinC Challenge's ``.hea`` + MATLAB ``.mat``
pairs. Physical units are converted to mV. Header comments are kept, and
age, sex and diagnoses are parsed from the conventions of LUDB, the
Challenge (``# Dx:`` SNOMED-CT codes) and MIT-BIH.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from beatnet_core.ecg import ECG, ECGFormatError, make_ecg
from beatnet_core.io.source import Source

_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3, "nu": 1.0, "": 1.0}

#: SNOMED-CT codes used by the PhysioNet/CinC Challenge 2021 (the ones most often seen).
SNOMED_NAMES = {
    "426783006": "sinus rhythm", "164934002": "T-wave abnormal", "55930002": "ST change",
    "427084000": "sinus tachycardia", "426177001": "sinus bradycardia",
    "713426002": "incomplete right bundle branch block", "164889003": "atrial fibrillation",
    "164890007": "atrial flutter", "59118001": "right bundle branch block",
    "164909002": "left bundle branch block", "270492004": "1st degree AV block",
    "164873001": "left ventricular hypertrophy", "39732003": "left axis deviation",
    "47665007": "right axis deviation", "284470004": "premature atrial contraction",
    "427172004": "premature ventricular contractions", "10370003": "pacing rhythm",
    "164865005": "myocardial infarction", "164861001": "myocardial ischemia",
    "251146004": "low QRS voltages", "698252002": "nonspecific intraventricular conduction disorder",
    "445118002": "left anterior fascicular block", "17338001": "ventricular premature beats",
    "427393009": "sinus arrhythmia", "164917005": "Q wave abnormal", "111975006": "prolonged QT",
}


def read_wfdb(src: Source, fs: float | None = None) -> ECG:
    import wfdb

    record_name = src.stem
    header_name = record_name + ".hea"
    if not src.has(header_name):
        raise ECGFormatError(f"{src.name}: WFDB header {header_name} is missing "
                             "(a WFDB record is a .hea header plus its signal file)")
    with src.local_dir() as folder:
        try:
            header = wfdb.rdheader(str(Path(folder) / record_name))
        except Exception as exc:
            raise ECGFormatError(f"{header_name}: not a valid WFDB header ({exc})") from None
        if not header.file_name:
            raise ECGFormatError(f"{header_name}: header lists no signals")
        for data_file in sorted(set(header.file_name)):
            if not src.has(data_file):
                raise ECGFormatError(f"{header_name}: its signal file {data_file} is missing")
        _check_data_size(src, header, folder)
        try:
            record = wfdb.rdrecord(str(Path(folder) / record_name), physical=True)
        except Exception as exc:
            raise ECGFormatError(f"{header_name}: signal file could not be read ({exc})") from None

    signal = np.asarray(record.p_signal, dtype=np.float64)
    units = [str(u or "").strip().lower() for u in (record.units or [""] * signal.shape[1])]
    scale = np.array([_TO_MV.get(u, 1.0) for u in units])
    signal = signal * scale
    meta = parse_comments(record.comments or [])
    meta["comments"] = list(record.comments or [])
    meta["format"] = "WFDB"
    unit = "mV" if all(u in ("mv", "uv", "µv", "v") for u in units) else (units[0] or "unknown")
    return make_ecg(signal, record.fs or fs, record.sig_name, source=src.name, meta=meta, units=unit)


def _check_data_size(src: Source, header, folder) -> None:
    """Refuse a header that promises more samples than its data file holds."""
    bits = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16,
            "212": 12, "310": 32 / 3, "311": 32 / 3}
    if not header.sig_len:
        return
    per_file: dict[str, float] = {}
    for fname, fmt, offset in zip(header.file_name, header.fmt, header.byte_offset or [0] * header.n_sig):
        if fname.lower().endswith(".mat") or fmt not in bits:
            return  # .mat carries its own size; other formats are checked by wfdb itself
        per_file[fname] = per_file.get(fname, 0.0) + bits[fmt] * (header.samps_per_frame[0] or 1)
    for fname, bits_per_frame in per_file.items():
        size = (Path(folder) / fname).stat().st_size
        needed = header.sig_len * bits_per_frame / 8
        if size + 1 < needed:
            raise ECGFormatError(
                f"{src.stem}.hea: header says {header.sig_len} samples, but {fname} holds only "
                f"{int(size * 8 // bits_per_frame)} (file truncated or header wrong)")


def parse_comments(comments: list[str]) -> dict:
    """Age, sex and diagnoses from WFDB header comments (LUDB, Challenge and MIT-BIH styles)."""
    meta: dict = {}
    diagnoses: list[str] = []
    in_dx = False
    for line in comments:
        text = line.strip()
        m = re.match(r"<?\s*(age|sex|diagnoses)\s*>?\s*:\s*(.*)$", text, re.I)
        if m:
            key, value = m.group(1).lower(), m.group(2).strip()
            in_dx = key == "diagnoses"
            if key == "age":
                meta["age"] = _number(value)
            elif key == "sex":
                meta["sex"] = _sex(value)
            elif value:
                diagnoses.append(value.rstrip(". "))
            continue
        m = re.match(r"dx\s*:\s*(.*)$", text, re.I)
        if m:
            codes = [c.strip() for c in m.group(1).split(",") if c.strip()]
            meta["snomed_codes"] = codes
            diagnoses += [SNOMED_NAMES.get(c, f"SNOMED {c}") for c in codes]
            in_dx = False
            continue
        if in_dx and text:
            diagnoses.append(text.rstrip(". "))
            continue
        m = re.match(r"^(\d{1,3})\s+([MF])\b", text)  # MIT-BIH: "69 M 1085 1629 x1"
        if m and "age" not in meta:
            meta["age"], meta["sex"] = int(m.group(1)), m.group(2)
    if diagnoses:
        meta["diagnoses"] = diagnoses
    return meta


def _number(value: str):
    try:
        return int(float(value))
    except ValueError:
        return None


def _sex(value: str):
    v = value.strip().lower()
    if v in ("m", "male"):
        return "M"
    if v in ("f", "female"):
        return "F"
    return None
