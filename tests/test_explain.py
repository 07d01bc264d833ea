"""beatnet_core.explain: Integrated Gradients, lead/beat ablation, ranking, timeline mapping."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from _app_helpers import SAMPLES, predictor_for_tests
from beatnet_core import LEADS, load_ecg
from beatnet_core import explain as ex


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    predictor, _ = predictor_for_tests()
    ecg = load_ecg(SAMPLES / "00318_hr.hea")      # atrial fibrillation: irregular beats
    return predictor, ecg, predictor.predict(ecg)


def _logit(predictor, beat_tokens, k, **override):
    inputs = predictor.model_inputs(beat_tokens)
    inputs.update(override)
    with torch.no_grad():
        return float(predictor.model(**inputs)[0][0, k])


def test_integrated_gradients_is_complete(setup):
    predictor, ecg, pred = setup
    label = predictor.label_names[0]
    attr, delta = ex.integrated_gradients(predictor, pred, label, return_delta=True)
    assert attr.shape == pred.tokens.windows.shape
    k = ex.label_index(predictor, label)
    zero = torch.zeros_like(predictor.model_inputs(pred.tokens)["tokens"])
    gap = _logit(predictor, pred.tokens, k) - _logit(predictor, pred.tokens, k, tokens=zero)
    # completeness: the attributions add up to logit(input) - logit(flat baseline)
    assert float(attr.sum()) == pytest.approx(gap, abs=0.05 * abs(gap) + 1e-3)
    assert abs(delta) <= 0.05 * abs(gap) + 1e-3


def test_ig_accepts_an_ecg_or_a_prediction_and_ignores_masked_leads(setup):
    predictor, ecg, pred = setup
    masked = ecg.window(0, ecg.duration_s)
    masked.lead_mask = masked.lead_mask.copy()
    masked.lead_mask[LEADS.index("V3")] = False
    attr = ex.integrated_gradients(predictor, masked, 0, n_steps=8)
    assert np.all(attr[:, LEADS.index("V3")] == 0)
    assert np.any(attr[:, LEADS.index("V2")] != 0)


def test_windows_map_back_onto_the_timeline_summing_overlaps():
    fs = 250.0
    r_src = np.array([500, 700, 2000])             # R peaks at 500 Hz: 1.0 s, 1.4 s (overlapping), 4.0 s
    tokens = _fake_tokens(r_src, source_fs=500.0)
    ones = np.ones((3, 12, 176), np.float32)
    tl = ex.windows_to_timeline(ones, tokens, n_samples=2500)
    assert tl.shape == (2500, 12)
    pre, post = round(0.256 * fs), round(0.448 * fs)
    assert tl[250 - pre, 0] == 1 and tl[250 - pre - 1, 0] == 0          # window 1 starts 0.256 s before R
    assert tl[250 + post - 1, 0] == 2                                     # overlap with window 2 sums
    assert tl[350 + post - 1, 0] == 1 and tl[350 + post, 0] == 0         # window 2 ends 0.448 s after R
    assert tl.sum() == pytest.approx(3 * 12 * 176)                        # nothing lost inside the record
    # a window running past the end is cut, not wrapped
    late = ex.windows_to_timeline(ones[:1], _fake_tokens(np.array([4950]), 500.0), n_samples=2500)
    assert late.sum() == pytest.approx(12 * (2500 - (2475 - pre)))


def _fake_tokens(r_src, source_fs):
    from beatnet_core.tokenizer import BeatTokens

    n = len(r_src)
    return BeatTokens(windows=np.zeros((n, 12, 176), np.float32), r_samples=np.asarray(r_src, np.int64),
                      r_times=(np.asarray(r_src) / source_fs).astype(np.float32), rr_before=np.ones(n, np.float32),
                      rr_after=np.ones(n, np.float32), lead_mask=np.ones(12, bool), beat_mask=np.ones(n, bool),
                      fs=250.0, source_fs=source_fs)


def test_input_attribution_spans_the_record(setup):
    predictor, ecg, pred = setup
    tl = ex.input_attribution(predictor, ecg, 1, n_steps=8)
    assert tl.shape == (round(ecg.duration_s * 250), 12)
    assert np.isfinite(tl).all() and np.abs(tl).sum() > 0


def test_lead_ablation_is_the_logit_drop_when_the_lead_is_masked(setup):
    predictor, ecg, pred = setup
    k = 2
    scores = ex.lead_attribution(predictor, pred, k)
    assert scores.shape == (12,)
    inputs = predictor.model_inputs(pred.tokens)
    for lead in (0, 7):
        mask = inputs["lead_mask"].clone()
        mask[0, lead] = False
        expected = _logit(predictor, pred.tokens, k) - _logit(predictor, pred.tokens, k, lead_mask=mask)
        assert scores[lead] == pytest.approx(expected, abs=1e-4)


def test_beat_ablation_is_the_logit_drop_when_the_beat_is_masked(setup):
    predictor, ecg, pred = setup
    k = 3
    scores = ex.beat_attribution(predictor, pred, k)
    assert scores.shape == (pred.tokens.n_beats,)
    inputs = predictor.model_inputs(pred.tokens)
    mask = inputs["beat_mask"].clone()
    mask[0, 4] = False
    expected = _logit(predictor, pred.tokens, k) - _logit(predictor, pred.tokens, k, beat_mask=mask)
    assert scores[4] == pytest.approx(expected, abs=1e-4)


def test_unusable_leads_get_no_attribution_and_no_rank(setup):
    predictor, ecg, pred = setup
    tokens = replace(pred.tokens, lead_mask=pred.tokens.lead_mask.copy())
    tokens.lead_mask[LEADS.index("aVL")] = False
    pred2 = replace(pred, tokens=tokens)
    scores = ex.lead_attribution(predictor, pred2, 0)
    assert scores[LEADS.index("aVL")] == 0
    ranking = ex.lead_ranking(predictor, pred2, 0, lead_scores=scores)
    assert LEADS.index("aVL") not in ranking and len(ranking) == 11
    assert np.all(np.diff(scores[ranking]) <= 0)


def test_explain_bundles_everything_for_one_label(setup):
    predictor, ecg, pred = setup
    label = predictor.label_names[-1]
    e = ex.explain(predictor, pred, label, n_steps=8, n_samples=2500)
    assert e.label == label and e.probability == pytest.approx(pred.probabilities[label])
    assert e.input.shape == (2500, 12) and e.windows.shape == pred.tokens.windows.shape
    assert e.leads.shape == (12,) and e.beats.shape == (pred.tokens.n_beats,)
    assert sorted(e.ranking.tolist()) == list(range(12)) and e.ranked_leads[0] == LEADS[e.ranking[0]]
    assert e.attention_leads.sum() == pytest.approx(1.0, abs=1e-5)


def test_unknown_label_is_refused(setup):
    predictor, ecg, pred = setup
    with pytest.raises(ValueError, match="unknown label"):
        ex.lead_attribution(predictor, pred, "NOT_A_LABEL")


def test_whole_beat_share_is_reported_for_a_model_that_pools_it():
    """A whole-beat-pooled model (today's) reports that part's share per beat; one without it reports none."""
    from _app_helpers import untrained_predictor

    ecg = load_ecg(SAMPLES / "00172_hr.hea")
    pooled = untrained_predictor().predict(ecg)
    n = len(pooled.r_peaks)
    assert pooled.whole_beat_share.shape == (n,) and np.all(np.isfinite(pooled.whole_beat_share))
    assert np.all(pooled.whole_beat_share != 0)                # every real beat has a whole-beat part
    share = ex.attention_whole_beat_share(pooled)
    beat = pooled.beat_attention
    assert share == pytest.approx(float((beat * pooled.whole_beat_share).sum() / beat.sum()))
    assert pooled.to_dict()["whole_beat_share"] == pytest.approx(pooled.whole_beat_share.tolist(), abs=1e-6)
    plain = untrained_predictor(whole_beat_pooled=False).predict(ecg)
    assert plain.whole_beat_share is None and ex.attention_whole_beat_share(plain) is None
    assert "whole_beat_share" not in plain.to_dict()


def test_rhythm_summary_share_is_reported_for_a_model_that_has_one():
    """A model whose record vector also carries the RR statistics (today's) reports that part's share;
    one without it none."""
    from _app_helpers import untrained_predictor

    ecg = load_ecg(SAMPLES / "00172_hr.hea")
    with_summary = untrained_predictor()
    pred = with_summary.predict(ecg)
    inputs = with_summary.model_inputs(pred.tokens)
    with torch.no_grad():
        _, attention = with_summary.model(**inputs)
    assert pred.rhythm_summary_share == pytest.approx(float(attention["rhythm_summary_share"][0]))
    assert pred.rhythm_summary_share != 0 and np.isfinite(pred.rhythm_summary_share)
    assert pred.to_dict()["rhythm_summary_share"] == pytest.approx(pred.rhythm_summary_share, abs=1e-6)
    plain = untrained_predictor(rhythm_summary=False).predict(ecg)
    assert plain.rhythm_summary_share is None and "rhythm_summary_share" not in plain.to_dict()
