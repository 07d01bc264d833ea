"""Probe: pre-train BEAT-Net's beat and spatial encoders by masked-lead reconstruction, then fine-tune.

Exploration (removed after; reported in reports/ptbxl.md). Self-supervised on the *training* records'
beats only (no labels, no other data): per beat, 3 usable leads are replaced by a learned mask token and
their windows are reconstructed from the other leads through the spatial encoder -- the 12 leads are
projections of one dipole, so this teaches the lead relations (axis) and morphology. Fine-tuning is the
benchmark's training (20 epochs, bf16), starting from the pre-trained weights.

    python scripts/probe_pretrain_leads.py SEED [PRETRAIN_EPOCHS]
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

import beatnet_core.train as T
from beatnet_core.evaluate import evaluate_run

seed = int(sys.argv[1])
pre_epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
data = "../shared/data/ptbxl"
torch.set_num_threads(1)
torch.manual_seed(seed)
rng = np.random.default_rng(seed)
ds = T.load_task(data, "superdiagnostic", 10, progress=False)
inputs = T.TokenInputs(ds, progress=True, augment=True)
train_idx = ds.split().train

model = T.build_model("beatnet", n_classes=len(ds.label_names))
D, L, Tlen = model.config.d_model, model.config.n_leads, model.config.token_len
mask_token = nn.Parameter(torch.zeros(D))
decoder = nn.Linear(D, Tlen)
params = list(model.beat_encoder.parameters()) + list(model.spatial.parameters()) + [mask_token] + list(decoder.parameters())
opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.01)
steps = pre_epochs * int(np.ceil(len(train_idx) / 64))
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
model.train()
for epoch in range(pre_epochs):
    losses = []
    for start in range(0, len(train_idx), 64):
        b = inputs.batch(rng.permutation(train_idx)[:64] if False else train_idx[rng.permutation(len(train_idx))[start:start + 64]], True, rng)
        tokens, beat_mask, lead_mask = b["tokens"], b["beat_mask"].bool(), b["lead_mask"].bool()
        window_mask = beat_mask[:, :, None] & lead_mask[:, None, :]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            feats = tokens.new_zeros(*window_mask.shape, D)
            feats[window_mask] = model.beat_encoder(tokens[window_mask]).float()
            x = feats[beat_mask]                                   # (M, L, D)
            m = window_mask[beat_mask]                             # (M, L)
            target = tokens[beat_mask]                             # (M, L, T)
            # hide 3 usable leads per beat (at most all but one)
            score = torch.rand(m.shape).masked_fill(~m, 2.0)
            k = torch.clamp(m.sum(1, keepdim=True) - 1, max=3)
            rank = score.argsort(1).argsort(1)
            hidden = (rank < k) & m                                # (M, L)
            x = torch.where(hidden.unsqueeze(-1), mask_token.to(x.dtype).expand_as(x), x)
            h = x + model.spatial.lead_embedding
            for block in model.spatial.blocks:
                h, _ = block(h, m)
            pred = decoder(model.spatial.ln_f(h)[hidden]).float()  # (H, T)
        loss = ((pred - target[hidden]) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    print(f"pretrain epoch {epoch + 1}/{pre_epochs}: reconstruction MSE {np.mean(losses):.4f}", flush=True)

pretrained = {k: v.detach().clone() for k, v in model.state_dict().items()}
_build = T.build_model


def build_pretrained(name, n_classes, **over):
    m = _build(name, n_classes, **over)
    m.load_state_dict(pretrained)
    return m


T.build_model = build_pretrained
cfg = T.TrainConfig(model="beatnet", task="superdiagnostic", epochs=20, seed=seed, threads=1, precision="bf16")
out = Path(f"runs/ablation/pretrain{pre_epochs}_seed{seed}")
summary = T.train(cfg, data, out, progress=True, dataset=ds, inputs=inputs)
T.build_model = _build
res = evaluate_run(out, data, "test", n_boot=10, progress=False, dataset=ds)
row = {"name": f"pretrain{pre_epochs}", "seed": seed, "val": summary["val_macro_auc"], "test": res["macro_auc"],
       "best_epoch": summary["best_epoch"], "per_class": {c["label"]: c["auc"] for c in res["per_class"]}}
print(json.dumps(row))
with open("runs/ablation/probes.jsonl", "a") as f:
    f.write(json.dumps(row) + "\n")
