"""Model mechanics: shapes, masks, attention read-out, padding invariance, baselines.

Synthetic tensors only: these test what the networks compute, not what they
learn from ECGs (that is measured on the real data elsewhere).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from beatnet_core.model import MODELS, BeatNet, BeatNetConfig, build_model, count_parameters

torch.set_num_threads(1)   # the test machine is a shared 2-core CPU

L, T = 12, 176


def make_batch(n_beats: list[int], n_max: int | None = None, seed: int = 0, rr_s: float = 0.8):
    """Random-but-fixed tokens for records with ``n_beats`` real beats, padded to ``n_max``."""
    g = torch.Generator().manual_seed(seed)
    B, N = len(n_beats), n_max or max(n_beats)
    tokens = torch.randn(B, N, L, T, generator=g)
    beat_mask = torch.arange(N)[None, :] < torch.tensor(n_beats)[:, None]
    tokens[~beat_mask] = 0.0
    lead_mask = torch.ones(B, L, dtype=torch.bool)
    rr = rr_s * (1 + 0.2 * torch.rand(B, N, 2, generator=g))
    beat_times = 0.3 + torch.cumsum(rr[..., 0], dim=1)
    return dict(tokens=tokens, beat_mask=beat_mask, lead_mask=lead_mask, beat_times=beat_times, rr=rr)


def pad_to(batch: dict, n_max: int, seed: int = 1) -> dict:
    """The same records with extra padded beats holding garbage (not zeros)."""
    g = torch.Generator().manual_seed(seed)
    B, N = batch["beat_mask"].shape
    extra = n_max - N
    return dict(
        tokens=torch.cat([batch["tokens"], 5 * torch.randn(B, extra, L, T, generator=g)], dim=1),
        beat_mask=torch.cat([batch["beat_mask"], torch.zeros(B, extra, dtype=torch.bool)], dim=1),
        lead_mask=batch["lead_mask"],
        beat_times=torch.cat([batch["beat_times"], 100 * torch.rand(B, extra, generator=g)], dim=1),
        rr=torch.cat([batch["rr"], torch.rand(B, extra, 2, generator=g)], dim=1),
    )


FOURTH_ROUND = {"whole_beat_pooled": False, "rhythm_summary": False}


@pytest.fixture(scope="module", params=[{}, {**FOURTH_ROUND, "whole_beat_token": False}, FOURTH_ROUND,
                                        {**FOURTH_ROUND, "whole_beat_item": True},
                                        dict(whole_beat_gate=True, whole_beat_gate_scale=10.0),
                                        {"rhythm_summary": False}],
                ids=["today", "leads-only", "whole-beat-token-unpooled", "whole-beat-item", "whole-beat-gated",
                     "no-rhythm-summary"])
def model(request) -> BeatNet:
    """Today's model, earlier ones whose runs were saved (no whole-beat token; the token unpooled, as in
    the fourth to eighth rounds) and three variants."""
    torch.manual_seed(0)
    model = build_model("beatnet", n_classes=5, **request.param).eval()
    if model.spatial.whole_beat_gate is not None:   # it starts at 0 (= today's model); test it open
        with torch.no_grad():
            model.spatial.whole_beat_gate.fill_(0.07)
    return model


# --------------------------------------------------------------------------- BEAT-Net

def test_shapes_and_size(model):
    batch = make_batch([12, 7, 3])
    with torch.no_grad():
        logits, attn = model(**batch)
    B, N = 3, 12
    assert logits.shape == (B, 5)
    assert attn["lead_attention"].shape == (B, N, L)
    assert attn["beat_attention"].shape == (B, N)
    assert len(attn["temporal_attention"]) == model.config.n_layers
    assert all(w.shape == (B, model.config.n_heads, N, N) for w in attn["temporal_attention"])
    L1 = L + int(model.config.whole_beat_token)   # the whole-beat token is attended to, last
    assert all(w.shape == (B, N, model.config.n_heads, L1, L1) for w in attn["spatial_attention"])
    assert model.input_kind == "tokens"
    assert 100_000 < count_parameters(model) < 1_000_000


def test_spatial_attention_covers_usable_leads_and_the_whole_beat_token(model):
    """Rows of usable leads sum to 1 over usable leads (+ the token); masked leads and padding get 0."""
    batch = make_batch([8, 5])
    batch["lead_mask"][0, [3, 9]] = False
    with torch.no_grad():
        _, attn = model(**batch)
    w = attn["spatial_attention"][0]                       # (B, N, H, L', L')
    usable = torch.cat([batch["lead_mask"], torch.ones(2, int(model.config.whole_beat_token), dtype=torch.bool)], 1)
    real = batch["beat_mask"]
    for b in range(2):
        rows = w[b][real[b]]                               # (beats, H, L', L')
        torch.testing.assert_close(rows[:, :, usable[b]].sum(-1), torch.ones_like(rows[:, :, usable[b]].sum(-1)))
        assert torch.all(rows[:, :, ~usable[b]] == 0) and torch.all(rows[..., ~usable[b]] == 0)
        if model.config.whole_beat_token:                  # every usable lead consults the token
            assert torch.all(rows[:, :, :L, -1][..., usable[b][:L]] > 0)
        assert torch.all(w[b][~real[b]] == 0)


def test_config_round_trips_through_json(model):
    saved = json.loads(json.dumps(model.config.to_dict()))
    rebuilt = build_model("beatnet", **saved)
    assert rebuilt.config == model.config
    rebuilt.load_state_dict(model.state_dict())     # same architecture, same parameter names
    with pytest.raises(TypeError):
        build_model("beatnet", n_classes=3, not_a_field=1)
    with pytest.raises(ValueError, match="two alternatives"):
        BeatNetConfig(whole_beat_pooled=True, whole_beat_item=True)
    with pytest.raises(ValueError, match="set whole_beat_pooled too"):
        BeatNetConfig(whole_beat_pooled=False, whole_beat_gate=True)


def test_whole_beat_gate_starts_shut_and_learns():
    """The gated path starts as the leads-only beat vector and gets a gradient (else it could never open)."""
    torch.manual_seed(0)
    gated = build_model("beatnet", n_classes=5, whole_beat_pooled=True, whole_beat_gate=True).eval()
    assert gated.spatial.whole_beat_gate.item() == 0.0
    logits, _ = gated(**make_batch([9, 6]))
    logits.sum().backward()
    assert gated.spatial.whole_beat_gate.grad is not None and gated.spatial.whole_beat_gate.grad.abs() > 0


def test_whole_beat_dropout_drops_whole_records_in_training_only():
    """Training: some records' beats lack the whole-beat part (share 0), the others keep it; eval: all keep it."""
    torch.manual_seed(0)
    model = build_model("beatnet", n_classes=5, whole_beat_pooled=True, whole_beat_dropout=0.5,
                        lead_dropout=0.0, dropout=0.0)
    batch = make_batch([8] * 16)
    real = batch["beat_mask"]
    model.train()
    _, attn = model(**batch)
    share = attn["whole_beat_share"]
    dropped = (share[real].view(16, 8) == 0).all(dim=1)
    kept = (share[real].view(16, 8) != 0).all(dim=1)
    assert bool((dropped | kept).all()) and 0 < int(dropped.sum()) < 16     # per record, not per beat
    model.eval()
    with torch.no_grad():
        _, attn = model(**batch)
    assert bool((attn["whole_beat_share"][real] != 0).all())
    with pytest.raises(ValueError, match="set whole_beat_pooled too"):
        BeatNetConfig(whole_beat_pooled=False, whole_beat_dropout=0.5)


