"""The QRS tokenizer: cut a 12-lead ECG into heartbeat tokens, ``tokenize(ecg) -> BeatTokens``.

Each token is one heartbeat seen in all 12 leads: a fixed window of the
conditioned signal (see :func:`beatnet_core.signal.condition`, 250 Hz, band-
passed and z-scored per lead) aligned on the beat's R peak.

Window bounds, and why: from 0.256 s before the R peak to 0.448 s after it
(176 samples at 250 Hz). A beat's P wave starts at most ~0.25 s before its R
peak (PR interval up to 0.20 s, plus the ~0.04 s from QRS onset to R), and its
T wave ends ~0.40-0.44 s after R at normal rates (QT ~0.40-0.45 s minus that
onset-to-R interval). The window is fixed in *time*, not stretched to the RR
interval, so QRS width (bundle branch block), PR and QT durations keep their
true lengths; rhythm is given to the model separately through the RR
intervals and beat times. At fast rates neighbouring windows overlap, as
neighbouring beats do; parts of a window outside the record are zero (the
z-scored baseline).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from beatnet_core.ecg import ECG, ECGFormatError
from beatnet_core.qrs import detect_qrs
from beatnet_core.signal import ConditioningSpec, condition

PRE_R_S = 0.256
POST_R_S = 0.448


@dataclass
class BeatTokens:
    """Heartbeat tokens of one record.

    Attributes
    ----------
    windows : np.ndarray
        float32 (beats, 12, token_len): each lead's conditioned signal around each R peak.
    r_samples : np.ndarray
        int64 (beats,): R-peak sample indices in the *input* ECG (at ``source_fs``).
    r_times : np.ndarray
        float32 (beats,): R-peak times in seconds from the record's start.
    rr_before, rr_after : np.ndarray
        float32 (beats,): RR intervals (s) before and after each beat. At the
        record's edges the nearest known RR is used; with a single beat, the
        record's duration (a lower bound).
    lead_mask : np.ndarray
        bool (12,): usable leads (masked leads' windows are zero).
    beat_mask : np.ndarray
        bool (beats,): True for real beats, False for padding added by :meth:`pad`.
    fs : float
        The token sampling rate (the model's canonical rate).
    source_fs : float
        Sampling rate of the input ECG.
    window_s : tuple
        (seconds before R, seconds after R) covered by each window.
    """

    windows: np.ndarray
    r_samples: np.ndarray
    r_times: np.ndarray
    rr_before: np.ndarray
    rr_after: np.ndarray
    lead_mask: np.ndarray
    beat_mask: np.ndarray
    fs: float
    source_fs: float
    window_s: tuple[float, float] = (PRE_R_S, POST_R_S)

    @property
    def n_beats(self) -> int:
        return int(self.beat_mask.sum())

    @property
    def token_len(self) -> int:
        return int(self.windows.shape[-1])

    @property
    def rr(self) -> np.ndarray:
        """(beats, 2) RR before and after, seconds."""
        return np.stack([self.rr_before, self.rr_after], axis=-1)

    def select(self, beats) -> "BeatTokens":
        """The tokens of some beats only (a slice or index array)."""
        return replace(self, windows=self.windows[beats], r_samples=self.r_samples[beats],
                       r_times=self.r_times[beats], rr_before=self.rr_before[beats],
                       rr_after=self.rr_after[beats], beat_mask=self.beat_mask[beats])

    def pad(self, n_beats: int) -> "BeatTokens":
        """Pad with masked beats (or keep the first ``n_beats``) to exactly ``n_beats``."""
        have = self.windows.shape[0]
        if have >= n_beats:
            return self.select(slice(0, n_beats))
        extra = n_beats - have

        def grow(a, fill):
            return np.concatenate([a, np.full((extra,) + a.shape[1:], fill, a.dtype)])

        return replace(self, windows=grow(self.windows, 0), r_samples=grow(self.r_samples, -1),
                       r_times=grow(self.r_times, 0), rr_before=grow(self.rr_before, 0),
                       rr_after=grow(self.rr_after, 0), beat_mask=grow(self.beat_mask, False))


def tokenize(ecg: ECG, spec: ConditioningSpec = ConditioningSpec(), r_peaks: np.ndarray | None = None,
             conditioned: np.ndarray | None = None) -> BeatTokens:
    """Cut an ECG into heartbeat tokens aligned on the R peaks of :func:`detect_qrs`.

    Parameters
    ----------
    ecg : ECG
        The record (any rate, any duration).
    spec : ConditioningSpec
        Conditioning of the windows (the model's preprocessing); ``spec.fs`` is the token rate.
    r_peaks : np.ndarray, optional
        R-peak sample indices at ``ecg.fs``; detected with :func:`detect_qrs` when omitted.
    conditioned : np.ndarray, optional
        ``condition(ecg, spec)`` if the caller already has it (avoids doing it twice).

    Returns
    -------
    BeatTokens

    Raises
    ------
    ECGFormatError
        When no heartbeat is found in the record.

    Examples
    --------
    >>> from beatnet_core import load_ecg, tokenize
    >>> tokens = tokenize(load_ecg("../shared/data/ludb/data/1.hea"))  # doctest: +SKIP
    >>> tokens.windows.shape   # beats x leads x samples   # doctest: +SKIP
    (10, 12, 176)
    """
    r = detect_qrs(ecg) if r_peaks is None else np.asarray(r_peaks, np.int64)
    if r.size == 0:
        raise ECGFormatError(f"{ecg.meta.get('source', 'record')}: no heartbeats were detected "
                             f"(is this an ECG? leads usable: {ecg.available_leads})")
    x = condition(ecg, spec) if conditioned is None else conditioned
    pre = int(round(PRE_R_S * spec.fs))
    post = int(round(POST_R_S * spec.fs))
    centre = np.round(r * (spec.fs / ecg.fs)).astype(np.int64)
    # Pad the conditioned signal once so every window is a plain slice.
    padded = np.zeros((x.shape[0] + pre + post, x.shape[1]), np.float32)
    padded[pre:pre + x.shape[0]] = x
    idx = centre[:, None] + np.arange(-pre, post)[None, :] + pre          # (beats, T)
    idx = np.clip(idx, 0, padded.shape[0] - 1)
    windows = padded[idx].transpose(0, 2, 1)                              # (beats, 12, T)

    times = r / float(ecg.fs)
    rr = np.diff(times)
    if rr.size:
        rr_before = np.concatenate([[rr[0]], rr])
        rr_after = np.concatenate([rr, [rr[-1]]])
    else:
        rr_before = rr_after = np.array([ecg.duration_s])
    return BeatTokens(windows=np.ascontiguousarray(windows, np.float32), r_samples=r,
                      r_times=times.astype(np.float32), rr_before=rr_before.astype(np.float32),
                      rr_after=rr_after.astype(np.float32), lead_mask=ecg.lead_mask.copy(),
                      beat_mask=np.ones(r.size, bool), fs=float(spec.fs), source_fs=float(ecg.fs),
                      window_s=(pre / spec.fs, post / spec.fs))


def tokenize_conditioned(x: np.ndarray, fs: float, lead_mask: np.ndarray | None = None,
                         source: str = "conditioned record") -> BeatTokens:
    """Tokens of a record that is already conditioned (e.g. the shared PTB-XL subset).

    Beats are detected on the conditioned signal itself (the detector is
    amplitude-free); the windows are cut from it without conditioning again.
    """
    mask = np.ones(x.shape[1], bool) if lead_mask is None else np.asarray(lead_mask, bool)
    ecg = ECG(np.asarray(x, np.float32), float(fs), lead_mask=mask, meta={"source": source})
    return tokenize(ecg, ConditioningSpec(fs=float(fs)), conditioned=ecg.signal)


def stack_tokens(items: list[BeatTokens], n_beats: int | None = None) -> dict[str, np.ndarray]:
    """Pad records to one beat count and stack them into the model's batch arrays.

    Returns a dict: ``tokens`` (B, N, 12, T) float32, ``beat_mask`` (B, N) bool,
    ``lead_mask`` (B, 12) bool, ``beat_times`` (B, N) float32 s, ``rr`` (B, N, 2) float32 s.
    """
    n = n_beats or max(t.windows.shape[0] for t in items)
    padded = [t.pad(n) for t in items]
    return {
        "tokens": np.stack([t.windows for t in padded]),
        "beat_mask": np.stack([t.beat_mask for t in padded]),
        "lead_mask": np.stack([t.lead_mask for t in padded]),
        "beat_times": np.stack([t.r_times for t in padded]),
        "rr": np.stack([t.rr for t in padded]),
    }
