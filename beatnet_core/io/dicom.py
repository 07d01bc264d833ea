"""DICOM waveform ECGs (12-lead, General and Ambulatory ECG Waveform Storage), read with pydicom.

Conventions
-----------
- A DICOM ECG holds one or more multiplex groups in its *Waveform
  Sequence*, typically the rhythm strip (10 s, 12 leads) and a derived
  median beat (about 1 s). The group with the most recognisable leads is
  read, the longest one on a tie: the rhythm strip.
- Lead names come from each channel's *Channel Source Sequence*: its code
  meaning (``'Lead I (Einthoven)'``, ``'Lead aVR'``), else the code value
  (MDC ``MDC_ECG_LEAD_V1`` or SCP-ECG ``5.6.3-9-3``), else the channel
  label. Channels that are not leads (a pacemaker-spike channel) are
  skipped and listed in ``meta['skipped_channels']``.
- Samples are scaled by channel sensitivity x correction factor, plus the
  channel baseline (which is in sensitivity units), then converted to mV by
  the sensitivity unit (``uV`` in UCUM). Samples equal to the *Waveform
  Padding Value* are gaps (NaN).
- ``meta`` gets the patient's age (*Patient's Age*, else birth date and
  acquisition date) and sex, and the device's unformatted interpretation
  statements from the *Waveform Annotation Sequence* as ``diagnoses``
  (e.g. ``'SINUS RHYTHM'``), with numeric measurements (PR, QRS, QT...) as
  ``measurements``. The patient's name and IDs are not copied.
"""
from __future__ import annotations

import io

import numpy as np

from beatnet_core.ecg import ECG, ECGFormatError, canonical_lead_name, make_ecg
from beatnet_core.io.common import age_in_years, mv_per_unit, parse_date, parse_sex
from beatnet_core.io.source import Source

#: SCP-ECG lead codes (5.6.3-9-N) used in Channel Source Sequences.
_SCPECG_LEADS = {"1": "I", "2": "II", "61": "III", "62": "aVR", "63": "aVL", "64": "aVF",
                 "3": "V1", "4": "V2", "5": "V3", "6": "V4", "7": "V5", "8": "V6"}
#: numpy dtype per (Waveform Bits Allocated, Waveform Sample Interpretation); mu-law and
#: A-law (MB, AB) are compressed and not read.
_SAMPLE_DTYPES = {(8, "SB"): "i1", (8, "UB"): "u1", (16, "SS"): "<i2", (16, "US"): "<u2",
                  (32, "SL"): "<i4", (32, "UL"): "<u4", (64, "SV"): "<i8", (64, "UV"): "<u8"}


def read_dicom(src: Source, fs: float | None = None) -> ECG:
    """Read a DICOM ECG waveform in mV (``fs`` is ignored: each group states its rate)."""
    import pydicom

    try:
        if src.path is not None:
            dataset = pydicom.dcmread(str(src.path))
        else:
            dataset = pydicom.dcmread(io.BytesIO(src.read_bytes()))
    except Exception as exc:  # pydicom raises InvalidDicomError, OSError, EOFError, ValueError...
        raise ECGFormatError(f"{src.name}: not a readable DICOM file ({exc})") from None
    groups = dataset.get("WaveformSequence")
    if not groups:
        kind = dataset.get("Modality") or getattr(dataset.get("SOPClassUID"), "name", None) or "unknown"
        raise ECGFormatError(f"{src.name}: DICOM file without a waveform (modality/class: {kind}); "
                             "not an ECG")
    group = max(groups, key=lambda g: (len([n for n in _channel_leads(g) if n]), _duration(g)))
    names = _channel_leads(group)
    if not any(names):
        labels = [_channel_text(c) for c in group.get("ChannelDefinitionSequence", [])]
        raise ECGFormatError(f"{src.name}: no waveform channel is a known ECG lead (channels: {labels})")

    samples = _decode_samples(src.name, group)
    keep = [i for i, n in enumerate(names) if n]
    channels = group.ChannelDefinitionSequence
    scale = np.array([_mv_per_sample(src.name, channels[i]) for i in keep])
    baseline = np.array([_mv_baseline(channels[i]) for i in keep])
    signal = samples[:, keep] * scale + baseline

    meta = _patient_meta(dataset)
    meta.update(format="DICOM", channel_labels=[_channel_text(channels[i]) for i in keep],
                waveform_group=str(group.get("MultiplexGroupLabel", "")),
                skipped_channels={_channel_text(channels[i]): "not an ECG lead"
                                  for i, n in enumerate(names) if not n})
    return make_ecg(signal, float(group.SamplingFrequency), [names[i] for i in keep],
                    source=src.name, meta=meta)


def _channel_text(channel) -> str:
    """A readable name of a channel for messages: code meaning, else label."""
    source = channel.get("ChannelSourceSequence")
    if source:
        return str(source[0].get("CodeMeaning") or source[0].get("CodeValue") or "")
    return str(channel.get("ChannelLabel", "?"))


