"""Inference: ``BeatNetPredictor.load(path=None).predict(ecg) -> Prediction``.

The prediction and its attention maps come from one forward pass of the model
on the record's heartbeat tokens; the tokens are made by the same
:func:`beatnet_core.tokenizer.tokenize` (and so the same conditioning) as in
training. Records longer than :data:`PAGE_S` + 10 s are read in 10 s pages, the
length the model was trained on; their probabilities are the mean over pages.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from beatnet_core.ecg import ECG, LEADS
from beatnet_core.tokenizer import BeatTokens, stack_tokens, tokenize

#: Where the bundled model lives (a run directory written by ``beatnet train``).
BUNDLED_MODEL = Path(__file__).resolve().parents[1] / "assets" / "model"
#: Page length (s) for long records: the duration of the training records.
PAGE_S = 10.0


@dataclass
class Prediction:
    """What the model says about one ECG, and where it looked.

    Attributes
    ----------
    probabilities : dict
        label code -> probability (sigmoid of the logit).
    labels : list of str
        Codes whose probability reaches their decision threshold (chosen on validation data).
    thresholds, descriptions : dict
        label code -> threshold; label code -> plain-language description.
    lead_attention : np.ndarray
        (beats, 12): per beat, the weight of each lead (rows sum to 1 over usable leads).
    beat_attention : np.ndarray
        (beats,): the weight of each beat in the diagnosis (sums to 1).
    r_peaks : np.ndarray
        (beats,): R-peak sample indices in the input ECG.
    tokens : BeatTokens
        The tokens the model read (None for long records read in pages).
    whole_beat_share : np.ndarray or None
        (beats,): for a model whose beat vectors also carry the 12-lead
        whole-beat reading, that part's share of each beat vector (the leads'
        share is the rest, split by ``lead_attention``); None for a model whose
        beat vectors are lead-attention-weighted sums only.
    rhythm_summary_share : float or None
        For a model whose record vector also carries the rate and RR
        regularity (``rhythm_summary``), that part's share of it (mean over
        the pages of a long record; the beats' share is the rest, split by
        ``beat_attention``); None for a model without it.
    """

    probabilities: dict[str, float]
    labels: list[str]
    thresholds: dict[str, float]
    descriptions: dict[str, str]
    lead_attention: np.ndarray
    beat_attention: np.ndarray
    r_peaks: np.ndarray
    tokens: BeatTokens | None = None
    leads: list[str] = field(default_factory=lambda: list(LEADS))
    source: str = ""
    whole_beat_share: np.ndarray | None = None
    rhythm_summary_share: float | None = None

    def to_dict(self) -> dict:
        """JSON-serialisable form (what ``beatnet predict --json`` prints)."""
        return {
            "source": self.source,
            "labels": self.labels,
            "probabilities": {k: round(float(v), 6) for k, v in self.probabilities.items()},
            "thresholds": {k: round(float(v), 6) for k, v in self.thresholds.items()},
            "descriptions": self.descriptions,
            "r_peaks": [int(r) for r in self.r_peaks],
            "leads": self.leads,
            "lead_attention": np.round(self.lead_attention, 6).tolist(),
            "beat_attention": np.round(self.beat_attention, 6).tolist(),
            **({} if self.whole_beat_share is None
               else {"whole_beat_share": np.round(self.whole_beat_share, 6).tolist()}),
            **({} if self.rhythm_summary_share is None
               else {"rhythm_summary_share": round(float(self.rhythm_summary_share), 6)}),
        }


class BeatNetPredictor:
    """A trained BEAT-Net ready to diagnose ECGs.

    Examples
    --------
    >>> from beatnet_core import BeatNetPredictor, load_ecg
    >>> predictor = BeatNetPredictor.load()                       # doctest: +SKIP
    >>> pred = predictor.predict(load_ecg("sample_ecgs/00009_hr.hea"))  # doctest: +SKIP
    >>> pred.labels                                               # doctest: +SKIP
    ['NORM', 'SR']
    """

    def __init__(self, model: torch.nn.Module, run: dict, path: Path):
        if getattr(model, "input_kind", None) != "tokens":
            raise ValueError(f"{path}: BeatNetPredictor needs a token model (BEAT-Net), not "
                             f"{run['config']['model']}")
        self.model = model.eval()
        self.run = run
        self.path = path
        self.label_names: list[str] = list(run["labels"])
        self.thresholds = np.asarray(run["thresholds"], float)
        self.descriptions: dict[str, str] = dict(run["descriptions"])
        self.spec = run["spec"]

    @classmethod
    def load(cls, path=None) -> "BeatNetPredictor":
        """Load a run directory; ``None`` loads the bundled model (or ``$BEATNET_MODEL``)."""
        from beatnet_core.train import load_run

        path = Path(path or os.environ.get("BEATNET_MODEL") or BUNDLED_MODEL)
        model, run = load_run(path)
        return cls(model, run, path)

    def model_inputs(self, tokens: BeatTokens | list[BeatTokens]) -> dict[str, torch.Tensor]:
        """Batch tensors for ``self.model(**inputs)`` from one or several records' tokens."""
        items = [tokens] if isinstance(tokens, BeatTokens) else list(tokens)
        return {k: torch.from_numpy(v) for k, v in stack_tokens(items).items()}

    def predict(self, ecg: ECG) -> Prediction:
        """Diagnose one ECG (see :class:`Prediction`)."""
        return self.predict_many([ecg])[0]

    @torch.no_grad()
    def predict_many(self, ecgs: list[ECG], batch_size: int = 64) -> list[Prediction]:
        """Diagnose several ECGs, batching their (pages of) tokens through the model."""
        pages: list[tuple[int, int, BeatTokens]] = []   # (record, sample offset, tokens)
        for i, ecg in enumerate(ecgs):
            for offset, page in _pages(ecg):
                pages.append((i, offset, tokenize(page, self.spec)))
        probs, lead_att, beat_att, whole_share, summary_share = [], [], [], [], []
        for start in range(0, len(pages), batch_size):
            chunk = [p[2] for p in pages[start:start + batch_size]]
            logits, attention = self.model(**self.model_inputs(chunk))
            p = torch.sigmoid(logits).numpy()
            for j, tok in enumerate(chunk):
                n = tok.windows.shape[0]
                probs.append(p[j])
                lead_att.append(attention["lead_attention"][j, :n].numpy())
                beat_att.append(attention["beat_attention"][j, :n].numpy())
                if "whole_beat_share" in attention:
                    whole_share.append(attention["whole_beat_share"][j, :n].numpy())
                if "rhythm_summary_share" in attention:
                    summary_share.append(float(attention["rhythm_summary_share"][j]))
        out = []
        for i, ecg in enumerate(ecgs):
            mine = [k for k, page in enumerate(pages) if page[0] == i]
            prob = np.mean([probs[k] for k in mine], axis=0)
            r = np.concatenate([pages[k][2].r_samples + pages[k][1] for k in mine])
            beat = np.concatenate([beat_att[k] / len(mine) for k in mine])
            over = prob >= self.thresholds
            out.append(Prediction(
                probabilities=dict(zip(self.label_names, map(float, prob))),
                labels=[c for c, o in zip(self.label_names, over) if o],
                thresholds=dict(zip(self.label_names, map(float, self.thresholds))),
                descriptions=self.descriptions,
                lead_attention=np.concatenate([lead_att[k] for k in mine]),
                beat_attention=beat, r_peaks=r,
                tokens=pages[mine[0]][2] if len(mine) == 1 else None,
                source=str(ecg.meta.get("source", "")),
                whole_beat_share=np.concatenate([whole_share[k] for k in mine]) if whole_share else None,
                rhythm_summary_share=float(np.mean([summary_share[k] for k in mine])) if summary_share else None,
            ))
        return out


def _pages(ecg: ECG):
    """(sample offset, ECG) pages: the whole record up to PAGE_S + 10 s, else 10 s pages.

    A last page shorter than 2.5 s is merged into the one before it.
    """
    if ecg.duration_s <= PAGE_S + 10.0:
        yield 0, ecg
        return
    n_page = int(PAGE_S * ecg.fs)
    starts = list(range(0, ecg.n_samples, n_page))
    if ecg.n_samples - starts[-1] < 2.5 * ecg.fs:
        starts.pop()
    for j, a in enumerate(starts):
        b = starts[j + 1] if j + 1 < len(starts) else ecg.n_samples
        yield a, ecg.window(a / ecg.fs, b / ecg.fs)
