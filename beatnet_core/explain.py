"""Explanations of one BEAT-Net prediction: attention read-out and Captum attributions.

Two kinds of explanation, meant to be compared side by side:

- **attention** is what the model *weighted*: the lead attention (beats x 12)
  and beat attention (beats) of the same forward pass as the prediction
  (``Prediction.lead_attention`` / ``beat_attention``). It is the same for
  every label. :func:`attention_lead_importance` summarises it per lead.
- **attribution** is what a label's score *depends on*, per label:

  * :func:`integrated_gradients` -- Integrated Gradients (Sundararajan et al.
    2017) on the input beat windows, the label's logit as output, the
    all-zero window (the z-scored baseline, i.e. an isoelectric line) as
    reference. :func:`input_attribution` maps the window attributions back
    onto the record's timeline (summing where windows overlap), so they can be
    drawn over the trace.
  * :func:`lead_attribution` / :func:`beat_attribution` -- Captum
    ``FeatureAblation`` with one feature per lead (that lead hidden in every
    beat) and one per beat (that beat hidden in every lead). The value is the
    drop in the label's logit when it is hidden: positive = evidence for the
    label, negative = evidence against.
  * :func:`lead_ranking` -- the usable leads ordered by that evidence.

How a lead or beat is hidden, and why: by setting its entry of the model's
``lead_mask`` / ``beat_mask`` to False, not by zeroing its windows. BEAT-Net
never reads a masked window's content (only unmasked (beat, lead) windows go
through the per-lead beat encoder; attention is renormalised over what is
left; the whole-beat CNN sees a masked lead as a flat line whatever it holds),
and it is *trained* with leads hidden that way (lead dropout), so a masked
lead is an input the model knows: "this lead is not available". A zeroed
window is different: the beat encoder reads it as a real, perfectly flat signal, an
isoelectric lead or a beat without a QRS complex at a time where the RR
intervals say there is one, which the model never saw in training; the
attribution would then partly measure the model's reaction to that
artefact. Masking a beat removes its token the way padding is removed (the
neighbours keep their own RR intervals, which still carry the rhythm around
it).

All functions take ``(predictor, ecg_or_prediction, label)`` and return numpy
arrays. ``predictor`` is a :class:`~beatnet_core.predict.BeatNetPredictor`
(or anything with ``model``, ``model_inputs(tokens)``, ``label_names`` and
``predict(ecg)``); passing the ``Prediction`` avoids running the model and the
tokenizer again.

References
----------
Sundararajan M., Taly A., Yan Q., "Axiomatic Attribution for Deep Networks",
ICML 2017. Kokhlikyan N. et al., "Captum: A unified and generic model
interpretability library for PyTorch", arXiv 2009.07896 (2020).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from beatnet_core.ecg import LEADS

__all__ = ["Explanation", "explain", "integrated_gradients", "input_attribution", "windows_to_timeline",
           "lead_attribution", "beat_attribution", "lead_ranking", "attention_lead_importance",
           "attention_whole_beat_share", "label_index"]

#: Interpolation steps of Integrated Gradients. 32 keeps the completeness gap
#: (sum of attributions vs. logit difference) within a few percent for
#: BEAT-Net (ReLU CNN, smooth attention) and one label runs well under 1 s on
#: a 2-core CPU for a 10 s record.
IG_STEPS = 32


# --------------------------------------------------------------------------- helpers

def label_index(predictor, label) -> int:
    """Column of ``label`` (a code such as ``'AFIB'``, or an int index) in the model's output."""
    names = list(predictor.label_names)
    if isinstance(label, (int, np.integer)):
        if not 0 <= int(label) < len(names):
            raise ValueError(f"label index {label} out of range (model has {len(names)} labels)")
        return int(label)
    if label not in names:
        raise ValueError(f"unknown label {label!r}; the model's labels are {names}")
    return names.index(label)


