"""EDF, EDF+ (and BDF) recordings, read with pyedflib.

Conventions
-----------
- Channels whose label names a lead are the ECG: ``I``, ``V1``, ``Lead II``
  and the EDF+ standard texts ``ECG I``, ``EKG V1`` (an ``ECG``/``EKG``
  prefix is dropped). Other channels (respiration, SpO2, EEG, a bare
  ``ECG`` that names no lead) are skipped and listed in
  ``meta['skipped_channels']``; EDF+ annotation channels are never signals.
- Lead channels sampled at different rates: the rate most leads share is
  kept (the higher one on a tie) and the other leads are skipped.
- Physical values are converted to mV by each channel's physical dimension
  (``uV``, ``mV``, ``V``); an empty dimension is taken as mV, a non-voltage
  one (``bpm``) on a lead channel is an error.
- Patient sex and age (from the EDF+ birth date and the start date) go to
  ``meta``; the patient's name is not copied. EDF+ annotations are kept in
  ``meta['annotations']`` as (onset s, duration s, text).
- pyedflib only opens paths, so uploaded bytes are written to a private
  temporary folder for the duration of the read (:meth:`Source.local_path`).
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

from beatnet_core.ecg import ECG, ECGFormatError, canonical_lead_name, make_ecg
from beatnet_core.io.common import age_in_years, mv_per_unit, parse_date, parse_sex
from beatnet_core.io.source import Source


def edf_lead_name(label: str) -> str | None:
    """The canonical lead of an EDF channel label (``'ECG V2'`` -> ``'V2'``), or None."""
    return canonical_lead_name(label) or canonical_lead_name(re.sub(r"^\s*(ecg|ekg)[\s_\-:.]*", "",
                                                                      label, flags=re.I))


def read_edf(src: Source, fs: float | None = None) -> ECG:
    """Read the ECG leads of an EDF/EDF+/BDF file in mV (``fs`` is ignored: EDF states its rates)."""
    import pyedflib

    with src.local_path() as path:
        try:
            edf = pyedflib.EdfReader(str(path))
        except OSError as exc:
            raise ECGFormatError(f"{src.name}: not a readable EDF/EDF+ file ({_reason(exc)})") from None
        try:
            labels = [label.strip() for label in edf.getSignalLabels()]
            rates = [float(r) for r in edf.getSampleFrequencies()]
            leads, skipped = _select_leads(src.name, labels, rates)
            columns, names, units = [], [], []
            for channel in leads:
                unit = edf.getPhysicalDimension(channel).strip()
                factor = mv_per_unit(unit) if unit else 1.0
                if factor is None:
                    raise ECGFormatError(f"{src.name}: channel {labels[channel]!r} is in {unit!r}, "
                                         "not a voltage")
                columns.append(edf.readSignal(channel) * factor)
                names.append(edf_lead_name(labels[channel]))
                units.append(unit or "(none, taken as mV)")
            meta = _patient_meta(edf)
        finally:
            edf.close()

    n_samples = min(c.size for c in columns)  # equal in a valid file: same rate, same duration
    signal = np.column_stack([c[:n_samples] for c in columns])
    meta.update(format="EDF", channel_labels=[labels[c] for c in leads],
                channel_units=units, skipped_channels=skipped)
    return make_ecg(signal, rates[leads[0]], names, source=src.name, meta=meta)


def _select_leads(filename: str, labels: list[str], rates: list[float]) -> tuple[list[int], dict]:
    """Indices of the lead channels to keep, and why every other channel was skipped."""
    skipped: dict[str, str] = {}
    leads = []
    for i, label in enumerate(labels):
        if edf_lead_name(label):
            leads.append(i)
        else:
            skipped[label] = "not an ECG lead"
    if not leads:
        raise ECGFormatError(f"{filename}: no channel is a known ECG lead (channel labels: {labels}); "
                             "lead labels such as 'I', 'ECG II', 'V1' are expected")
    counts = Counter(rates[i] for i in leads)
    rate = max(counts, key=lambda r: (counts[r], r))
    for i in leads:
        if rates[i] != rate:
            skipped[labels[i]] = f"sampled at {rates[i]:g} Hz, the other leads at {rate:g} Hz"
    return [i for i in leads if rates[i] == rate], skipped


def _patient_meta(edf) -> dict:
    """Sex, age and free-text header fields of an EDF+ file (never the patient's name)."""
    meta: dict = {}
    sex = parse_sex(edf.getSex())
    if sex:
        meta["sex"] = sex
    try:
        start = edf.getStartdatetime()
    except Exception:  # a malformed start date must not cost the signal
        start = None
    age = age_in_years(parse_date(edf.getBirthdate()), start)
    if age is not None:
        meta["age"] = age
    comments = [text for text in (edf.getPatientAdditional(), edf.getRecordingAdditional(),
                                  edf.getEquipment()) if str(text).strip()]
    if comments:
        meta["comments"] = [str(c).strip() for c in comments]
    onsets, durations, texts = edf.readAnnotations()
    if len(texts):
        meta["annotations"] = [(float(o), float(d), str(t)) for o, d, t in zip(onsets, durations, texts)]
    return meta


def _reason(exc: OSError) -> str:
    """pyedflib's message without the temporary path it was given."""
    return str(exc).split(": ", 1)[-1]
