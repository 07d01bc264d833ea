"""One training loop for every model: ``beatnet train --model NAME --task TASK --data DIR --out RUN_DIR``.

Every model is trained by the same :func:`train` on the same records, splits
(PTB-XL ``strat_fold`` 1-8 / 9 / 10, or another test fold for cross-validation),
labels and conditioning, as in the PTB-XL benchmark (Strodthoff et al. 2021), so
comparisons are one loop over names.
What differs is only what each model reads:

- BEAT-Net (``input_kind == "tokens"``) reads the heartbeat tokens of the
  whole 10 s record (:func:`beatnet_core.tokenizer.tokenize_conditioned`).
- The CNNs (``input_kind == "signal"``) read the conditioned signal at the
  benchmark's 100 Hz, trained on random 2.5 s crops and evaluated by averaging
  their predictions over 2.5 s windows with 1.25 s stride, as the benchmark does.

AdamW with linear warm-up and cosine decay; early stopping on validation
macro-AUC; deterministic seeds; BCE with (square-root) positive weights.
Options: bfloat16 mixed precision (``precision``: about 2x faster per step for
BEAT-Net on CPUs with native bfloat16, same accuracy in reports/ptbxl.md) and
a weight EMA (``ema``; tried, no gain there, off by default).

A run directory holds:

- ``weights.safetensors``  the best epoch's weights (by validation macro-AUC);
- ``config.json``          model name and config, training config, parameter count;
- ``labels.json``          label codes, descriptions, task;
- ``conditioning.json``    the preprocessing spec (the same function is used to predict);
- ``thresholds.json``      per-class decision thresholds maximising F1 on validation;
- ``train_log.csv``        per epoch: losses, validation macro-AUC, learning rate, seconds;
- ``splits.json``          the ecg_ids used for train / validation / test.
"""
from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from beatnet_core.data.labels import describe_label
from beatnet_core.data.ptbxl import PTBXLDataset, fold_rotation, load_ptbxl, stratified_fraction
from beatnet_core.metrics import evaluable_classes, f1_thresholds, macro_auc
from beatnet_core.model import MODELS, build_model, count_parameters
from beatnet_core.signal import ConditioningSpec, resample
from beatnet_core.tokenizer import stack_tokens, tokenize_conditioned

