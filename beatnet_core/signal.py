"""Signal conditioning: filters, resampling, per-lead normalisation, quality flags.

:func:`condition` is the one preprocessing function shared by training and
inference. Its default :class:`ConditioningSpec` reproduces the preprocessing
of the shared PTB-XL subset (``ptbxl_subset_250hz.npz``): a 4th-order
Butterworth band-pass 0.5-40 Hz applied forward and backward (zero phase) at
the recording's own rate, a per-lead z-score over the whole record, then
polyphase resampling to 250 Hz. The bundled model is trained on that, so
every input must go through the same steps.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
from scipy import signal as sps

from beatnet_core.ecg import ECG, LEADS


@dataclass(frozen=True)
class ConditioningSpec:
    """Parameters of :func:`condition`; saved in every model run directory."""

    fs: float = 250.0              # output rate (Hz): the model's canonical rate
    band: tuple[float, float] = (0.5, 40.0)
    order: int = 4                 # Butterworth order (before forward-backward doubling)
    normalize: str = "zscore"      # "zscore" (per lead, whole record) or "none"
    powerline_hz: float | None = None  # notch at 50/60 Hz; None: the band-pass's 40 Hz edge handles it

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> "ConditioningSpec":
        d = dict(d)
        if "band" in d:
            d["band"] = tuple(d["band"])
        return cls(**d)


def bandpass(x: np.ndarray, fs: float, low: float = 0.5, high: float = 40.0, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass along axis 0 (samples).

    The upper edge is clipped below Nyquist so 100 Hz records can be filtered too.

    >>> import numpy as np
    >>> t = np.arange(5000) / 500
    >>> y = bandpass(np.sin(2 * np.pi * 0.05 * t)[:, None] + np.sin(2 * np.pi * 10 * t)[:, None], 500)
    >>> bool(np.abs(y[500:-500, 0] - np.sin(2 * np.pi * 10 * t)[500:-500]).max() < 0.05)
    True
    """
    high = min(high, 0.45 * fs)
    sos = sps.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, x, axis=0)


def highpass(x: np.ndarray, fs: float, cutoff: float = 0.5, order: int = 2) -> np.ndarray:
    """Zero-phase high-pass: removes baseline wander (respiration, electrode drift)."""
    sos = sps.butter(order, cutoff, btype="highpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, x, axis=0)


def remove_powerline(x: np.ndarray, fs: float, freq: float = 50.0, quality: float = 30.0) -> np.ndarray:
    """Zero-phase notch at the mains frequency (50 or 60 Hz) and, where below Nyquist, its harmonic."""
    y = x
    for f in (freq, 2 * freq):
        if f < fs / 2 - 1:
            b, a = sps.iirnotch(f, quality, fs=fs)
            y = sps.filtfilt(b, a, y, axis=0)
    return y


def resample(x: np.ndarray, fs_in: float, fs_out: float, axis: int = 0) -> np.ndarray:
    """Polyphase (anti-aliased) resampling along ``axis`` (the samples axis)."""
    if abs(fs_in - fs_out) < 1e-9:
        return x
    frac = Fraction(float(fs_out) / float(fs_in)).limit_denominator(1000)
    return sps.resample_poly(x, frac.numerator, frac.denominator, axis=axis)


def zscore(x: np.ndarray, lead_mask: np.ndarray | None = None, eps: float = 1e-6) -> np.ndarray:
    """Per-lead z-score over the whole record; masked leads stay exactly zero."""
    mu = x.mean(axis=0, keepdims=True)
    sd = x.std(axis=0, keepdims=True)
    y = (x - mu) / np.maximum(sd, eps)
    if lead_mask is not None:
        y[:, ~np.asarray(lead_mask, bool)] = 0.0
    return y


def condition(ecg: ECG, spec: ConditioningSpec = ConditioningSpec()) -> np.ndarray:
    """The model's preprocessing: band-pass, (notch), z-score, resample to ``spec.fs``.

    Returns float32 (samples at ``spec.fs``, 12); masked leads are zero.

    Examples
    --------
    >>> from beatnet_core import load_ecg
    >>> x = condition(load_ecg("../shared/data/ludb/data/1.hea"))  # doctest: +SKIP
    >>> x.shape
    (2500, 12)
    """
    x = ecg.signal.astype(np.float64)
    x = bandpass(x, ecg.fs, *spec.band, order=spec.order)
    if spec.powerline_hz:
        x = remove_powerline(x, ecg.fs, spec.powerline_hz)
    if spec.normalize == "zscore":
        x = zscore(x, ecg.lead_mask)
    elif spec.normalize != "none":
        raise ValueError(f"unknown normalize={spec.normalize!r}; use 'zscore' or 'none'")
    x = resample(x, ecg.fs, spec.fs)
    x[:, ~ecg.lead_mask] = 0.0
    return x.astype(np.float32)


def quality_flags(ecg: ECG, clip_fraction: float = 0.01, noise_ratio: float = 0.5) -> dict[str, list[str]]:
    """Per-lead quality problems: ``flat``, ``clipped`` (saturation), ``noisy``, ``absent``.

    - clipped: more than ``clip_fraction`` of samples sit at the lead's own
      extreme value (an amplifier rail), in runs of 3+ samples.
    - noisy: high-frequency power (> 40 Hz) is more than ``noise_ratio`` of the
      power in the ECG band (0.5-40 Hz), i.e. EMG or electrode noise
      comparable to the ECG itself.

    Returns a dict lead name -> list of flags (empty list for a clean lead).
    """
    flags: dict[str, list[str]] = {name: [] for name in LEADS}
    x = ecg.signal.astype(np.float64)
    for k, name in enumerate(LEADS):
        if not ecg.lead_mask[k]:
            flags[name].append(ecg.meta.get("masked_leads", {}).get(name, "absent"))
            continue
        lead = x[:, k]
        if np.ptp(lead) < 1e-3:
            flags[name].append("flat")
            continue
        for extreme in (lead.max(), lead.min()):
            at_rail = np.isclose(lead, extreme, atol=1e-6)
            runs = at_rail[:-2] & at_rail[1:-1] & at_rail[2:]
            if runs.sum() > clip_fraction * lead.size:
                flags[name].append("clipped")
                break
    if ecg.fs > 100:
        ecg_band = bandpass(x, ecg.fs, 0.5, 40.0)
        hf = highpass(x, ecg.fs, min(40.0, 0.4 * ecg.fs), order=4)
        ratio = hf.std(axis=0) / np.maximum(ecg_band.std(axis=0), 1e-9)
        for k, name in enumerate(LEADS):
            if ecg.lead_mask[k] and ratio[k] > noise_ratio:
                flags[name].append("noisy")
    return flags
