"""The ECG record every reader produces, and the names of the 12 standard leads.

Every reader in :mod:`beatnet_core.io` ends in :func:`make_ecg`, so the rules
below (canonical lead order, derived limb leads, masks for absent or unusable
leads, the minimum duration and sampling rate) are applied in one place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

#: The 12 standard leads, in the order used everywhere in BEAT-Net (PTB-XL's order).
LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF",
                          "V1", "V2", "V3", "V4", "V5", "V6")
LEAD_INDEX = {name: i for i, name in enumerate(LEADS)}

#: Shortest record accepted: two heartbeats at 50 bpm need 2.4 s; shorter
#: strips carry too little rhythm to read.
MIN_DURATION_S = 2.5
#: Lowest sampling rate accepted: below 50 Hz the QRS complex (~80-120 ms)
#: is only a handful of samples and cannot be located.
MIN_FS = 50.0


class ECGFormatError(ValueError):
    """A file could not be read as an ECG. The message names the file and the problem."""


# Extra spellings seen in the wild, keyed by the normalised form made in
# canonical_lead_name (lower case; no spaces, dashes, underscores, the word
# "lead" or a parenthesised note such as "(Einthoven)").
_ALIASES = {
    "mlii": "II", "mli": "I", "mliii": "III",  # MIT-BIH modified limb leads
    "di": "I", "dii": "II", "diii": "III",     # "dérivation" I-III (French, Spanish)
    "1": "I", "2": "II", "3": "III",
}
_NORMALISED = {name.lower(): name for name in LEADS}


def canonical_lead_name(name: str) -> str | None:
    """Return the canonical name of a lead label (``'avr'`` -> ``'aVR'``), or None.

    Inverted leads such as Cabrera's ``-aVR`` are not the same signal and are
    not mapped.

    >>> canonical_lead_name("Lead II"), canonical_lead_name("MLII"), canonical_lead_name("v5")
    ('II', 'II', 'V5')
    """
    text = str(name).strip()
    if text.startswith("-"):
        return None
    key = re.sub(r"\(.*?\)", "", text.lower())
    key = re.sub(r"[\s_\-]+", "", key)
    key = re.sub(r"^lead", "", key)
    return _NORMALISED.get(key) or _ALIASES.get(key)


@dataclass
class ECG:
    """A multi-lead ECG in the canonical 12-lead layout.

    Attributes
    ----------
    signal : np.ndarray
        float32, shape (samples, 12), in mV where the source has physical units,
        columns in :data:`LEADS` order. Leads the source lacks are zero and
        marked False in ``lead_mask``.
    fs : float
        Sampling rate in Hz.
    leads : list of str
        Always :data:`LEADS` (kept as an attribute so callers need not import it).
    lead_mask : np.ndarray
        bool, shape (12,): True where the lead holds a usable recorded or derived signal.
    meta : dict
        ``source`` (file name), ``age``, ``sex``, ``comments`` (header comments),
        ``diagnoses`` (list of str, where the format carries them), ``units``,
        ``source_leads`` (the names as written in the file), ``derived_leads``,
        ``masked_leads`` (lead -> reason).
    """

    signal: np.ndarray
    fs: float
    leads: list[str] = field(default_factory=lambda: list(LEADS))
    lead_mask: np.ndarray = field(default_factory=lambda: np.ones(len(LEADS), bool))
    meta: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.fs)

    @property
    def available_leads(self) -> list[str]:
        return [name for name, ok in zip(self.leads, self.lead_mask) if ok]

    def lead(self, name: str) -> np.ndarray:
        """The samples of one lead, by canonical name or alias."""
        canon = canonical_lead_name(name)
        if canon is None:
            raise KeyError(f"unknown lead {name!r}")
        return self.signal[:, LEAD_INDEX[canon]]

    def window(self, start_s: float, stop_s: float) -> "ECG":
        """A view of the record between two times (seconds), e.g. one 10 s page of a Holter."""
        a = max(0, int(round(start_s * self.fs)))
        b = min(self.n_samples, int(round(stop_s * self.fs)))
        meta = dict(self.meta, window_s=(a / self.fs, b / self.fs))
        return ECG(self.signal[a:b], self.fs, list(self.leads), self.lead_mask.copy(), meta)

    def __repr__(self) -> str:  # the default would print the whole array
        return (f"ECG({self.meta.get('source', '?')!s}, {self.duration_s:.1f} s at {self.fs:g} Hz, "
                f"leads={self.available_leads})")


def _is_unusable(x: np.ndarray) -> str | None:
    """Why a lead cannot be used (all NaN, or flat), or None if it can."""
    finite = np.isfinite(x)
    if not finite.any():
        return "all NaN"
    if np.nanmax(x) - np.nanmin(x) < 1e-6 or float(np.nanstd(x)) < 1e-4 * max(1.0, float(np.nanmax(np.abs(x)))):
        return "flat"
    return None


def make_ecg(signal: np.ndarray, fs: float | None, lead_names, *, source: str,
             meta: dict | None = None, units: str = "mV") -> ECG:
    """Build a checked :class:`ECG` from a (samples, leads) array and the lead names of the file.

    Maps lead aliases, reorders to :data:`LEADS`, derives missing limb leads
    from I and II (Einthoven/Goldberger), masks absent, flat or all-NaN
    leads, and refuses what cannot be an ECG with an :class:`ECGFormatError`
    naming ``source``.
    """
    meta = dict(meta or {})
    meta.setdefault("source", source)
    meta.setdefault("units", units)
    if fs is None:
        raise ECGFormatError(f"{source}: sampling rate missing; pass fs=... (Hz)")
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise ECGFormatError(f"{source}: sampling rate {fs!r} is not a number") from None
    if not np.isfinite(fs) or fs < MIN_FS:
        raise ECGFormatError(f"{source}: sampling rate {fs:g} Hz is below the minimum of {MIN_FS:g} Hz")
    x = np.asarray(signal)
    if x.dtype.kind not in "fiu" or x.ndim != 2:
        raise ECGFormatError(f"{source}: expected a numeric (samples x leads) array, got {x.dtype} {x.shape}")
    lead_names = [str(n) for n in lead_names]
    if x.shape[1] != len(lead_names):
        raise ECGFormatError(f"{source}: {x.shape[1]} signal columns but {len(lead_names)} lead names")
    if x.shape[0] < MIN_DURATION_S * fs:
        raise ECGFormatError(f"{source}: record is {x.shape[0] / fs:.2f} s long; at least "
                             f"{MIN_DURATION_S:g} s is needed")

    canon = [canonical_lead_name(n) for n in lead_names]
    unknown = [n for n, c in zip(lead_names, canon) if c is None]
    if unknown:
        raise ECGFormatError(f"{source}: unknown lead name(s) {unknown}; expected names such as "
                             f"{', '.join(LEADS)} (aliases like 'avr', 'MLII', 'Lead II' are accepted)")
    dup = sorted({c for c in canon if canon.count(c) > 1})
    if dup:
        raise ECGFormatError(f"{source}: lead(s) {dup} appear more than once")

    out = np.zeros((x.shape[0], len(LEADS)), np.float32)
    mask = np.zeros(len(LEADS), bool)
    masked: dict[str, str] = {}
    for col, name in enumerate(canon):
        lead = x[:, col].astype(np.float32)
        reason = _is_unusable(lead)
        if reason is None and not np.isfinite(lead).all():
            # Short gaps of NaN (dropouts) are bridged so filters downstream stay finite.
            idx = np.arange(lead.size)
            ok = np.isfinite(lead)
            lead = np.interp(idx, idx[ok], lead[ok]).astype(np.float32)
            meta.setdefault("interpolated_leads", []).append(name)
        if reason is None:
            out[:, LEAD_INDEX[name]] = lead
            mask[LEAD_INDEX[name]] = True
        else:
            masked[name] = reason
    for name in LEADS:
        if name not in canon:
            masked.setdefault(name, "absent")

    derived = _derive_limb_leads(out, mask)
    for name in derived:
        masked.pop(name, None)
    if not mask.any():
        raise ECGFormatError(f"{source}: every lead is flat, NaN or absent ({masked})")
    meta["source_leads"] = lead_names
    meta["derived_leads"] = derived
    meta["masked_leads"] = {k: v for k, v in masked.items() if not mask[LEAD_INDEX[k]]}
    return ECG(out, fs, list(LEADS), mask, meta)


def _derive_limb_leads(sig: np.ndarray, mask: np.ndarray) -> list[str]:
    """Fill III, aVR, aVL, aVF from I and II where they are missing (in place).

    Einthoven: III = II - I. Goldberger: aVR = -(I + II)/2, aVL = I - II/2,
    aVF = II - I/2. Only done when both I and II are usable.
    """
    i, ii = LEAD_INDEX["I"], LEAD_INDEX["II"]
    if not (mask[i] and mask[ii]):
        return []
    lead_i, lead_ii = sig[:, i], sig[:, ii]
    formulas = {"III": lead_ii - lead_i, "aVR": -(lead_i + lead_ii) / 2,
                "aVL": lead_i - lead_ii / 2, "aVF": lead_ii - lead_i / 2}
    derived = []
    for name, values in formulas.items():
        k = LEAD_INDEX[name]
        if not mask[k]:
            sig[:, k] = values
            mask[k] = True
            derived.append(name)
    return derived