def test_rhythm_summary_features_are_the_rr_statistics_of_the_real_beats():
    """Checked against NumPy on known intervals; padding, a lone beat and a metronome stay finite."""
    summary = build_model("beatnet", n_classes=2, rhythm_summary=True).rhythm_summary
    intervals = np.array([0.8, 0.9, 0.7, 1.0, 0.85])                          # 6 beats, 5 intervals
    rr = torch.ones(3, 9, 2)
    rr[0, :5, 1] = torch.tensor(intervals)                                    # RR after beats 0..4
    rr[0, 1:6, 0] = torch.tensor(intervals)
    rr[0, 5, 1], rr[0, 6:] = intervals[-1], 7.0                               # last beat's fallback; padding garbage
    rr[1, 0] = torch.tensor([2.5, 2.5])                                       # record 1: one beat only
    rr[2, :, :] = 0.75                                                        # record 2: a metronome, 9 beats
    beat_mask = torch.zeros(3, 9, dtype=torch.bool)
    beat_mask[0, :6], beat_mask[1, 0], beat_mask[2, :] = True, True, True
    got = summary.features(rr, beat_mask).numpy()

    mean = intervals.mean()
    expected = [np.log(mean), np.log(intervals.std() / mean),
                np.log(np.sqrt(np.mean(np.diff(intervals) ** 2)) / mean), np.log(intervals.max() / intervals.min())]
    np.testing.assert_allclose(got[0], expected, rtol=1e-5)
    floor = np.log(summary.floor)
    np.testing.assert_allclose(got[1], [np.log(2.5), floor, floor, 0.0], rtol=1e-6)
    np.testing.assert_allclose(got[2], [np.log(0.75), floor, floor, 0.0], rtol=1e-6)