def _prediction(predictor, x):
    """A Prediction for ``x`` (an ECG is run through the predictor, a Prediction is used as is)."""
    pred = x if hasattr(x, "tokens") and hasattr(x, "probabilities") else predictor.predict(x)
    if getattr(pred, "tokens", None) is None:
        raise ValueError("this prediction has no tokens (a long record read in pages): explain one page at a "
                         "time, e.g. ecg.window(start_s, start_s + 10)")
    return pred


def _inputs(predictor, pred) -> dict[str, torch.Tensor]:
    """The model's batch-of-one input tensors for the prediction's tokens, with their real-beat mask."""
    inputs = predictor.model_inputs(pred.tokens)
    params = next(predictor.model.parameters(), None)
    dtype = params.dtype if params is not None else torch.float32
    out = dict(inputs)
    out["tokens"] = inputs["tokens"].to(dtype)
    out["beat_mask"] = inputs["beat_mask"].bool()
    out["lead_mask"] = inputs["lead_mask"].bool()
    return out


def _logit(predictor, k: int):
    """forward(tokens, beat_mask, lead_mask, beat_times, rr) -> the label's logit, (B,)."""
    model = predictor.model

    def forward(tokens, beat_mask, lead_mask, beat_times, rr):
        logits, _ = model(tokens, beat_mask, lead_mask, beat_times, rr)
        return logits[:, k]

    return forward


def _expand(t: torch.Tensor, batch: int) -> torch.Tensor:
    return t.expand(batch, *t.shape[1:])


def _real_beats(inputs) -> np.ndarray:
    return inputs["beat_mask"][0].cpu().numpy().astype(bool)


# --------------------------------------------------------------------------- attention

def attention_lead_importance(pred) -> np.ndarray:
    """Lead attention averaged over beats, each beat weighted by its beat attention: (12,), sums to 1.

    This is the share of the record vector that came through each lead (the
    record vector is the beat-attention-weighted sum of beat vectors, each the
    lead-attention-weighted sum of lead features). For a model whose beat
    vectors also carry the 12-lead whole-beat reading, it is how the leads'
    part was split; that reading's own share is :func:`attention_whole_beat_share`.
    For a model whose record vector also carries the rate and RR regularity,
    it is how the beats' part was split (``Prediction.rhythm_summary_share``
    is the rest).
    """
    lead = np.asarray(pred.lead_attention, np.float64)
    beat = np.asarray(pred.beat_attention, np.float64)[: lead.shape[0]]
    out = (beat[:, None] * lead).sum(axis=0)
    total = out.sum()
    return (out / total if total > 0 else out).astype(np.float32)


def attention_whole_beat_share(pred) -> float | None:
    """The 12-lead whole-beat reading's share of the beat vectors, weighted by beat attention.

    None for a model without that path (its beat vectors are the leads'
    attention-weighted sums only); otherwise the leads' share is 1 minus it,
    split as :func:`attention_lead_importance` shows.
    """
    share = getattr(pred, "whole_beat_share", None)
    if share is None:
        return None
    beat = np.asarray(pred.beat_attention, np.float64)[: len(share)]
    total = beat.sum()
    return float((beat * np.asarray(share, np.float64)).sum() / total) if total > 0 else 0.0


# --------------------------------------------------------------------------- Integrated Gradients

def integrated_gradients(predictor, x, label, n_steps: int = IG_STEPS,
                         return_delta: bool = False):
    """Integrated Gradients of one label's logit on the input beat windows.

    Parameters
    ----------
    predictor : BeatNetPredictor
    x : ECG or Prediction
    label : str or int
        Label code (e.g. ``'AFIB'``) or output index.
    n_steps : int
        Riemann steps of the path integral (Gauss-Legendre).
    return_delta : bool
        Also return the completeness gap: sum of attributions minus
        (logit(input) - logit(all-zero windows)).

    Returns
    -------
    np.ndarray
        float32 (beats, 12, T): attribution of every sample of every window,
        in logit units; zero for masked leads (the model never reads their content).
        With ``return_delta``, ``(attributions, delta)``.
    """
    from captum.attr import IntegratedGradients

    pred = _prediction(predictor, x)
    k = label_index(predictor, label)
    inputs = _inputs(predictor, pred)
    forward = _logit(predictor, k)
    tokens = inputs["tokens"].detach().clone()
    extra = (inputs["beat_mask"], inputs["lead_mask"], inputs["beat_times"], inputs["rr"])
    ig = IntegratedGradients(forward)
    attr, delta = ig.attribute(tokens, baselines=torch.zeros_like(tokens), additional_forward_args=extra,
                               n_steps=n_steps, return_convergence_delta=True)
    real = _real_beats(inputs)
    out = attr[0].detach().cpu().numpy()[real].astype(np.float32)
    out[:, ~inputs["lead_mask"][0].cpu().numpy()] = 0.0
    if return_delta:
        return out, float(delta.detach().reshape(-1)[0])
    return out


