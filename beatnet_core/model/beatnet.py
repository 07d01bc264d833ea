"""BEAT-Net: a heartbeat-token transformer for 12-lead ECG classification.

After Ma & Liao, "BEAT-Net: Injecting Biomimetic Spatio-Temporal Priors for
Interpretable ECG Classification" (arXiv 2601.07316). The ECG is read the way a
clinician reads it, one prior per stage:

1. morphology -- :class:`BeatEncoder`, a small 1-D CNN shared by every lead,
   embeds one lead's window around one R peak;
2. space      -- :class:`SpatialEncoder`, attention across the 12 leads of
   one beat (lead identity from a learned lead embedding), pooled with one
   learned query: the *lead attention*. The leads also attend to a
   *whole-beat token*, a CNN of the same design (its own weights) reading all
   12 leads of the beat at once, so timing across leads (global QRS
   onset/offset, which lead's R' comes last) is seen before the leads are
   pooled. Its final state is also added to the beat vector, so each beat
   vector has two parts: the leads' (split by the lead attention) and the
   whole beat's (its share returned as ``whole_beat_share``);
3. time       -- :class:`TemporalEncoder`, a transformer over the beat
   sequence whose positions are the real R-peak times and RR intervals
   (rhythm *is* timing), pooled with one learned query: the *beat attention*.
   :class:`RhythmSummary` adds the record's rate and RR regularity, read off
   all intervals at once, so the record vector too has two parts: the beats'
   (split by the beat attention) and the summary's (``rhythm_summary_share``);
4. a multi-label linear head (logits; apply a sigmoid per class).

Both second parts were adopted together in the ninth round, tenth session
(reports/ptbxl.md, "Ninth round"): better than the leads-and-beats-only model cross-validated on
superdiagnostic and rhythm statements.

Every attention map returned is the tensor of weights that the same forward
pass multiplied its values with, so what the app shows is what the model
used. That is why the attention is written out here instead of using
``nn.TransformerEncoderLayer`` (it asks for ``need_weights=False`` and its
eval fast path bypasses hooks).

Shapes: B records, N beats (padded), L leads, T samples per beat window,
D = ``d_model``, H heads. Read top to bottom: config, helpers, the four
stages, the model.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class BeatNetConfig:
    """Hyper-parameters of :class:`BeatNet`; ``dataclasses.asdict`` gives its JSON form.

    The default (~0.2 M parameters) trains on a 2-core CPU in minutes.
    """

    #: Fields added after runs had been saved without them, with the value such
    #: runs were trained with (:func:`beatnet_core.train.load_run` fills them in).
    legacy_values: ClassVar[dict] = {"whole_beat_token": False, "whole_beat_pooled": False, "whole_beat_item": False,
                                     "whole_beat_gate": False, "whole_beat_gate_scale": 1.0, "whole_beat_dropout": 0.0,
                                     "rhythm_summary": False}
    #: Fields of variants that were tried and removed again (reports/ptbxl.md; the code is in
    #: ``scripts/ablate_beatnet.py``'s REMOVED commits), with the value that means "off": a saved run
    #: carrying one at that value is today's model; at any other value it is refused.
    retired_values: ClassVar[dict] = {"median_beat": False, "whole_beat_width": 1, "cnn_input_stride": 1}

    n_classes: int = 5
    n_leads: int = 12
    token_len: int = 176                # samples per beat window (0.704 s at 250 Hz)
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2                   # temporal (rhythm) transformer blocks
    n_spatial_layers: int = 1           # transformer blocks across the leads of one beat
    whole_beat_token: bool = True       # leads also attend to a 12-lead CNN token of the whole beat
    whole_beat_pooled: bool = True      # the whole-beat token's state is also added to the pooled beat vector
    whole_beat_item: bool = False       # the whole-beat token is one more item of the lead-attention pool
    whole_beat_gate: bool = False       # with whole_beat_pooled: that state times tanh(scale * g), g learned from 0
    whole_beat_gate_scale: float = 1.0  # Adam moves g by about lr per step: the scale sets how fast the gate can open
    whole_beat_dropout: float = 0.0     # training only, with whole_beat_pooled: P(a record's beats lack that part)
    rhythm_summary: bool = True         # the head also reads the record's rate and RR regularity (RhythmSummary)
    mlp_ratio: int = 2                  # hidden width of the transformer MLPs, times d_model
    cnn_channels: tuple[int, ...] = (16, 32, 32, 64)  # beat encoder, one stride-2 conv each
    cnn_kernels: tuple[int, ...] = (7, 5, 5, 3)
    dropout: float = 0.1
    lead_dropout: float = 0.1           # training only: P(drop a usable lead of a record)
    rr_min_s: float = 0.2               # RR clipped to a physiological range (300..20 bpm)
    rr_max_s: float = 3.0
    time_min_period_s: float = 0.25     # sinusoidal beat-time code: shortest period ~ one QRS-to-T span
    time_max_period_s: float = 64.0     # longest period: well beyond a 10 s record

    def __post_init__(self) -> None:
        # JSON turns tuples into lists; keep the dataclass hashable and comparable
        self.cnn_channels = tuple(int(c) for c in self.cnn_channels)
        self.cnn_kernels = tuple(int(k) for k in self.cnn_kernels)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if len(self.cnn_channels) != len(self.cnn_kernels):
            raise ValueError("cnn_channels and cnn_kernels must have the same length")
        if self.whole_beat_pooled and self.whole_beat_item:
            raise ValueError("whole_beat_pooled and whole_beat_item are two alternatives; choose one")
        if self.whole_beat_gate and not self.whole_beat_pooled:
            raise ValueError("whole_beat_gate scales the whole_beat_pooled path; set whole_beat_pooled too")
        if self.whole_beat_dropout and not self.whole_beat_pooled:
            raise ValueError("whole_beat_dropout drops the whole_beat_pooled path; set whole_beat_pooled too")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "BeatNetConfig":
        known = {f.name for f in fields(cls)}
        retired = {k: v for k, v in d.items() if k not in known and k in cls.retired_values}
        changed = {k: v for k, v in retired.items() if v != cls.retired_values[k]}
        if changed:
            raise TypeError(f"BeatNetConfig fields of a removed variant, not off: {changed} "
                            "(see REMOVED in scripts/ablate_beatnet.py for the commit with its code)")
        unknown = set(d) - known - set(retired)
        if unknown:
            raise TypeError(f"unknown BeatNetConfig fields: {sorted(unknown)}")
        return cls(**{k: v for k, v in d.items() if k in known})


# --------------------------------------------------------------------------- helpers

def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` restricted to ``mask`` (True = keep).

    Masked entries get exactly 0. A row with nothing unmasked (a record made
    only of padding, a beat with no usable lead) gets all zeros instead of the
    NaN that ``softmax`` of an all ``-inf`` row gives, with finite gradients.
    """
    mask = mask.expand_as(scores)
    scores = scores.masked_fill(~mask, float("-inf"))
    has_any = mask.any(dim=dim, keepdim=True)
    scores = scores.masked_fill(~has_any, 0.0)       # all-masked row: finite, zeroed below
    return torch.softmax(scores, dim=dim) * mask