def test_config_of_a_removed_variant_loads_only_when_that_variant_was_off():
    saved = BeatNetConfig().to_dict()
    for field, off in BeatNetConfig.retired_values.items():   # e.g. "median_beat": False, saved while it existed
        assert BeatNetConfig.from_dict({**saved, field: off}) == BeatNetConfig()
        on = 2 if isinstance(off, int) and not isinstance(off, bool) else True
        with pytest.raises(TypeError, match=f"removed variant, not off: .*{field}"):
            BeatNetConfig.from_dict({**saved, field: on})
    with pytest.raises(TypeError, match="unknown BeatNetConfig fields"):
        BeatNetConfig.from_dict({**saved, "no_such_field": 1})


def test_attention_is_normalised_over_real_beats_and_usable_leads(model):
    batch = make_batch([12, 7, 3])
    batch["lead_mask"][1, [0, 4, 9]] = False
    batch["lead_mask"][2, 1:] = False                     # only lead I usable
    with torch.no_grad():
        _, attn = model(**batch)
    lead_attn, beat_attn = attn["lead_attention"], attn["beat_attention"]
    real_beat = batch["beat_mask"]
    usable = real_beat[:, :, None] & batch["lead_mask"][:, None, :]

    torch.testing.assert_close(lead_attn.sum(-1)[real_beat], torch.ones(int(real_beat.sum())))
    assert (lead_attn[~usable] == 0).all()                # masked leads and padded beats: exactly 0
    torch.testing.assert_close(lead_attn[2, :3, 0], torch.ones(3))   # one lead left: all weight on it

    torch.testing.assert_close(beat_attn.sum(-1), torch.ones(3))
    assert (beat_attn[~real_beat] == 0).all()
    for w in attn["temporal_attention"]:                  # (B, H, N, N)
        key_padded = ~real_beat[:, None, None, :].expand_as(w)
        assert (w[key_padded] == 0).all()
        row_sums = w.sum(-1)                              # (B, H, N): 1 for real query beats, 0 for padding
        torch.testing.assert_close(row_sums, real_beat[:, None, :].expand_as(row_sums).float())