#: Rate (Hz) and crop length (s) of the CNN baselines, as in the PTB-XL benchmark.
CNN_FS = 100.0
CNN_CROP_S = 2.5


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in ``config.json``)."""

    model: str = "beatnet"
    task: str = "superdiagnostic"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    warmup_epochs: float = 1.0
    patience: int = 8                 # epochs without a better validation AUC before stopping
    label_fraction: float = 1.0       # stratified fraction of the training folds
    test_fold: int = 10               # held-out strat_fold; validation = the fold before (10: the benchmark's split)
    seed: int = 0
    min_count: int = 10               # drop labels with fewer positives among the records loaded
    pos_weight: str = "sqrt"          # "none", "sqrt" or "full" (neg/pos) positive weights in BCE
    threads: int = 2
    augment: bool = True              # BEAT-Net: random beat sub-sequences + token noise; CNNs: random crops
    max_minutes: float | None = None  # wall-clock budget; stops after the epoch that exceeds it
    precision: str = "fp32"           # training forward pass: "fp32", "bf16" (CPU autocast) or "auto"
    ema: float = 0.0                  # > 0: validate and keep an exponential moving average of the weights
    model_overrides: dict = field(default_factory=dict)


def load_task(data_dir, task: str, min_count: int = 10, progress: bool = True) -> PTBXLDataset:
    """Records and labels of a task; ``"a+b"`` concatenates label sets (e.g. ``superdiagnostic+rhythm``).

    Records without any label of the task are dropped, as in the benchmark.
    """
    parts = task.split("+")
    datasets = [load_ptbxl(data_dir, part, min_count=min_count, progress=progress) for part in parts]
    ds = datasets[0]
    if len(datasets) > 1:
        names = [n for d in datasets for n in d.label_names]
        if len(set(names)) != len(names):
            raise ValueError(f"task {task!r}: label sets overlap")
        ds.labels = np.concatenate([d.labels for d in datasets], axis=1)
        ds.label_names = names
        ds.task = task
    return ds.take(ds.labels.any(axis=1))


# --------------------------------------------------------------------------- inputs

class TokenInputs:
    """Heartbeat tokens of every record, computed once; batches padded to their longest record."""

    def __init__(self, ds: PTBXLDataset, progress: bool = True, augment: bool = False):
        from tqdm import tqdm

        self.augment = augment
        self.items = [tokenize_conditioned(ds.signals[i], ds.fs, ds.lead_mask[i], source=f"ecg_id {ds.ecg_id[i]}")
                      for i in tqdm(range(len(ds)), desc="tokenizing", unit="rec", disable=not progress,
                                    leave=False)]

    def batch(self, idx: np.ndarray, train: bool, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        items = [self.items[i] for i in idx]
        if train and self.augment:
            items = [_augment_tokens(t, rng) for t in items]
        arrays = stack_tokens(items)
        return {k: torch.from_numpy(v) for k, v in arrays.items()}

    def eval_batches(self, idx: np.ndarray, batch_size: int):
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            yield chunk, self.batch(chunk, False, None), None


def _augment_tokens(tokens, rng: np.random.Generator, min_span: float = 0.5, noise_sd: float = 0.03):
    """A random contiguous run of beats covering 50-100 % of the record, with light noise.

    The token analogue of the CNNs' random crops: the model must diagnose
    from any few seconds of rhythm, as clinicians do from a short strip, and
    cannot memorise a record's exact beat sequence. RR intervals stay the true
    ones (a beat's neighbours exist even if cropped away).
    """
    n = tokens.windows.shape[0]
    keep = max(2, int(np.ceil(n * rng.uniform(min_span, 1.0))))
    if keep < n:
        start = int(rng.integers(0, n - keep + 1))
        tokens = tokens.select(slice(start, start + keep))
    noise = rng.normal(0.0, noise_sd, tokens.windows.shape).astype(np.float32)
    return replace(tokens, windows=tokens.windows + noise * tokens.lead_mask[None, :, None])


class SignalInputs:
    """Conditioned signals at the CNNs' 100 Hz; random 2.5 s crops to train, sliding windows to evaluate."""

    def __init__(self, ds: PTBXLDataset, fs: float = CNN_FS, crop_s: float = CNN_CROP_S):
        x = resample(ds.signals, ds.fs, fs, axis=1) if ds.fs != fs else ds.signals
        self.x = np.ascontiguousarray(np.asarray(x, np.float32).transpose(0, 2, 1))   # (n, 12, S)
        self.crop = int(round(crop_s * fs))
        self.stride = self.crop // 2

    def batch(self, idx: np.ndarray, train: bool, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        S = self.x.shape[-1]
        starts = rng.integers(0, S - self.crop + 1, len(idx))
        crops = np.stack([self.x[i, :, s:s + self.crop] for i, s in zip(idx, starts)])
        return {"signal": torch.from_numpy(crops)}

    def eval_batches(self, idx: np.ndarray, batch_size: int):
        S = self.x.shape[-1]
        starts = list(range(0, S - self.crop + 1, self.stride))
        per_batch = max(1, batch_size // len(starts))
        for start in range(0, len(idx), per_batch):
            chunk = idx[start:start + per_batch]
            crops = np.stack([self.x[i, :, s:s + self.crop] for i in chunk for s in starts])
            yield chunk, {"signal": torch.from_numpy(crops)}, len(starts)


def make_inputs(model: nn.Module, ds: PTBXLDataset, progress: bool = True, augment: bool = False):
    return TokenInputs(ds, progress, augment) if model.input_kind == "tokens" else SignalInputs(ds)


def forward_logits(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    out = model(**batch)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def predict_scores(model: nn.Module, inputs, idx: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """Sigmoid probabilities (records, classes); CNN window predictions are averaged per record."""
    model.eval()
    out = []
    for chunk, batch, windows in inputs.eval_batches(np.asarray(idx), batch_size):
        p = torch.sigmoid(forward_logits(model, batch)).numpy()
        if windows:
            p = p.reshape(len(chunk), windows, -1).mean(axis=1)
        out.append(p)
    return np.concatenate(out) if out else np.zeros((0, 0))


# --------------------------------------------------------------------------- training

PRECISIONS = ("fp32", "bf16", "auto")


def training_dtype(precision: str) -> torch.dtype:
    """The autocast dtype of the training forward pass for a ``TrainConfig.precision``.

    ``"bf16"`` runs convolutions and matrix products in bfloat16 with float32
    weights, optimiser and loss (mixed precision): about twice as fast on CPUs
    with native bfloat16 (AVX512-BF16, AMX), much slower on CPUs without, so
    ``"auto"`` picks it only where the CPU has it. Evaluation and prediction
    always run in float32.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "auto":
        precision = "bf16" if cpu_has_native_bf16() else "fp32"
    return torch.bfloat16 if precision == "bf16" else torch.float32


def train_step(model: nn.Module, optimizer, loss_fn, batch: dict, y: torch.Tensor,
               dtype: torch.dtype = torch.float32) -> float:
    """One optimiser step (forward in ``dtype`` autocast, float32 loss, clipped gradients); the loss."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        logits = forward_logits(model, batch)
    loss = loss_fn(logits.float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()


def cpu_has_native_bf16() -> bool:
    """True where oneDNN runs bfloat16 natively on this CPU (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):   # private API: absent in some builds
        return False


class _WeightAverage:
    """Exponential moving average of a model's weights and buffers (``decay`` per optimiser step)."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].lerp_(v, 1.0 - self.decay)
            else:                      # e.g. BatchNorm's step counter
                self.state[k].copy_(v)

    def swap_in(self, model: nn.Module) -> dict:
        """Load the average into ``model``; return the live weights to load back after evaluating."""
        live = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.state)
        return live


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _pos_weight(y: np.ndarray, how: str) -> torch.Tensor | None:
    if how == "none":
        return None
    pos = y.sum(axis=0).clip(min=1)
    ratio = (y.shape[0] - pos) / pos
    w = np.sqrt(ratio) if how == "sqrt" else ratio
    return torch.tensor(np.clip(w, 1.0, 30.0), dtype=torch.float32)


def _lr_at(step: int, total: int, warmup: int, base: float) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train(cfg: TrainConfig, data_dir, out_dir, progress: bool = True, dataset: PTBXLDataset | None = None,
          inputs=None) -> dict:
    """Train one model; write the run directory; return a summary (best epoch, validation AUC, time).

    Parameters
    ----------
    cfg : TrainConfig
    data_dir : path of the PTB-XL data (official layout and/or the shared subset)
    out_dir : run directory to create
    dataset : an already loaded :func:`load_task` result (saves reloading in loops)
    inputs : ``make_inputs(model, dataset)`` already built for this model's input kind (tokens or
        signal), to share one tokenization among the runs of a loop on the same ``dataset``
    """
    from tqdm import tqdm

    t_start = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    _seed_everything(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dtype = training_dtype(cfg.precision)
    ds = dataset if dataset is not None else load_task(data_dir, cfg.task, cfg.min_count, progress)
    split = ds.split(cfg.test_fold)
    if evaluable_classes(ds.labels[split.val]).size == 0:
        raise ValueError(f"validation fold {fold_rotation(cfg.test_fold)[1][0]} has no label with both positive and "
                         f"negative records ({len(split.val)} records): its macro-AUC, which chooses the epoch, "
                         "is undefined")
    train_idx = split.train
    if cfg.label_fraction < 1.0:
        train_idx = stratified_fraction(ds.labels, split.train, cfg.label_fraction, seed=cfg.seed)
    y = ds.labels.astype(np.float32)

    model = build_model(cfg.model, n_classes=len(ds.label_names), **cfg.model_overrides)
    if inputs is None:
        inputs = make_inputs(model, ds, progress, augment=cfg.augment)
    elif isinstance(inputs, TokenInputs):
        inputs.augment = cfg.augment   # shared tokens: augmentation follows this run's config
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=_pos_weight(y[train_idx], cfg.pos_weight))
    steps_per_epoch = math.ceil(len(train_idx) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log_rows, best = [], {"val_auc": -1.0, "epoch": -1, "state": None}
    step, stale = 0, 0
    # Weight EMA (Polyak averaging): the averaged weights sit in a flatter region than the last
    # iterate, which helps on small, noisy training sets; validation and the saved run use them.
    ema = _WeightAverage(model, cfg.ema) if cfg.ema > 0 else None
    bar = tqdm(range(cfg.epochs), desc=f"train {cfg.model}", unit="epoch", disable=not progress)
    for epoch in bar:
        t_epoch = time.perf_counter()
        model.train()
        order = rng.permutation(train_idx)
        losses = []
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            lr = _lr_at(step, total_steps, warmup, cfg.lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = train_step(model, optimizer, loss_fn, inputs.batch(idx, True, rng), torch.from_numpy(y[idx]),
                              dtype)
            if ema is not None:
                ema.update(model)
            losses.append(loss)
            step += 1
        live = ema.swap_in(model) if ema is not None else None
        val_scores = predict_scores(model, inputs, split.val)
        val_auc = macro_auc(ds.labels[split.val], val_scores)
        val_loss = float(nn.functional.binary_cross_entropy(torch.from_numpy(val_scores.clip(1e-7, 1 - 1e-7)),
                                                            torch.from_numpy(y[split.val])))
        log_rows.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "val_loss": val_loss,
                         "val_macro_auc": val_auc, "lr": lr, "seconds": time.perf_counter() - t_epoch})
        if val_auc > best["val_auc"]:
            best = {"val_auc": val_auc, "epoch": epoch + 1,
                    "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
            stale = 0
        else:
            stale += 1
        if live is not None:
            model.load_state_dict(live)
        bar.set_postfix(loss=f"{np.mean(losses):.4f}", val_auc=f"{val_auc:.4f}", best=f"{best['val_auc']:.4f}")
        elapsed_min = (time.perf_counter() - t_start) / 60
        if stale >= cfg.patience or (cfg.max_minutes and elapsed_min > cfg.max_minutes):
            break

    model.load_state_dict(best["state"])
    val_scores = predict_scores(model, inputs, split.val)
    thresholds = f1_thresholds(ds.labels[split.val], val_scores)
    seconds = time.perf_counter() - t_start
    summary = {"best_epoch": best["epoch"], "val_macro_auc": best["val_auc"], "epochs_run": len(log_rows),
               "train_seconds": seconds, "n_parameters": count_parameters(model),
               "train_records": int(len(train_idx)), "train_dtype": str(dtype).removeprefix("torch.")}
    save_run(out, model, cfg, ds, thresholds, log_rows, summary,
             splits={"train": ds.ecg_id[train_idx], "val": ds.ecg_id[split.val], "test": ds.ecg_id[split.test]})
    return summary


def save_run(out: Path, model: nn.Module, cfg: TrainConfig, ds: PTBXLDataset, thresholds: np.ndarray,
             log_rows: list[dict], summary: dict, splits: dict) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "weights.safetensors"))
    (out / "config.json").write_text(json.dumps({
        "model": cfg.model, "model_config": model.config.to_dict(), "train_config": asdict(cfg),
        "summary": summary,
        "signal_input": {"fs": CNN_FS, "crop_s": CNN_CROP_S} if model.input_kind == "signal" else None,
    }, indent=2))
    (out / "labels.json").write_text(json.dumps({
        "task": ds.task, "labels": list(ds.label_names),
        "descriptions": {code: describe_label(code) for code in ds.label_names},
        "train_positives": dict(zip(ds.label_names, ds.labels.sum(axis=0).astype(int).tolist())),
    }, indent=2))
    (out / "conditioning.json").write_text(ds.spec.to_json())
    (out / "thresholds.json").write_text(json.dumps(dict(zip(ds.label_names, map(float, thresholds))), indent=2))
    (out / "splits.json").write_text(json.dumps({k: [int(i) for i in v] for k, v in splits.items()}))
    with open(out / "train_log.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(log_rows[0]))
        writer.writeheader()
        writer.writerows(log_rows)


def finished_with(run_dir, cfg: TrainConfig, ignore=("threads",)) -> dict | None:
    """The summary of a finished run in ``run_dir`` trained with ``cfg`` (fields in ``ignore`` aside), else None.

    Fields that a run's ``config.json`` lacks (written before the field
    existed) count as their default value: such runs were trained that way.
    """
    run = Path(run_dir)
    path = run / "config.json"
    if not (path.is_file() and (run / "weights.safetensors").is_file()):
        return None
    saved = json.loads(path.read_text())
    have = saved_train_config(saved)
    want = json.loads(json.dumps(asdict(cfg)))
    # model_overrides are compared as the model they make (below): {"dropout": 0.1} is the default model
    same = all(have.get(k) == v for k, v in want.items() if k not in ignore and k != "model_overrides")
    # the model's own defaults may have changed since the run was saved (e.g. a new BEAT-Net stage)
    have_model = saved_model_config(saved)
    want_model = model_config_of(cfg.model, have_model["n_classes"], cfg.model_overrides)
    same = same and all(have_model.get(k) == v for k, v in want_model.items() if k != "n_classes")
    return saved["summary"] if same else None


def model_config_of(model: str, n_classes: int, overrides: dict | None = None) -> dict:
    """Today's full config of ``model`` with ``overrides``, in its JSON form (as a run saves it)."""
    config = MODELS[model].config_class.from_dict({**(overrides or {}), "n_classes": n_classes})
    return json.loads(json.dumps(config.to_dict()))


def saved_train_config(saved: dict) -> dict:
    """The training config of a run's ``config.json``; fields it lacks (added since) are their defaults."""
    return {**json.loads(json.dumps(asdict(TrainConfig()))), **saved["train_config"]}


def saved_model_config(saved: dict) -> dict:
    """The model config of a run's ``config.json``, with fields added since filled in as that run had them."""
    legacy = getattr(MODELS[saved["model"]].config_class, "legacy_values", {})
    return {**legacy, **saved["model_config"]}


def load_run(run_dir) -> tuple[nn.Module, dict]:
    """Rebuild a trained model from its run directory (weights read with safetensors: no pickle).

    Returns the model in eval mode and a dict with ``config``, ``labels``,
    ``descriptions``, ``thresholds`` (array), ``spec`` (ConditioningSpec), ``task``.
    """
    from safetensors.torch import load_file

    run = Path(run_dir)
    missing = [n for n in ("weights.safetensors", "config.json", "labels.json", "conditioning.json",
                           "thresholds.json") if not (run / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{run}: not a BEAT-Net run directory (missing {', '.join(missing)})")
    config = json.loads((run / "config.json").read_text())
    labels = json.loads((run / "labels.json").read_text())
    model_config = saved_model_config(config)
    n_classes = model_config.pop("n_classes")
    model = build_model(config["model"], n_classes=n_classes, **model_config)
    model.load_state_dict(load_file(str(run / "weights.safetensors")))
    model.eval()
    thresholds = json.loads((run / "thresholds.json").read_text())
    return model, {
        "config": config, "labels": labels["labels"], "descriptions": labels.get("descriptions", {}),
        "task": labels["task"], "thresholds": np.array([thresholds[c] for c in labels["labels"]]),
        "spec": ConditioningSpec.from_dict(json.loads((run / "conditioning.json").read_text())),
    }