def windows_to_timeline(window_values: np.ndarray, tokens, n_samples: int | None = None) -> np.ndarray:
    """Put per-window values back on the record's timeline, at the token rate.

    Each beat window covers ``tokens.window_s`` (0.256 s before to 0.448 s
    after its R peak); where neighbouring windows overlap, their values are
    summed. Samples outside every window are 0.

    Parameters
    ----------
    window_values : (beats, 12, T) array
    tokens : BeatTokens (gives R peaks, rates and the window bounds)
    n_samples : int, optional
        Length of the timeline at ``tokens.fs``; default: the end of the last window.

    Returns
    -------
    np.ndarray float32 (n_samples, 12), sample ``i`` at time ``i / tokens.fs``.
    """
    v = np.asarray(window_values, np.float64)
    n_beats, n_leads, T = v.shape
    r = np.asarray(tokens.r_samples[:n_beats], np.int64)
    real = r >= 0                                   # padded beats carry r = -1
    pre = int(round(tokens.window_s[0] * tokens.fs))
    centre = np.round(r * (tokens.fs / tokens.source_fs)).astype(np.int64)
    idx = centre[:, None] - pre + np.arange(T)[None, :]          # (beats, T)
    if n_samples is None:
        n_samples = int(idx[real].max()) + 1 if real.any() else 0
    out = np.zeros((n_samples, n_leads), np.float64)
    for b in np.flatnonzero(real):
        ok = (idx[b] >= 0) & (idx[b] < n_samples)
        np.add.at(out, idx[b][ok], v[b][:, ok].T)
    return out.astype(np.float32)


def input_attribution(predictor, x, label, n_steps: int = IG_STEPS, n_samples: int | None = None) -> np.ndarray:
    """Integrated Gradients mapped onto the trace: float32 (samples at the token rate, 12).

    ``n_samples`` defaults to the record's length at the token rate when ``x``
    is an ECG, else to the end of the last window.
    """
    pred = _prediction(predictor, x)
    if n_samples is None and hasattr(x, "n_samples") and hasattr(x, "fs"):
        n_samples = int(round(x.n_samples * pred.tokens.fs / x.fs))
    attr = integrated_gradients(predictor, pred, label, n_steps=n_steps)
    return windows_to_timeline(attr, pred.tokens, n_samples)


# --------------------------------------------------------------------------- feature ablation

def lead_attribution(predictor, x, label) -> np.ndarray:
    """Drop of the label's logit when each lead is hidden (lead_mask False in every beat): (12,).

    Leads that are already unusable get 0.
    """
    from captum.attr import FeatureAblation

    pred = _prediction(predictor, x)
    k = label_index(predictor, label)
    inputs = _inputs(predictor, pred)
    forward = _logit(predictor, k)

    def by_lead(lead_mask_float):
        b = lead_mask_float.shape[0]
        return forward(_expand(inputs["tokens"], b), _expand(inputs["beat_mask"], b), lead_mask_float > 0.5,
                       _expand(inputs["beat_times"], b), _expand(inputs["rr"], b))

    mask = inputs["lead_mask"].to(torch.float32)
    with torch.no_grad():
        attr = FeatureAblation(by_lead).attribute(mask, baselines=0.0, perturbations_per_eval=mask.shape[1])
    # hiding a lead that is already hidden changes nothing: exactly 0, not batch-size float noise
    return np.where(mask[0].cpu().numpy() > 0.5, attr[0].cpu().numpy(), 0.0).astype(np.float32)


