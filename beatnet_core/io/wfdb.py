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
from beatnet_core.io.common import mv_per_unit, parse_sex
from beatnet_core.io.sniff import HEAD_BYTES, wfdb_record_name
from beatnet_core.io.source import Source

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
    """Read a WFDB record (header plus signal files) as an :class:`ECG` in mV.

    ``fs`` is ignored: a WFDB header always states its sampling rate (250 Hz
    when the field is left out, as the WFDB specification says).
    """
    import wfdb

    src, record_name = _locate_header(src)
    header_name = record_name + ".hea"
    with src.local_dir() as folder:
        record_path = str(Path(folder) / record_name)
        try:
            header = wfdb.rdheader(record_path)
        except Exception as exc:
            raise ECGFormatError(f"{header_name}: not a valid WFDB header ({exc})") from None
        if isinstance(header, wfdb.MultiRecord):
            raise ECGFormatError(f"{header_name}: multi-segment WFDB records are not supported; "
                                 "join the segments into one record first (e.g. wfdb.rdrecord(..., m2s=True))")
        _check_signal_files(src, header_name, header)
        _check_data_size(header_name, header, Path(folder))
        try:
            # Digital values first: the header's checksums are over them.
            record = wfdb.rdrecord(record_path, physical=False)
        except Exception as exc:
            raise ECGFormatError(f"{header_name}: signal file could not be read ({exc})") from None
    _check_checksums(header_name, record)
    signal = record.dac(return_res=64)

    units = [str(u or "").strip() for u in (record.units or [""] * signal.shape[1])]
    factors = [mv_per_unit(u) for u in units]
    # Unitless leads ('', 'NU' = normalised units) are passed on unscaled and labelled as such.
    signal = signal * np.array([f if f is not None else 1.0 for f in factors])
    meta = parse_comments(record.comments or [])
    meta["comments"] = list(record.comments or [])
    meta["format"] = "WFDB"
    unit = "mV" if all(f is not None for f in factors) else (units[0] or "unknown")
    return make_ecg(signal, record.fs, record.sig_name, source=src.name, meta=meta, units=unit)


def _locate_header(src: Source) -> tuple[Source, str]:
    """The source and record name to read, finding a header uploaded under another name.

    An upload may name its header ``record.txt`` or leave the extension off;
    wfdb only opens ``<record>.hea``, so such a header is passed on under the
    record name written on its first line.
    """
    if src.has(src.stem + ".hea"):
        return src, src.stem
    if src.path is None:
        for filename, data in src.files.items():
            record_name = wfdb_record_name(data[:HEAD_BYTES])
            if record_name and not src.has(record_name + ".hea"):
                files = dict(src.files)
                files[record_name + ".hea"] = files.pop(filename)
                return Source(name=src.name, files=files), record_name
    else:
        record_name = wfdb_record_name(src.head(HEAD_BYTES))
        if record_name:
            raise ECGFormatError(f"{src.name}: looks like a WFDB header; wfdb reads headers only "
                                 f"under their record name: rename it to {record_name}.hea")
    raise ECGFormatError(f"{src.name}: WFDB header {src.stem}.hea is missing{_uploaded_note(src)}; "
                         "a WFDB record is a .hea header plus its signal file, give both")


def _check_signal_files(src: Source, header_name: str, header) -> None:
    """Refuse a header without signals, or whose signal files are not there."""
    if not header.n_sig or not header.file_name:
        raise ECGFormatError(f"{header_name}: header lists no signals")
    if len(header.file_name) != header.n_sig:
        raise ECGFormatError(f"{header_name}: header declares {header.n_sig} signals but describes "
                             f"{len(header.file_name)}")
    for data_file in sorted(set(header.file_name)):
        if not src.has(data_file):
            raise ECGFormatError(f"{header_name}: its signal file {data_file} is missing{_uploaded_note(src)}")


def _uploaded_note(src: Source) -> str:
    """' (uploaded: a, b)' for uploads, so a user sees which files did arrive; '' for paths."""
    return f" (uploaded: {', '.join(sorted(src.files))})" if src.files else ""


#: Bits per stored sample of the uncompressed WFDB signal formats.
_BITS_PER_SAMPLE = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16,
                    "212": 12, "310": 32 / 3, "311": 32 / 3}


def _check_data_size(header_name: str, header, folder: Path) -> None:
    """Refuse a header that promises more samples than its signal file(s) hold.

    wfdb would otherwise fail with a reshape error, or (for some formats)
    return a shorter or zero-padded signal without a word.
    """
    if not header.sig_len:
        return  # no length stated: wfdb reads to the end of the file
    bits_per_frame: dict[str, float] = {}
    offsets: dict[str, int] = {}
    for i, (fname, fmt) in enumerate(zip(header.file_name, header.fmt)):
        if fmt not in _BITS_PER_SAMPLE:
            return  # compressed (FLAC) formats: wfdb checks their framing itself
        samples_per_frame = (header.samps_per_frame or [1] * header.n_sig)[i] or 1
        bits_per_frame[fname] = bits_per_frame.get(fname, 0.0) + _BITS_PER_SAMPLE[fmt] * samples_per_frame
        offsets[fname] = int((header.byte_offset or [0] * header.n_sig)[i] or 0)
    for fname, bits in bits_per_frame.items():
        size = (folder / fname).stat().st_size
        needed = offsets[fname] + header.sig_len * bits / 8
        if size < int(needed):  # int(): format 212/310 pad their last bytes
            held = max(0, int((size - offsets[fname]) * 8 // bits))
            raise ECGFormatError(
                f"{header_name}: header says {header.sig_len} samples, but {fname} holds only "
                f"{held} ({size} of {int(needed)} bytes; file truncated or header wrong)")


def _check_checksums(header_name: str, record) -> None:
    """Refuse signal data whose checksums or first samples disagree with the header.

    This is how a signal file from another record (renamed to fit the
    header) or a corrupted one is caught. Headers written without checksums,
    or with all of them zero (some converters do that), are not checked.
    """
    if record.d_signal is None or any(s != 1 for s in (record.samps_per_frame or [])) \
            or any(record.skew or []):
        return  # expanded or skewed records: wfdb realigns samples, sums no longer comparable
    stated = record.checksum
    if stated and all(c is not None for c in stated) and any(c != 0 for c in stated):
        computed = np.asarray(record.calc_checksum()) % 65536
        wrong = [name for name, c, s in zip(record.sig_name, computed, stated) if c != s % 65536]
        if wrong:
            raise ECGFormatError(
                f"{header_name}: the data in {', '.join(sorted(set(record.file_name)))} does not match "
                f"the header's checksums (leads {', '.join(wrong)}); the signal file belongs to another "
                "record or is corrupt")
    initial = record.init_value
    if initial and all(v is not None for v in initial) and record.d_signal.shape[0]:
        wrong = [name for name, v, first in zip(record.sig_name, initial, record.d_signal[0]) if v != first]
        if wrong and any(initial):
            raise ECGFormatError(
                f"{header_name}: the first samples of leads {', '.join(wrong)} differ from the header's "
                "initial values; the signal file belongs to another record or is corrupt")


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
                meta["sex"] = parse_sex(value)
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