def projection_share(part: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """<part, total> / |total|^2 per row: the parts of a sum get shares that add up to 1.

    The account of a vector that is a sum of parts (a beat vector: lead part +
    whole-beat part; a record vector: beat part + rhythm summary): each part's
    share, the first part's the rest (split by its attention).
    A share can leave [0, 1] only when the parts point apart. 0 for a zero row.
    """
    # (M, D), (M, D) -> (M,); no gradient: an explanation, not a training signal
    total = total.detach()
    return (part.detach() * total).sum(-1) / (total * total).sum(-1).clamp_min(1e-12)


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention that returns its weights.

    No dropout on the weights, so the weights returned are exactly the weights
    used, in training as in evaluation (dropout acts on the output instead).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, S, D); mask: (B, S) True = real item
        B, S, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(x).split(D, dim=2)
        q, k, v = (t.view(B, S, H, D // H).transpose(1, 2) for t in (q, k, v))   # (B, H, S, D/H)
        scores = q @ k.transpose(-2, -1) / math.sqrt(D // H)                     # (B, H, S, S)
        # keys: only real items; queries: padded rows get all-zero weights so
        # the map shows nothing for items that do not exist
        pair_mask = mask[:, None, :, None] & mask[:, None, None, :]              # (B, 1, S, S)
        weights = masked_softmax(scores, pair_mask)                              # (B, H, S, S)
        y = (weights @ v).transpose(1, 2).reshape(B, S, D)                       # (B, S, D)
        return self.dropout(self.proj(y)), weights


class Block(nn.Module):
    """Pre-norm transformer block (Vaswani et al. 2017; pre-norm as in GPT-2)."""

    def __init__(self, d_model: int, n_heads: int, mlp_ratio: int, dropout: float):
        super().__init__()
        self.ln_attn = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, dropout)
        self.ln_mlp = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, mlp_ratio * d_model),
            nn.GELU(),
            nn.Linear(mlp_ratio * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, S, D) -> (B, S, D); weights (B, H, S, S)
        attended, weights = self.attn(self.ln_attn(x), mask)
        x = x + attended
        x = x + self.mlp(self.ln_mlp(x))
        return x, weights


class AttentionPool(nn.Module):
    """Weighted mean of items with one learned query (single head).

    The weights are a distribution over the unmasked items and the pooled
    vector is literally ``sum_i weights_i * x_i``: that is what makes them an
    explanation rather than a by-product. The query starts at zero, so the
    untrained pool is the masked mean.
    """

    def __init__(self, d_model: int):
        super().__init__()
        self.key = nn.Linear(d_model, d_model)
        self.query = nn.Parameter(torch.zeros(d_model))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, S, D); mask: (B, S) -> pooled (B, D), weights (B, S)
        scores = self.key(x) @ self.query / math.sqrt(x.shape[-1])      # (B, S)
        weights = masked_softmax(scores, mask)                          # (B, S)
        pooled = (weights.unsqueeze(-1) * x).sum(dim=1)                 # (B, D)
        return pooled, weights