def test_padding_does_not_change_logits(model):
    batch = make_batch([9, 5])
    padded = pad_to(batch, 16)
    with torch.no_grad():
        logits, attn = model(**batch)
        logits_padded, attn_padded = model(**padded)
        alone, _ = model(**{k: v[1:2] if k == "lead_mask" else v[1:2, :5]   # record 2, no padding at all
                            for k, v in batch.items()})
    torch.testing.assert_close(logits_padded, logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(alone, logits[1:2], atol=1e-5, rtol=0)
    torch.testing.assert_close(attn_padded["beat_attention"][:, :9], attn["beat_attention"], atol=1e-6, rtol=0)
    torch.testing.assert_close(attn_padded["lead_attention"][:, :9], attn["lead_attention"], atol=1e-6, rtol=0)


def test_masked_inputs_are_never_read(model):
    """Garbage (even NaN) in masked leads or padded beats changes nothing."""
    batch = make_batch([10, 6])
    batch["lead_mask"][0, [2, 7]] = False
    with torch.no_grad():
        logits, attn = model(**batch)
        poisoned = {k: v.clone() for k, v in batch.items()}
        poisoned["tokens"][0, :, [2, 7]] = float("nan")
        poisoned["tokens"][1, 6:] = float("nan")
        poisoned["beat_times"][1, 6:] = float("nan")
        poisoned["rr"][1, 6:] = float("nan")
        logits_p, attn_p = model(**poisoned)
    assert torch.equal(logits_p, logits)
    assert torch.equal(attn_p["lead_attention"], attn["lead_attention"])
    assert torch.equal(attn_p["beat_attention"], attn["beat_attention"])


def test_returned_attention_is_the_attention_used(model):
    """Rebuild each attention's output from the returned weights and that layer's inputs."""
    batch = make_batch([11, 4])
    batch["lead_mask"][1, 5:] = False
    seen = {}

    def keep(name):
        return lambda module, inputs, output: seen.__setitem__(name, (inputs, output))

    hooks = [model.temporal.pool.register_forward_hook(keep("beat_pool")),
             model.spatial.pool.register_forward_hook(keep("lead_pool")),
             model.temporal.register_forward_hook(keep("temporal")),
             model.temporal.blocks[0].attn.register_forward_hook(keep("rhythm_attn")),
             model.spatial.ln_f.register_forward_hook(keep("lead_states"))]
    if model.rhythm_summary is not None:
        hooks.append(model.rhythm_summary.register_forward_hook(keep("rhythm_summary")))
    try:
        with torch.no_grad():
            logits, attn = model(**batch)
    finally:
        for h in hooks:
            h.remove()
    real = batch["beat_mask"]
    beat_attn, lead_attn = attn["beat_attention"], attn["lead_attention"]

    # beat attention: the record vector the head classifies is sum_n a_n h_n
    beat_states = seen["beat_pool"][0][0]                                    # (B, N, D)
    record = (beat_attn.unsqueeze(-1) * beat_states).sum(1)                  # (B, D)
    if model.rhythm_summary is not None:   # ... plus the rate-and-regularity part (that variant only)
        summary = seen["rhythm_summary"][1]                                  # (B, D)
        record = record + summary
        share = (summary * record).sum(-1) / (record * record).sum(-1)      # the two shares add to 1
        torch.testing.assert_close(attn["rhythm_summary_share"], share)
    torch.testing.assert_close(model.head(record), logits)

    # lead attention: each beat vector fed to the rhythm encoder is sum_l a_l h_l
    lead_states = seen["lead_pool"][0][0]                                    # (M, L, D)
    beat_vectors = (lead_attn[real].unsqueeze(-1) * lead_states[:, :lead_attn.shape[-1]]).sum(1)   # (M, D)
    if model.config.whole_beat_pooled:   # ... plus the whole-beat token's own state (that variant only)
        gate = (math.tanh(model.config.whole_beat_gate_scale * model.spatial.whole_beat_gate.item())
                if model.config.whole_beat_gate else 1.0)
        whole = gate * seen["lead_states"][1][:, -1]
        beat_vectors = beat_vectors + whole
        share = (whole * beat_vectors).sum(-1) / (beat_vectors * beat_vectors).sum(-1)   # the two shares add to 1
        torch.testing.assert_close(attn["whole_beat_share"][real], share)
        assert torch.all(attn["whole_beat_share"][~real] == 0)
    if model.config.whole_beat_item:     # ... pooled with the whole-beat token, whose weight is returned apart
        whole = attn["whole_beat_attention"][real].unsqueeze(-1)                    # (M, 1)
        beat_vectors = (1 - whole) * beat_vectors + whole * lead_states[:, -1]
    torch.testing.assert_close(seen["temporal"][0][0][real], beat_vectors)

    # rhythm attention: the layer's output is proj(weights @ values)
    (x, _), (out, _) = seen["rhythm_attn"]
    layer = model.temporal.blocks[0].attn
    B, N, D = x.shape
    H = layer.n_heads
    values = layer.qkv(x)[..., 2 * D:].view(B, N, H, D // H).transpose(1, 2)   # (B, H, N, D/H)
    mixed = (attn["temporal_attention"][0] @ values).transpose(1, 2).reshape(B, N, D)
    torch.testing.assert_close(layer.proj(mixed), out)


def test_all_padding_and_single_lead_give_finite_outputs_and_gradients():
    torch.manual_seed(0)
    model = build_model("beatnet", n_classes=3)
    batch = make_batch([0, 6, 4], n_max=6)                # record 0: nothing but padding
    batch["lead_mask"][2, :] = False
    batch["lead_mask"][2, 1] = True                        # record 2: only lead II
    for train in (False, True):
        model.train(train)
        logits, attn = model(**batch)
        assert torch.isfinite(logits).all()
        assert all(torch.isfinite(a).all() for a in [attn["lead_attention"], attn["beat_attention"],
                                                        *attn["temporal_attention"]])
        assert (attn["beat_attention"][0] == 0).all() and (attn["lead_attention"][0] == 0).all()
        logits.sum().backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        model.zero_grad()
    only_padding = {k: v[:1] for k, v in batch.items()}   # a batch with no real beat at all
    model.train()
    logits, _ = model(**only_padding)
    assert torch.isfinite(logits).all()
    assert all(torch.isfinite(b).all() for b in model.buffers())   # BatchNorm stats untouched by NaN


def test_lead_dropout_only_in_training_and_never_drops_every_lead():
    model = BeatNet(BeatNetConfig(lead_dropout=0.9))
    mask = torch.ones(64, L, dtype=torch.bool)
    mask[:, 6:] = False
    model.train()
    dropped = model.drop_leads(mask)
    assert dropped.any(-1).all() and not (dropped & ~mask).any() and dropped.sum() < mask.sum()
    model.eval()
    assert torch.equal(model.drop_leads(mask), mask)


def test_tiny_overfit():
    """16 fixed random records, 2 labels: 30 Adam steps reduce the loss clearly."""
    torch.manual_seed(0)
    model = build_model("beatnet", n_classes=2, dropout=0.0, lead_dropout=0.0).train()
    batch = make_batch([12, 10, 8, 12, 6, 9, 11, 12, 7, 12, 10, 8, 12, 5, 9, 11], seed=3)
    labels = torch.randint(0, 2, (16, 2), generator=torch.Generator().manual_seed(4)).float()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        logits, _ = model(**batch)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0], losses   # typically 0.69 -> ~0.3


# --------------------------------------------------------------------------- baselines

@pytest.mark.parametrize("name", ["xresnet1d101", "inception1d"])
@pytest.mark.parametrize("n_samples", [1000, 2500])
def test_baselines_output_logits_for_any_length(name, n_samples):
    torch.manual_seed(0)
    model = build_model(name, n_classes=7).eval()
    assert model.input_kind == "signal"
    with torch.no_grad():
        logits = model(torch.randn(2, 12, n_samples))
    assert logits.shape == (2, 7) and torch.isfinite(logits).all()


def test_baseline_parameter_counts_and_width():
    # benchmark defaults (5 superdiagnostic classes); width scales the channels down
    assert count_parameters(build_model("xresnet1d101", n_classes=5)) == 1_872_261
    assert count_parameters(build_model("inception1d", n_classes=5)) == 507_653
    for name in ("xresnet1d101", "inception1d"):
        small = build_model(name, n_classes=5, width=0.25)
        assert count_parameters(small) < count_parameters(build_model(name, n_classes=5)) / 4
        small.train()
        small(torch.randn(2, 12, 999)).sum().backward()   # odd length, train mode
    assert set(MODELS) == {"beatnet", "xresnet1d101", "inception1d"}


def test_xresnet_block_structure_matches_benchmark():
    model = build_model("xresnet1d101", n_classes=5)
    assert [len(stage) for stage in model.stages] == [3, 4, 23, 3]
    first = model.stages[0][0]
    convs = [m for m in first.convs.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs] == [(64, 64, 1), (64, 64, 5), (64, 256, 1)]
    assert [m.out_channels for m in model.stem.modules() if isinstance(m, torch.nn.Conv1d)] == [32, 32, 64]
