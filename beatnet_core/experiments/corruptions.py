"""Test-time corruptions of a 12-lead ECG: ``corrupt(x, fs, kind, severity, rng)``.

Each corruption acts on a (samples, leads) array *before* the model's
conditioning (:func:`beatnet_core.signal.condition`), as interference reaches
a real recorder. ``kind`` picks one small private function; ``severity`` is in
the kind's natural unit (:data:`UNITS`):

==================  ========  =====================================================
kind                severity  what is added / done
==================  ========  =====================================================
gaussian_noise      SNR, dB   Gaussian noise in the model's band (see below)
electrode_motion    SNR, dB   bursts of low-frequency noise (electrode-motion-like)
baseline_wander     mV        a sum of 0.05-0.5 Hz sinusoids, peak = severity
powerline_50/_60    mV        a 50 / 60 Hz sinusoid of amplitude = severity
missing_leads       leads     that many leads set to zero
amplitude_scale     factor    every lead multiplied by severity
time_shift          s         the record starts later (earlier if < 0)
==================  ========  =====================================================

SNR is per lead and *in the model's band* (0.5-40 Hz, the band-pass of the
conditioning): signal power = variance of the band-passed clean lead, noise
power = variance of the band-passed added noise, as measured by
:func:`snr_db`. Gaussian noise is white noise filtered to that band. Why:
white noise at 500 Hz keeps only ~16 % of its power after the 0.5-40 Hz
band-pass (~32 % at 250 Hz), so a full-band SNR would overstate the noise the
model sees by ~5-8 dB, differently for the 500 Hz raw records and the 250 Hz
subset; in-band SNR is the same for both and does not change under the
per-lead z-score. Electrode-motion bursts (the artefact of the MIT-BIH Noise
Stress Test's ``em`` record, Moody et al. 1984) are simulated as 0.5-15 Hz
noise under Hann envelopes, at the same instants in every lead; their SNR is
over the whole record, so inside a burst the local SNR is lower (3 bursts of
0.4-1.0 s cover ~20 % of 10 s: ~7 dB lower).

Amplitudes in mV apply to records in mV. For records already z-scored (the
shared PTB-XL subset), pass ``units_per_mv`` (z units per mV of each lead)
so that "1 mV" means the same relative size; SNR-based corruptions need no
conversion.

References
----------
Moody G.B., Muldrow W.E., Mark R.G., "A noise stress test for arrhythmia
detectors", Computers in Cardiology 11:381-384 (1984).
Clifford G.D., Azuaje F., McSharry P., "Advanced Methods and Tools for ECG
Data Analysis", Artech House (2006), ch. 3 (baseline wander, mains, EMG, motion).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from beatnet_core.signal import bandpass

#: The model's pass band (the conditioning's band-pass), where SNR is measured.
MODEL_BAND = (0.5, 40.0)
#: Unit of ``severity`` per kind.
UNITS = {"none": "", "gaussian_noise": "dB SNR", "electrode_motion": "dB SNR", "baseline_wander": "mV",
         "powerline_50": "mV", "powerline_60": "mV", "missing_leads": "leads", "amplitude_scale": "x",
         "time_shift": "s"}
#: Kinds that add something independent of the signal (``corrupt(x) - x`` does not depend on ``x``);
#: the others transform the signal itself (and commute with linear filtering).
ADDITIVE = frozenset({"gaussian_noise", "electrode_motion", "baseline_wander", "powerline_50", "powerline_60"})
#: Frequencies of baseline wander (Hz): respiration and electrode drift.
WANDER_HZ = (0.05, 0.5)
#: Electrode-motion bursts: number, duration range (s) and noise band (Hz).
EM_BURSTS = 3
EM_BURST_S = (0.4, 1.0)
EM_BAND = (0.5, 15.0)


def corrupt(x: np.ndarray, fs: float, kind: str, severity: float = 0.0, rng=None, *,
            units_per_mv=1.0, band: tuple[float, float] | None = MODEL_BAND) -> np.ndarray:
    """A corrupted copy of an ECG array.

    Parameters
    ----------
    x : np.ndarray
        (samples, leads), in mV (or z units, see ``units_per_mv``). All-zero
        leads (absent) stay zero.
    fs : float
        Sampling rate (Hz).
    kind : str
        A key of :data:`UNITS` (``"none"`` returns a copy).
    severity : float
        In the unit of :data:`UNITS` for ``kind``.
    rng : int, np.random.Generator or None
        Randomness (noise, wander phases, which leads go missing).
    units_per_mv : float or array (leads,)
        Signal units per mV, for the mV-based kinds (1 for records in mV).
    band : (low, high) or None
        Band of the Gaussian noise and of the SNR; None: white noise, full-band SNR.

    Returns
    -------
    np.ndarray
        float64, same shape as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(5000) / 500
    >>> x = np.stack([np.sin(2 * np.pi * 1.2 * t) ** 15] * 2, axis=1)
    >>> y = corrupt(x, 500, "gaussian_noise", 10, rng=0)
    >>> np.round(snr_db(x, y, 500), 1).tolist()
    [10.0, 10.0]
    >>> int((corrupt(x, 500, "missing_leads", 1, rng=0) == 0).all(axis=0).sum())
    1
    """
    try:
        fn = _CORRUPTIONS[kind]
    except KeyError:
        raise ValueError(f"unknown corruption {kind!r}; choose from {sorted(_CORRUPTIONS)}") from None
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a (samples, leads) array, got shape {x.shape}")
    upm = np.broadcast_to(np.asarray(units_per_mv, np.float64), (x.shape[1],))
    return fn(x, float(fs), float(severity), np.random.default_rng(rng), upm, band)


def snr_db(clean: np.ndarray, corrupted: np.ndarray, fs: float,
           band: tuple[float, float] | None = MODEL_BAND) -> np.ndarray:
    """Per-lead SNR (dB) of ``corrupted`` against ``clean``, in ``band`` (None: full band).

    Signal power is the variance of the (band-passed) clean lead; noise power
    the variance of the (band-passed) difference. Leads without signal or
    without noise give NaN or +inf.
    """
    clean = np.asarray(clean, np.float64)
    noise = np.asarray(corrupted, np.float64) - clean
    ps, pn = _power(clean, fs, band), _power(noise, fs, band)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10 * np.log10(ps / pn)


def zeroed_leads(clean: np.ndarray, corrupted: np.ndarray) -> np.ndarray:
    """bool (leads,): leads with signal in ``clean`` that are all zero in ``corrupted``."""
    return np.any(np.asarray(clean) != 0, axis=0) & ~np.any(np.asarray(corrupted) != 0, axis=0)


# --------------------------------------------------------------------------- helpers

def _power(x: np.ndarray, fs: float, band) -> np.ndarray:
    y = x if band is None else bandpass(x, fs, *band)
    return y.var(axis=0)


def _scaled_to_snr(x: np.ndarray, noise: np.ndarray, fs: float, snr: float, band) -> np.ndarray:
    """``noise`` scaled per lead so that :func:`snr_db` (x, x + noise) equals ``snr``."""
    ps, pn = _power(x, fs, band), _power(noise, fs, band)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.sqrt(ps / (pn * 10 ** (snr / 10)))
    gain[~np.isfinite(gain) | (ps <= 0)] = 0.0      # absent (all-zero) leads stay absent
    return noise * gain


def _present(x: np.ndarray) -> np.ndarray:
    return np.any(x != 0, axis=0)


# --------------------------------------------------------------------------- the corruptions

def _none(x, fs, severity, rng, upm, band):
    return x.copy()


def _gaussian_noise(x, fs, snr, rng, upm, band):
    noise = rng.standard_normal(x.shape)
    if band is not None:
        noise = bandpass(noise, fs, *band)
    return x + _scaled_to_snr(x, noise, fs, snr, band)


def _electrode_motion(x, fs, snr, rng, upm, band):
    n = x.shape[0]
    envelope = np.zeros(n)
    for _ in range(EM_BURSTS):
        length = int(rng.uniform(*EM_BURST_S) * fs)
        start = int(rng.integers(0, max(1, n - length)))
        envelope[start:start + length] = np.maximum(envelope[start:start + length], np.hanning(length)[: n - start])
    noise = bandpass(rng.standard_normal(x.shape), fs, *EM_BAND) * envelope[:, None]
    return x + _scaled_to_snr(x, noise, fs, snr, band)


def _baseline_wander(x, fs, amplitude_mv, rng, upm, band):
    t = np.arange(x.shape[0]) / fs
    wander = np.zeros_like(x)
    for lead in range(x.shape[1]):
        freqs = rng.uniform(*WANDER_HZ, size=3)
        phases = rng.uniform(0, 2 * np.pi, size=3)
        weights = rng.uniform(0.5, 1.0, size=3)
        w = (weights[None, :] * np.sin(2 * np.pi * freqs[None, :] * t[:, None] + phases[None, :])).sum(axis=1)
        wander[:, lead] = w / np.abs(w).max() * amplitude_mv * upm[lead]
    return x + wander * _present(x)


def _powerline(x, fs, amplitude_mv, rng, upm, band, freq: float = 50.0):
    if freq >= fs / 2:
        raise ValueError(f"{freq:g} Hz mains cannot be represented at fs={fs:g} Hz")
    t = np.arange(x.shape[0]) / fs
    hum = np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return x + hum[:, None] * (amplitude_mv * upm * _present(x))[None, :]


def _missing_leads(x, fs, n_leads, rng, upm, band):
    present = np.flatnonzero(_present(x))
    k = int(round(n_leads))
    if not 0 <= k < max(1, present.size):
        raise ValueError(f"cannot remove {k} of the {present.size} leads with signal (one must remain)")
    y = x.copy()
    y[:, rng.choice(present, size=k, replace=False)] = 0.0
    return y


def _amplitude_scale(x, fs, factor, rng, upm, band):
    return x * factor


def _time_shift(x, fs, seconds, rng, upm, band):
    k = int(round(seconds * fs))
    if abs(k) >= x.shape[0]:
        raise ValueError(f"shift of {seconds:g} s is longer than the record")
    y = np.empty_like(x)
    fill = np.median(x, axis=0)          # the isoelectric level of each lead
    if k >= 0:
        y[k:] = x[: x.shape[0] - k]
        y[:k] = fill
    else:
        y[:k] = x[-k:]
        y[k:] = fill
    return y


_CORRUPTIONS = {
    "none": _none,
    "gaussian_noise": _gaussian_noise,
    "electrode_motion": _electrode_motion,
    "baseline_wander": _baseline_wander,
    "powerline_50": partial(_powerline, freq=50.0),
    "powerline_60": partial(_powerline, freq=60.0),
    "missing_leads": _missing_leads,
    "amplitude_scale": _amplitude_scale,
    "time_shift": _time_shift,
}