# --------------------------------------------------------------------------- 1. morphology

class BeatEncoder(nn.Module):
    """1-D CNN that embeds one lead's beat window (T samples) into D features.

    With ``in_channels=12`` the same architecture reads all leads of a beat
    at once (the whole-beat token of :class:`SpatialEncoder`).

    Shared across leads and beats: a QRS complex looks like a QRS complex in
    any lead; what the lead *means* comes from the lead embedding later.
    BatchNorm, not Group/LayerNorm: normalising each window by its own
    statistics would make the embedding blind to amplitude (voltage criteria,
    low QRS voltage). The features are flattened rather than averaged over
    time so that *where* in the window something happens (ST segment, T wave
    relative to the R peak) is kept. ReLU rather than GELU: the CNN runs on
    every (beat, lead) window, ~10^4 per batch, and on a CPU GELU (and its
    backward) cost as much as the convolutions.
    """

    def __init__(self, config: BeatNetConfig, in_channels: int = 1):
        super().__init__()
        layers, c_in = [], in_channels
        for c_out, k in zip(config.cnn_channels, config.cnn_kernels):
            layers += [nn.Conv1d(c_in, c_out, k, stride=2, padding=k // 2, bias=False),
                       nn.BatchNorm1d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.convs = nn.Sequential(*layers)
        with torch.no_grad():
            n_flat = self.convs(torch.zeros(2, in_channels, config.token_len)).numel() // 2
        self.proj = nn.Linear(n_flat, config.d_model)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        # windows: (K, T) or (K, C_in, T) -> (K, D)
        if windows.dim() == 2:
            windows = windows.unsqueeze(1)
        h = self.convs(windows)                   # (K, C, T/16)
        return self.proj(h.flatten(1))


# --------------------------------------------------------------------------- 2. space

class SpatialEncoder(nn.Module):
    """Attention across the leads of one beat, then lead-attention pooling.

    The 12 leads are 12 projections of one cardiac dipole; a learned lead
    embedding tells the encoder which projection it looks at. Unusable leads
    are masked out of both the attention and the pooling.

    Each lead's embedding is made from its own window only, so on its own the
    encoder could compare leads only as summaries, never sample by sample. A
    cardiologist times a QRS across all 12 leads (its duration is from the
    earliest onset in any lead to the latest offset in any lead: incomplete
    RBBB, fascicular blocks, AV block). The ``whole_beat`` token (a CNN over
    the 12 leads stacked as channels) gives the leads that view: they attend
    to it; it is not one of the items the lead attention weighs. It was added
    for the conduction (CD) gap to the CNNs; the evidence and its caveats are
    in reports/ptbxl.md.

    ``whole_beat_pooled`` (on by default since the ninth round; reports/ptbxl.md,
    "Sixth round" and "Ninth round") adds the token's final state to the
    pooled beat vector: more accurate cross-validated, but the lead attention
    then weighs only the leads' part of the beat vector, so that part's share
    is returned beside it. The alternative ``whole_beat_item`` (set
    ``whole_beat_pooled=False``) pools it as a 13th item, its weight returned
    as ``whole_beat_attention`` (no gain).
    ``whole_beat_gate`` scales the pooled variant's addition by tanh(scale * g),
    g one learned number starting at 0 (training starts from the leads-only
    beat vector and opens the path only as far as it helps; Flamingo's tanh
    gating, Alayrac et al. 2022). Adam moves g by about the learning rate per
    step, so at scale 1 the gate cannot open far in a 20-epoch run (it
    reached about 0.12); ``whole_beat_gate_scale`` lets it.
    ``whole_beat_dropout`` (training only) leaves that part out of all beats
    of a random share of records, so that the rest of the model must still
    diagnose without it (modality dropout): with the part always there, the
    sinus-arrhythmia score stopped following the RR variation.
    """

    def __init__(self, config: BeatNetConfig):
        super().__init__()
        self.lead_embedding = nn.Parameter(torch.zeros(config.n_leads + int(config.whole_beat_token), config.d_model))
        self.blocks = nn.ModuleList(
            Block(config.d_model, config.n_heads, config.mlp_ratio, config.dropout)
            for _ in range(config.n_spatial_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.pool = AttentionPool(config.d_model)
        self.whole_beat_pooled = config.whole_beat_token and config.whole_beat_pooled
        self.whole_beat_item = config.whole_beat_token and config.whole_beat_item
        self.whole_beat_gate = (nn.Parameter(torch.zeros(()))
                                if self.whole_beat_pooled and config.whole_beat_gate else None)
        self.whole_beat_gate_scale = config.whole_beat_gate_scale

    def whole_beat_weight(self) -> torch.Tensor | float:
        """The factor of the whole-beat state added to each beat vector (0: not added)."""
        if not self.whole_beat_pooled:
            return 0.0
        if self.whole_beat_gate is None:
            return 1.0
        return torch.tanh(self.whole_beat_gate_scale * self.whole_beat_gate)

    def forward(self, leads: torch.Tensor, lead_mask: torch.Tensor, whole_beat: torch.Tensor | None = None,
                whole_keep: torch.Tensor | None = None):
        # leads: (M, L, D) one row per real beat; lead_mask: (M, L)
        L = leads.shape[1]
        attend_mask = lead_mask
        if whole_beat is not None:   # (M, D): attended by every lead, not pooled
            leads = torch.cat([leads, whole_beat.unsqueeze(1)], dim=1)
            attend_mask = torch.cat([lead_mask, lead_mask.any(dim=1, keepdim=True)], dim=1)
        x = leads + self.lead_embedding                                # (M, L', D)
        spatial_attention = []
        for block in self.blocks:
            x, w = block(x, attend_mask)
            spatial_attention.append(w)                                # (M, H, L', L')
        states = self.ln_f(x)                                          # (M, L', D)
        if self.whole_beat_item and whole_beat is not None:   # pooled with the leads: weights (M, L + 1)
            beat, pool_weights = self.pool(states, attend_mask)
            return beat, pool_weights, spatial_attention, None
        beat, lead_attention = self.pool(states[:, :L], lead_mask)     # (M, D), (M, L)
        whole_share = None
        if self.whole_beat_pooled and whole_beat is not None:          # a beat with no usable lead stays 0
            whole = self.whole_beat_weight() * states[:, L] * lead_mask.any(dim=1, keepdim=True)
            if whole_keep is not None:                                 # (M, 1): training-time whole-beat dropout
                whole = whole * whole_keep
            beat = beat + whole
            whole_share = projection_share(whole, beat)
        return beat, lead_attention, spatial_attention, whole_share


# --------------------------------------------------------------------------- 3. time

class RhythmEmbedding(nn.Module):
    """Position of each beat from real time: R-peak time and RR intervals.

    Beats are not evenly spaced tokens; their spacing is the rhythm. The
    position is a sinusoidal code of the R-peak time in seconds (Vaswani et
    al. 2017, with a continuous argument) plus an MLP of log RR before/after,
    their ratio (prematurity, compensatory pause) and each RR relative to the
    record's mean RR (so a premature beat stands out at any heart rate).
    """

    n_rr_features = 5

    def __init__(self, config: BeatNetConfig):
        super().__init__()
        self.config = config
        n_freq = config.d_model // 2
        periods = torch.logspace(math.log10(config.time_min_period_s),
                                 math.log10(config.time_max_period_s), n_freq)
        # a constant of the config, not a learned state: rebuilt, not saved
        self.register_buffer("angular_freq", 2 * math.pi / periods, persistent=False)
        self.rr_mlp = nn.Sequential(
            nn.Linear(self.n_rr_features, config.d_model),
            nn.GELU(),
            nn.Linear(config.d_model, config.d_model),
        )

    def forward(self, beat_times: torch.Tensor, rr: torch.Tensor, beat_mask: torch.Tensor) -> torch.Tensor:
        # beat_times: (B, N) s; rr: (B, N, 2) s; beat_mask: (B, N) -> (B, N, D)
        angles = beat_times.unsqueeze(-1) * self.angular_freq                  # (B, N, D/2)
        time_code = torch.cat([angles.sin(), angles.cos()], dim=-1)            # (B, N, D')
        time_code = F.pad(time_code, (0, self.config.d_model - time_code.shape[-1]))

        log_rr = rr.clamp(self.config.rr_min_s, self.config.rr_max_s).log()    # (B, N, 2)
        real = beat_mask.unsqueeze(-1).to(log_rr.dtype)                        # (B, N, 1)
        n_real = real.sum(dim=1).clamp_min(1.0)                                # (B, 1)
        mean_log_rr = (log_rr[..., :1] * real).sum(dim=1) / n_real             # (B, 1): geometric mean RR
        relative = log_rr - mean_log_rr.unsqueeze(1)                           # (B, N, 2)
        ratio = log_rr[..., 1:] - log_rr[..., :1]                              # (B, N, 1): log(RR_after/RR_before)
        features = torch.cat([log_rr, ratio, relative], dim=-1)               # (B, N, 5)
        return time_code + self.rr_mlp(features)


class RhythmSummary(nn.Module):
    """The record's rate and regularity, read off all its RR intervals at once.

    A cardiologist's first look at a strip: how fast, how regular. Sinus
    arrhythmia is *defined* by the RR intervals varying (by more than ~10 %
    with respect to the mean) while every beat is sinus, yet the
    beat-attention pool is a weighted *mean* of beat vectors, and a mean of
    per-beat features says little about their spread; with few positives the
    model did not learn it (reports/ptbxl.md, "Seventh round": the RR
    coefficient of variation alone beat every model's sinus-arrhythmia AUC on
    three CV folds). This gives the head the statistics themselves, from the
    intervals between consecutive real beats:

    - log mean RR (the rate),
    - log coefficient of variation (std / mean: slow, phasic variation),
    - log RMSSD / mean (beat-to-beat jumps: ectopy, atrial fibrillation),
    - log max / min RR.

    Heart-rate-variability conventions (Task Force of the ESC and NASPE,
    Circulation 1996), computed over a 10 s strip, so they are short-term only.
    """

    n_features = 4
    floor = 1e-3   # the log of a variation below 0.1 % reads as 0.1 %: a perfectly regular paced rhythm stays finite

    def __init__(self, config: BeatNetConfig):
        super().__init__()
        self.config = config
        self.mlp = nn.Sequential(nn.Linear(self.n_features, config.d_model), nn.GELU(),
                                 nn.Linear(config.d_model, config.d_model))

    def features(self, rr: torch.Tensor, beat_mask: torch.Tensor) -> torch.Tensor:
        """(B, N, 2) RR before/after each beat in s, (B, N) real beats -> (B, 4) the statistics above.

        A record with fewer than two intervals gets the rate of what it has
        (the tokenizer's fallback interval) and no variation.
        """
        rr_next = rr[:, :-1, 1].clamp(self.config.rr_min_s, self.config.rr_max_s)   # (B, N-1): beat n to n+1
        pair = beat_mask[:, :-1] & beat_mask[:, 1:]                                 # (B, N-1) both beats real
        w = pair.to(rr_next.dtype)
        n = w.sum(1).clamp_min(1.0)                                                 # (B,)
        only_beat = rr[:, 0, 1].clamp(self.config.rr_min_s, self.config.rr_max_s)  # (B,) no pair: its fallback
        mean = torch.where(pair.any(1), (rr_next * w).sum(1) / n, only_beat)        # (B,)
        var = (((rr_next - mean[:, None]) ** 2) * w).sum(1) / n
        step_pair = (pair[:, 1:] & pair[:, :-1]).to(rr_next.dtype)                  # (B, N-2) successive intervals
        step_sq = (rr_next[:, 1:] - rr_next[:, :-1]) ** 2 * step_pair
        rmssd = (step_sq.sum(1) / step_pair.sum(1).clamp_min(1.0)).sqrt()
        big = torch.finfo(rr_next.dtype).max
        longest = rr_next.masked_fill(~pair, -big).amax(1).clamp_min(0)
        shortest = rr_next.masked_fill(~pair, big).amin(1)
        spread = torch.where(pair.any(1), longest / shortest, torch.ones_like(mean))
        return torch.stack([mean.log(), (var.sqrt() / mean).clamp_min(self.floor).log(),
                            (rmssd / mean).clamp_min(self.floor).log(), spread.log()], dim=-1)   # (B, 4)

    def forward(self, rr: torch.Tensor, beat_mask: torch.Tensor) -> torch.Tensor:
        # (B, N, 2), (B, N) -> (B, D), added to the beat-pooled record vector
        return self.mlp(self.features(rr, beat_mask))


class TemporalEncoder(nn.Module):
    """Transformer over the beat sequence, then beat-attention pooling."""

    def __init__(self, config: BeatNetConfig):
        super().__init__()
        self.rhythm = RhythmEmbedding(config)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            Block(config.d_model, config.n_heads, config.mlp_ratio, config.dropout)
            for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.pool = AttentionPool(config.d_model)

    def forward(self, beats: torch.Tensor, beat_mask: torch.Tensor, beat_times: torch.Tensor, rr: torch.Tensor):
        # beats: (B, N, D); beat_mask: (B, N)
        x = self.dropout(beats + self.rhythm(beat_times, rr, beat_mask))      # (B, N, D)
        temporal_attention = []
        for block in self.blocks:
            x, w = block(x, beat_mask)
            temporal_attention.append(w)                                       # (B, H, N, N)
        record, beat_attention = self.pool(self.ln_f(x), beat_mask)           # (B, D), (B, N)
        return record, beat_attention, temporal_attention


# --------------------------------------------------------------------------- the model

class BeatNet(nn.Module):
    """BEAT-Net: beat encoder -> lead attention -> rhythm transformer -> multi-label head.

    Parameters
    ----------
    config : BeatNetConfig

    Notes
    -----
    ``input_kind = "tokens"``: the training loop feeds
    ``forward(tokens, beat_mask, lead_mask, beat_times, rr)``. The content of
    padded beats and masked leads is never read: only the real (beat, lead)
    windows go through the per-lead CNN, and the whole-beat CNN sees masked
    leads as flat lines, so their content (zeros, garbage, NaN) cannot change
    the output, and adding padding does not change a record's logits.
    """

    input_kind = "tokens"
    config_class = BeatNetConfig

    def __init__(self, config: BeatNetConfig):
        super().__init__()
        self.config = config
        self.beat_encoder = BeatEncoder(config)
        self.whole_beat_encoder = BeatEncoder(config, config.n_leads) if config.whole_beat_token else None
        self.spatial = SpatialEncoder(config)
        self.temporal = TemporalEncoder(config)
        self.rhythm_summary = RhythmSummary(config) if config.rhythm_summary else None
        self.head = nn.Sequential(nn.LayerNorm(config.d_model), nn.Dropout(config.dropout),
                                  nn.Linear(config.d_model, config.n_classes))
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # GPT-2 style small init for the transformer parts; convs keep PyTorch's Kaiming default
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, SpatialEncoder):
            nn.init.normal_(module.lead_embedding, mean=0.0, std=0.02)

    def drop_leads(self, lead_mask: torch.Tensor) -> torch.Tensor:
        """Training-time lead dropout: hide usable leads at random, never all of a record's.

        Teaches the spatial encoder to diagnose from whatever leads remain
        (missing or flat leads at inference), the robustness claimed by the paper.
        """
        p = self.config.lead_dropout
        if not self.training or p <= 0:
            return lead_mask
        kept = lead_mask & (torch.rand(lead_mask.shape, device=lead_mask.device) >= p)
        return torch.where(kept.any(dim=-1, keepdim=True), kept, lead_mask)

    def forward(self, tokens: torch.Tensor, beat_mask: torch.Tensor, lead_mask: torch.Tensor,
                beat_times: torch.Tensor, rr: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Classify a batch of tokenised records.

        Parameters
        ----------
        tokens : (B, N, L, T) float, conditioned beat windows (zeros where padded).
        beat_mask : (B, N) bool, True = real beat.
        lead_mask : (B, L) bool, True = usable lead.
        beat_times : (B, N) float, R-peak time in seconds from the record start.
        rr : (B, N, 2) float, RR interval before and after each beat, in seconds.

        Returns
        -------
        logits : (B, n_classes)
        attention : dict
            ``lead_attention`` (B, N, L): per real beat a distribution over the
            usable leads (exactly 0 on masked leads and on padded beats; all 0
            for a record with no usable lead, whose logits then come from rhythm alone);
            ``beat_attention`` (B, N): a distribution over the real beats
            (exactly 0 on padding); ``temporal_attention``: per rhythm layer
            (B, H, N, N); ``spatial_attention``: per spatial layer (B, N, H, L', L'),
            L' = L + 1 with the whole-beat token last when the model has one.
            With ``whole_beat_pooled``, ``whole_beat_share`` (B, N): the share of
            each beat vector that is the whole-beat part (its projection; the
            leads' share is the rest, split by ``lead_attention``; 0 on padding).
            With ``rhythm_summary``, ``rhythm_summary_share`` (B,): the share of
            the record vector that is the rate-and-regularity part (the beats'
            share is the rest, split by ``beat_attention``; 0 for a record of padding).
        """
        B, N, L, T = tokens.shape
        D = self.config.d_model
        if L != self.config.n_leads or T != self.config.token_len:
            raise ValueError(f"tokens have {L} leads x {T} samples, model expects "
                             f"{self.config.n_leads} x {self.config.token_len}")
        dtype = self.head[-1].weight.dtype
        beat_mask, lead_mask = beat_mask.bool(), self.drop_leads(lead_mask.bool())
        # padded entries may hold anything; make them harmless before any arithmetic
        beat_times = beat_times.to(dtype).masked_fill(~beat_mask, 0.0)
        rr = rr.to(dtype).masked_fill(~beat_mask.unsqueeze(-1), 1.0)

        # 1. morphology: only the real (beat, lead) windows go through the CNN
        window_mask = beat_mask[:, :, None] & lead_mask[:, None, :]             # (B, N, L)
        windows = tokens[window_mask].to(dtype)                                  # (K, T)
        lead_features = tokens.new_zeros(B, N, L, D, dtype=dtype)                # (B, N, L, D)
        if windows.shape[0] > 0:   # BatchNorm would fill its running stats with NaN on 0 windows
            # .to(dtype): under bfloat16 autocast (training) the CNN returns bfloat16
            lead_features[window_mask] = self.beat_encoder(windows).to(dtype)

        # 2. space: per real beat, attention over its usable leads
        beat_lead_mask = window_mask[beat_mask]                                  # (M, L)
        whole_beat = None
        if self.whole_beat_encoder is not None:
            # masked leads read as flat lines (masked_fill, not a product: their content may be NaN)
            joint = tokens[beat_mask].to(dtype).masked_fill(~beat_lead_mask.unsqueeze(-1), 0.0)  # (M, L, T)
            whole_beat = self.whole_beat_encoder(joint).to(dtype)                        # (M, D)
        whole_keep = None
        if self.training and self.config.whole_beat_dropout > 0 and whole_beat is not None:
            # one draw per record, for all its beats (a record reads the whole beat or does not)
            kept = torch.rand(B, device=tokens.device) >= self.config.whole_beat_dropout            # (B,)
            whole_keep = kept.unsqueeze(1).expand(B, N)[beat_mask].unsqueeze(-1).to(dtype)      # (M, 1)
        beat_vectors, lead_attn, spatial_attn, whole_share = self.spatial(lead_features[beat_mask], beat_lead_mask,
                                                                          whole_beat, whole_keep)
        whole_attn = None
        if lead_attn.shape[1] > L:   # the whole-beat item's weight apart; the leads' renormalised to sum to 1
            whole_attn = lead_attn[:, L]
            lead_attn = lead_attn[:, :L] / lead_attn[:, :L].sum(dim=-1, keepdim=True).clamp_min(1e-12)
        beats = lead_features.new_zeros(B, N, D)
        beats[beat_mask] = beat_vectors.to(dtype)                                # (B, N, D)
        lead_attention = lead_features.new_zeros(B, N, L)
        lead_attention[beat_mask] = lead_attn.to(dtype)                          # (B, N, L)
        spatial_attention = []
        for w in spatial_attn:                                                   # (M, H, L', L')
            full = w.new_zeros(B, N, *w.shape[1:])
            full[beat_mask] = w
            spatial_attention.append(full)                                       # (B, N, H, L', L')

        # 3. time: rhythm transformer over the real beats
        record, beat_attention, temporal_attention = self.temporal(beats, beat_mask, beat_times, rr)
        summary_share = None
        if self.rhythm_summary is not None:                                      # rate and regularity, (B, D)
            summary = self.rhythm_summary(rr, beat_mask) * beat_mask.any(dim=1, keepdim=True)
            record = record + summary
            summary_share = projection_share(summary, record)                    # (B,)

        # 4. multi-label head
        logits = self.head(record)                                               # (B, n_classes)
        attention = {
            "lead_attention": lead_attention,
            "beat_attention": beat_attention,
            "temporal_attention": temporal_attention,
            "spatial_attention": spatial_attention,
        }
        if whole_attn is not None:                                               # (B, N), 0 on padding
            attention["whole_beat_attention"] = lead_features.new_zeros(B, N)
            attention["whole_beat_attention"][beat_mask] = whole_attn.to(dtype)
        if whole_share is not None:                                              # (B, N), 0 on padding
            attention["whole_beat_share"] = lead_features.new_zeros(B, N)
            attention["whole_beat_share"][beat_mask] = whole_share.to(dtype)
        if summary_share is not None:
            attention["rhythm_summary_share"] = summary_share
        return logits, attention
