"""Speed of the tokenizer: ``beatnet bench tokenize`` (median over real 10 s, 12-lead, 500 Hz records)."""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from beatnet_core.io import load_ecg
from beatnet_core.tokenizer import tokenize


def bench_tokenize(data_dir: Path, n_records: int = 50, repeats: int = 5, threads: int = 1) -> dict:
    """Median wall time of ``tokenize`` (QRS detection + conditioning + windows) per record.

    Records are the first ``n_records`` LUDB records (10 s, 12 leads, 500 Hz),
    loaded beforehand so file reading is not timed. ``threads`` limits BLAS/
    OpenMP threads (1 = "one core"); set before NumPy/SciPy start their pools.
    """
    from threadpoolctl import threadpool_limits

    folder = Path(data_dir) / "data" if (Path(data_dir) / "data").is_dir() else Path(data_dir)
    paths = sorted(folder.glob("*.hea"), key=lambda p: int(p.stem) if p.stem.isdigit() else p.stem)
    ecgs = [load_ecg(p) for p in paths[:n_records]]
    times = []
    if threads == 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # pin to one core
    with threadpool_limits(threads):
        tokenize(ecgs[0])  # warm-up (imports, filter design caches)
        for _ in range(repeats):
            for ecg in ecgs:
                t0 = time.perf_counter()
                tokenize(ecg)
                times.append(time.perf_counter() - t0)
    t = np.asarray(times) * 1000
    return {"records": len(ecgs), "repeats": repeats, "threads": threads,
            "median_ms": float(np.median(t)), "p95_ms": float(np.percentile(t, 95)),
            "shape": f"{ecgs[0].n_samples} samples x 12 leads at {ecgs[0].fs:g} Hz"}


def bench_predict(data_dir: Path, model=None, n_records: int = 50, repeats: int = 3,
                  batch_size: int = 64) -> dict:
    """Prediction speed of the bundled (or given) model on real 10 s, 12-lead, 500 Hz LUDB records.

    - one record at a time (tokenize + model + attention), pinned to one core, one thread: median ms;
    - batch prediction (``predict_many``) of all records with the machine's cores: records per second.
    Files are read beforehand, so reading is not timed.
    """
    import torch
    from threadpoolctl import threadpool_limits

    from beatnet_core.predict import BeatNetPredictor

    folder = Path(data_dir) / "data" if (Path(data_dir) / "data").is_dir() else Path(data_dir)
    paths = sorted(folder.glob("*.hea"), key=lambda p: int(p.stem) if p.stem.isdigit() else p.stem)
    ecgs = [load_ecg(p) for p in paths[:n_records]]
    predictor = BeatNetPredictor.load(model)

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    torch.set_num_threads(len(cores) if cores else 2)
    predictor.predict_many(ecgs[:8])  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        predictor.predict_many(ecgs, batch_size=batch_size)
    batch_rate = repeats * len(ecgs) / (time.perf_counter() - t0)

    single = []
    if cores:
        os.sched_setaffinity(0, {cores[0]})
    torch.set_num_threads(1)
    with threadpool_limits(1):
        for _ in range(repeats):
            for ecg in ecgs:
                t = time.perf_counter()
                predictor.predict(ecg)
                single.append(time.perf_counter() - t)
    if cores:
        os.sched_setaffinity(0, set(cores))
    t = np.asarray(single) * 1000
    return {"records": len(ecgs), "repeats": repeats, "single_median_ms": float(np.median(t)),
            "single_p95_ms": float(np.percentile(t, 95)), "batch_records_per_s": float(batch_rate),
            "batch_size": batch_size, "batch_threads": len(cores) if cores else 2}


def bench_train_step(data_dir: Path, models=("beatnet", "xresnet1d101", "inception1d"),
                     precisions=("fp32", "bf16"), threads: int = 2, steps: int = 8, batch_size: int = 64,
                     seed: int = 0) -> list[dict]:
    """Seconds per training step (batch, :func:`~beatnet_core.train.train_step`) on real PTB-XL batches, per model and precision.

    The batches are the training harness's own (``make_inputs`` of the
    superdiagnostic task: BEAT-Net's augmented heartbeat tokens, the CNNs'
    random 2.5 s crops at 100 Hz), so ``seconds_per_step x steps per epoch``
    is the cost of an epoch; validation passes are not included. One warm-up
    step per configuration is not timed.
    """
    import torch

    from beatnet_core.model import build_model
    from beatnet_core.train import load_task, make_inputs, train_step, training_dtype

    torch.set_num_threads(threads)
    ds = load_task(Path(data_dir), "superdiagnostic", progress=False)
    train_idx = ds.split().train
    n_train = len(train_idx)
    ds = ds.take(train_idx[: batch_size * (steps + 1)])
    rows = []
    for name in models:
        torch.manual_seed(seed)
        model = build_model(name, n_classes=len(ds.label_names))
        inputs = make_inputs(model, ds, progress=False, augment=True)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        y = torch.from_numpy(ds.labels.astype(np.float32))
        for precision in precisions:
            dtype = training_dtype(precision)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
            rng = np.random.default_rng(seed)
            model.train()
            times = []
            for k in range(steps + 1):
                idx = np.arange(k * batch_size, (k + 1) * batch_size) % len(ds)
                t0 = time.perf_counter()        # building the batch (augmentation, padding) is part of a step
                batch = inputs.batch(idx, True, rng)
                train_step(model, optimizer, loss_fn, batch, y[idx], dtype)
                if k:
                    times.append(time.perf_counter() - t0)
            rows.append({"model": name, "precision": precision, "dtype": str(dtype).removeprefix("torch."),
                         "threads": threads, "batch_size": batch_size, "steps": steps,
                         "steps_per_epoch": math.ceil(n_train / batch_size),
                         "seconds_per_step": float(np.median(times))})
    return rows