def beat_attribution(predictor, x, label) -> np.ndarray:
    """Drop of the label's logit when each beat is hidden (beat_mask False, all leads): (beats,)."""
    from captum.attr import FeatureAblation

    pred = _prediction(predictor, x)
    k = label_index(predictor, label)
    inputs = _inputs(predictor, pred)
    forward = _logit(predictor, k)
    real = _real_beats(inputs)

    def by_beat(beat_mask_float):
        b = beat_mask_float.shape[0]
        return forward(_expand(inputs["tokens"], b), beat_mask_float > 0.5, _expand(inputs["lead_mask"], b),
                       _expand(inputs["beat_times"], b), _expand(inputs["rr"], b))

    mask = inputs["beat_mask"].to(torch.float32)
    with torch.no_grad():
        attr = FeatureAblation(by_beat).attribute(mask, baselines=0.0,
                                                  perturbations_per_eval=max(1, int(real.sum())))
    return attr[0].cpu().numpy()[real].astype(np.float32)


def lead_ranking(predictor, x, label, lead_scores: np.ndarray | None = None) -> np.ndarray:
    """Indices of the usable leads (into :data:`LEADS`), most evidence for ``label`` first.

    Evidence is :func:`lead_attribution` unless ``lead_scores`` (12,) is given.
    Unusable leads are left out.
    """
    pred = _prediction(predictor, x)
    scores = lead_attribution(predictor, pred, label) if lead_scores is None else np.asarray(lead_scores)
    usable = np.flatnonzero(np.asarray(pred.tokens.lead_mask, bool))
    order = usable[np.argsort(-scores[usable], kind="stable")]
    return order.astype(np.int64)


# --------------------------------------------------------------------------- all of it

@dataclass
class Explanation:
    """Every explanation of one label of one prediction (what the app's Explain page shows).

    Attributes
    ----------
    label : str
    probability : float
    input : (samples at ``fs``, 12) Integrated Gradients on the timeline.
    fs : float
        Rate of ``input`` (the token rate, 250 Hz).
    windows : (beats, 12, T) Integrated Gradients per beat window.
    ig_delta : float
        Completeness gap of Integrated Gradients (logit units).
    leads : (12,) lead ablation; beats : (beats,) beat ablation.
    ranking : lead indices, most evidence first (usable leads only).
    attention_leads : (12,) beat-weighted lead attention (label-independent).
    """

    label: str
    probability: float
    input: np.ndarray
    fs: float
    windows: np.ndarray
    ig_delta: float
    leads: np.ndarray
    beats: np.ndarray
    ranking: np.ndarray
    attention_leads: np.ndarray

    @property
    def ranked_leads(self) -> list[str]:
        return [LEADS[i] for i in self.ranking]


def explain(predictor, x, label, n_steps: int = IG_STEPS, n_samples: int | None = None) -> Explanation:
    """Integrated Gradients, lead and beat ablation, lead ranking and attention for one label."""
    pred = _prediction(predictor, x)
    k = label_index(predictor, label)
    name = predictor.label_names[k]
    if n_samples is None and hasattr(x, "n_samples") and hasattr(x, "fs"):
        n_samples = int(round(x.n_samples * pred.tokens.fs / x.fs))
    windows, delta = integrated_gradients(predictor, pred, k, n_steps=n_steps, return_delta=True)
    leads = lead_attribution(predictor, pred, k)
    return Explanation(
        label=name,
        probability=float(pred.probabilities.get(name, np.nan)),
        input=windows_to_timeline(windows, pred.tokens, n_samples),
        fs=float(pred.tokens.fs),
        windows=windows,
        ig_delta=delta,
        leads=leads,
        beats=beat_attribution(predictor, pred, k),
        ranking=lead_ranking(predictor, pred, k, lead_scores=leads),
        attention_leads=attention_lead_importance(pred),
    )