def _channel_leads(group) -> list[str | None]:
    """The canonical lead of each channel of a multiplex group (None for non-lead channels)."""
    leads = []
    for channel in group.get("ChannelDefinitionSequence", []):
        candidates = []
        source = channel.get("ChannelSourceSequence")
        if source:
            code = source[0]
            candidates.append(str(code.get("CodeMeaning", "")))
            value = str(code.get("CodeValue", ""))
            candidates.append(value.removeprefix("MDC_ECG_LEAD_"))
            if value.startswith("5.6.3-9-"):
                candidates.append(_SCPECG_LEADS.get(value.rsplit("-", 1)[-1], ""))
        candidates.append(str(channel.get("ChannelLabel", "")))
        leads.append(next((canonical_lead_name(c) for c in candidates if c and canonical_lead_name(c)), None))
    return leads


def _duration(group) -> float:
    rate = float(group.get("SamplingFrequency") or 0)
    return int(group.get("NumberOfWaveformSamples") or 0) / rate if rate > 0 else 0.0


def _decode_samples(filename: str, group) -> np.ndarray:
    """The raw samples of a multiplex group, (samples, channels) float64, padding as NaN."""
    n_channels = int(group.NumberOfWaveformChannels)
    n_samples = int(group.NumberOfWaveformSamples)
    key = (int(group.WaveformBitsAllocated), str(group.WaveformSampleInterpretation))
    if key not in _SAMPLE_DTYPES:
        raise ECGFormatError(f"{filename}: waveform samples of {key[0]} bits, interpretation {key[1]} "
                             "(e.g. mu-law or A-law compressed) are not supported")
    dtype = np.dtype(_SAMPLE_DTYPES[key])
    data = group.WaveformData
    needed = n_samples * n_channels * dtype.itemsize
    if len(data) < needed:
        raise ECGFormatError(f"{filename}: waveform data holds {len(data)} bytes, but "
                             f"{n_samples} samples x {n_channels} channels need {needed}; file truncated")
    raw = np.frombuffer(data[:needed], dtype=dtype).reshape(n_samples, n_channels)
    samples = raw.astype(np.float64)
    padding = group.get("WaveformPaddingValue")
    if padding is not None:
        pad_value = np.frombuffer(bytes(padding)[:dtype.itemsize], dtype=dtype)[0] \
            if isinstance(padding, (bytes, bytearray)) else padding
        samples[raw == pad_value] = np.nan
    return samples


def _sensitivity_unit(channel) -> str:
    units = channel.get("ChannelSensitivityUnitsSequence")
    return str(units[0].get("CodeValue", "")) if units else ""


def _mv_per_sample(filename: str, channel) -> float:
    """mV per stored sample value of one channel (sensitivity x correction, in mV)."""
    if "ChannelSensitivity" not in channel:
        return 1.0  # no physical scale given: values pass unscaled (make_ecg's units say so)
    unit = _sensitivity_unit(channel)
    factor = mv_per_unit(unit)
    if factor is None:
        raise ECGFormatError(f"{filename}: channel {_channel_text(channel)!r} has sensitivity units "
                             f"{unit!r}, not a voltage")
    correction = float(channel.get("ChannelSensitivityCorrectionFactor", 1.0) or 1.0)
    return float(channel.ChannelSensitivity) * correction * factor


def _mv_baseline(channel) -> float:
    """Channel baseline in mV (DICOM gives it in the sensitivity units)."""
    baseline = float(channel.get("ChannelBaseline", 0.0) or 0.0)
    return baseline * (mv_per_unit(_sensitivity_unit(channel)) or 1.0)


def _patient_meta(dataset) -> dict:
    """Age, sex, interpretation statements and measurements (never names or IDs)."""
    meta: dict = {}
    age = _dicom_age(dataset.get("PatientAge"))
    if age is None:
        acquired = str(dataset.get("AcquisitionDateTime") or dataset.get("StudyDate") or "")[:8]
        age = age_in_years(parse_date(dataset.get("PatientBirthDate")), parse_date(acquired))
    if age is not None:
        meta["age"] = age
    sex = parse_sex(dataset.get("PatientSex"))
    if sex:
        meta["sex"] = sex
    statements, measurements = [], {}
    for note in dataset.get("WaveformAnnotationSequence", []):
        text = str(note.get("UnformattedTextValue", "")).strip()
        if text and text not in statements:
            statements.append(text)
        concept = note.get("ConceptNameCodeSequence")
        if concept and "NumericValue" in note:
            name = str(concept[0].get("CodeMeaning", "")).strip()
            value = _first_number(note.NumericValue)
            if name and name not in measurements and value is not None:
                units = note.get("MeasurementUnitsCodeSequence")
                measurements[name] = (value, str(units[0].get("CodeValue", "")) if units else "")
    if statements:
        meta["diagnoses"] = statements
    if measurements:
        meta["measurements"] = measurements
    return meta


def _dicom_age(value) -> int | None:
    """Whole years from a DICOM age string (``'042Y'``, ``'006M'``, ``'010W'``, ``'003D'``)."""
    text = str(value or "").strip().upper()
    if len(text) != 4 or not text[:3].isdigit() or text[3] not in "YMWD":
        return None
    per_year = {"Y": 1, "M": 12, "W": 52, "D": 365}[text[3]]
    return int(int(text[:3]) / per_year)


def _first_number(value) -> float | None:
    """A measurement's value (DS may be multi-valued or empty); None when it is not a number."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
