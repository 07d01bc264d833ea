"""BEAT-Net variants on PTB-XL superdiagnostic: what does (not) close the gap to the CNNs.

Each variant is trained by the benchmark's harness (``beatnet_core.train.train``,
20 epochs, seed 0 unless given, the benchmark's other settings) and scored on
validation (fold 9, used to choose) and test (fold 10, reported); with
``--test-folds``, on each fold given (validation: the fold before it). One
line of JSON per run is appended to ``runs/ablation/results.jsonl``;
``--table`` prints the fold-10 ones as the Markdown table of
``reports/ptbxl.md`` (mean over seeds).
Variants whose code was removed again (``REMOVED``) name the commit that has it.

    python scripts/ablate_beatnet.py bf16 ema spatial2        # train these variants (seed 0)
    python scripts/ablate_beatnet.py cnnwide --seed 1         # another seed
    python scripts/ablate_beatnet.py --table
    python scripts/ablate_beatnet.py --cd-subclasses      # where the benchmark models differ within CD
    python scripts/ablate_beatnet.py --subsequence-eval   # BEAT-Net scored over beat sub-sequences, as the CNNs
    python scripts/ablate_beatnet.py --ludb ref=RUN,RUN variant=RUN,RUN   # the same runs on LUDB (external)
    python scripts/ablate_beatnet.py --rr-coupling SARRH RUN RUN --task rhythm   # does a score follow RR variation?
    python scripts/ablate_beatnet.py --compare BEFORE_DIR AFTER_DIR --task rhythm   # two BEAT-Net versions, paired
    python scripts/ablate_beatnet.py VARIANT --test-folds 1 2 3 4   # a variant cross-validated (one run per fold)
    python scripts/ablate_beatnet.py --compare runs/benchmark/superdiagnostic runs/ablation/VARIANT \
        --test-folds 1 2 3 4 --seeds 1       # ... paired with the benchmark's runs of the same folds
    python scripts/ablate_beatnet.py --compare runs/benchmark/superdiagnostic runs/ablation/VARIANT \
        --before-model inception1d --test-folds 1 2 3 4 --seeds 1   # ... or with a CNN's runs

Single seeds: differences under ~0.01 macro-AUC are within seed-to-seed noise
(the benchmark's sd over 3 seeds is 0.004, per class up to 0.01-0.02).

Every variant is a change to an earlier BEAT-Net, and is re-run that way, so
that it still trains what was reported: the first ones to the model before the
whole-beat token (``wholebeat``) became the default (``BEFORE_WHOLE_BEAT``, the
base every variant's overrides are laid on); the cross-validated ones to the
fourth round's model (whole-beat token, not pooled, no rhythm summary:
``FOURTH_ROUND``), which ``wbpoolrr`` replaced in the ninth round. Runs of
that model are kept in ``runs/benchmark_before_wbpoolrr`` for ``--compare``.
To vary today's model, spell out today's defaults in a variant's overrides.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# BEAT-Net before the whole-beat token: the base of every variant's model overrides
BEFORE_WHOLE_BEAT = {"whole_beat_token": False, "whole_beat_pooled": False, "rhythm_summary": False}
# BEAT-Net as adopted in the fourth round and replaced by wbpoolrr in the ninth
FOURTH_ROUND = {"whole_beat_token": True, "whole_beat_pooled": False, "rhythm_summary": False}

VARIANTS = {
    # name: (model overrides, TrainConfig overrides, token window seconds before R or None, what it tests)
    "bf16": ({}, {"precision": "bf16"}, None, "bfloat16 mixed-precision training (speed; same accuracy?)"),
    "ema": ({}, {"precision": "bf16", "ema": 0.99}, None, "weight EMA (decay 0.99/step) against overfitting"),
    "spatial2": ({"n_spatial_layers": 2}, {}, None, "two transformer blocks across leads (V1 detail for IRBBB)"),
    "d128": ({"d_model": 128, "n_heads": 8}, {}, None, "wider transformer (capacity)"),
    "win384": ({}, {}, 0.384, "window from 0.384 s before R (whole P wave at PR up to 0.30 s, for AV block)"),
    "cnnwide": ({"cnn_channels": (32, 64, 64, 128)}, {"precision": "bf16"}, None,
                "beat encoder 2x wider: finer morphology per lead (bf16)"),
    "ep40": ({}, {"precision": "bf16", "epochs": 40}, None,
             "40 epochs, still under inception1d's 20-epoch wall clock (bf16)"),
    "nodrop": ({"lead_dropout": 0.0}, {"precision": "bf16"}, None,
               "no training-time lead dropout: what the missing-lead robustness costs in accuracy (bf16)"),
    "bs32": ({}, {"precision": "bf16", "batch_size": 32}, None,
             "batch 32: twice the optimiser steps in the same 20 epochs (bf16)"),
    "lr1e3": ({}, {"precision": "bf16", "lr": 1e-3}, None, "peak learning rate 1e-3 instead of 2e-3 (bf16)"),
    "lr4e3": ({}, {"precision": "bf16", "lr": 4e-3}, None, "peak learning rate 4e-3 instead of 2e-3 (bf16)"),
    "wd05": ({}, {"precision": "bf16", "weight_decay": 0.05}, None, "weight decay 0.05 instead of 0.01 (bf16)"),
    "drop2": ({"dropout": 0.2}, {"precision": "bf16"}, None, "dropout 0.2 instead of 0.1 (bf16)"),
    "posnone": ({}, {"precision": "bf16", "pos_weight": "none"}, None,
                "plain BCE, no square-root positive weights (bf16)"),
    "wholebeat": ({"whole_beat_token": True}, {"precision": "bf16"}, None,
                  "a 12-lead CNN token of the whole beat that every lead attends to (not pooled) (bf16; since adopted)"),
    "noaug": ({}, {"precision": "bf16", "augment": False}, None,
              "no beat sub-sequence crops or token noise: what the augmentation brings (bf16)"),
    # changes to the fourth round's BEAT-Net, float32 as the benchmark, cross-validated
    "reseed": (FOURTH_ROUND, {"seed": 1}, None,
               "the fourth round's BEAT-Net unchanged, trained with seed 1 (laid out as seed 0): how far two seeds of the "
               "same model differ in these comparisons"),
    "wbpool": ({**FOURTH_ROUND, "whole_beat_pooled": True}, {}, None,
               "the whole-beat token's state also added to the lead-pooled beat vector: a direct path for the "
               "12-lead reading"),
    "wbitem": ({**FOURTH_ROUND, "whole_beat_item": True}, {}, None,
               "the whole-beat token pooled as a 13th item of the lead attention: the beat vector is still a "
               "weighted sum whose weights are shown"),
    "wbgate": ({**FOURTH_ROUND, "whole_beat_pooled": True, "whole_beat_gate": True}, {}, None,
               "wbpool with the added whole-beat state times tanh(g), one learned number from 0: the path opens "
               "only as far as training finds it useful (rhythm lost with the full path)"),
    "wbgate10": ({**FOURTH_ROUND, "whole_beat_pooled": True, "whole_beat_gate": True,
                  "whole_beat_gate_scale": 10.0}, {}, None,
                 "wbgate with tanh(10 g): at scale 1 the gate opened only to about 0.12 in 20 epochs (Adam moves g "
                 "by about lr per step); at 10 it can open fully in about a hundred steps"),
    "wbdrop": ({**FOURTH_ROUND, "whole_beat_pooled": True, "whole_beat_dropout": 0.5}, {}, None,
               "wbpool, the whole-beat part left out of half the training records (modality dropout): does the "
               "sinus-arrhythmia score keep following the RR variation?"),
    "rrsum": ({**FOURTH_ROUND, "rhythm_summary": True}, {}, None,
              "the head also reads the record's rate and RR regularity (mean, CV, RMSSD, max/min of the RR "
              "intervals): RR variation alone beat every model on sinus arrhythmia on 3 CV folds"),
    "wbpoolrr": ({**FOURTH_ROUND, "whole_beat_pooled": True, "rhythm_summary": True}, {}, None,
                 "wbpool and rrsum together: the full whole-beat path (superdiagnostic gain), the RR statistics "
                 "for the sinus arrhythmia it lost"),
}
# Variants whose model code was removed again because they did not help; the code is in the commit named.
REMOVED = {
    "q4": "4 lead-pooling queries: lead-specific detail past the one-vector pooling (bf16; code at d7e5efe)",
    "labelattn": "one beat-pooling query per class: label-specific beat attention (bf16; code at d7e5efe)",
    "leadrhythm": "one transformer block over each lead's own beats before lead pooling (bf16; code at 8cb4eb5)",
    "vcg3": "3 learned lead mixes (like X, Y, Z) as context tokens of the lead attention (bf16; code at 8cb4eb5)",
    "ctxmag": "each window also sees its beat's spatial magnitude (QRS onset/offset over all leads) "
              "(bf16; code at bb6d77c)",
    "ctxlimb": "each window also sees leads I and II of its beat (the frontal axis frame) (bf16; code at bb6d77c)",
    # a change to the fourth round's BEAT-Net, float32, cross-validated on folds 1-4
    "median": "the head also reads the record's median beat (a denoised template, as computerised readers "
              "measure median complexes) (code at c2e6f98)",
    "wbwide": "the whole-beat CNN 2x wider (32-64-64-128 channels): more capacity where the 12 leads are read "
              "together (code at 903589b)",
    "beat125": "the beat CNNs read 125 Hz windows (2-sample means): twice the receptive field, half the features, "
               "half the cost (code at a1a907f)",
}
RESULTS = Path("runs/ablation/results.jsonl")


def run_variant(name: str, data: str, seed: int, epochs: int, threads: int, test_fold: int | None = None,
                task: str = "superdiagnostic") -> dict:
    """Train and score one variant.

    ``test_fold`` None: the classic fold-10 ablation, ``runs/ablation/<name>_seed<s>``.
    A fold number: that fold held out, the run laid out as the benchmark's
    (``runs/ablation/<name>/beatnet[_fold<k>]_seed<s>``) so that ``--compare``
    pairs it with the benchmark's run of the same fold and seed. Another
    ``task`` than superdiagnostic (a fold number needed):
    ``runs/ablation/<name>_tasks/<task>/beatnet[_fold<k>]_seed<s>``.
    """
    if task != "superdiagnostic" and test_fold is None:
        raise ValueError("a variant on another task is run with --test-folds (laid out as the benchmark's)")
    import beatnet_core.tokenizer as tokenizer

    model_over, train_over, pre_s, _ = VARIANTS[name]
    if pre_s is not None:
        # The token window is one module constant shared by training, prediction and the app; this
        # exploration overrides it in this process only (tokenize reads it at call time).
        tokenizer.PRE_R_S = pre_s
    from beatnet_core.evaluate import benchmark_run_dir, evaluate_run
    from beatnet_core.train import TrainConfig, load_task, train

    ds = load_task(data, task, TrainConfig.min_count, progress=True)
    # every variant was measured against an earlier model: keep them comparable when re-run
    over = {**BEFORE_WHOLE_BEAT, **model_over}
    token_len = round(tokenizer.PRE_R_S * 250) + round(tokenizer.POST_R_S * 250)
    if token_len != 176:
        over["token_len"] = token_len
    # a variant's own epoch count (e.g. ep40) wins over --epochs
    cfg = TrainConfig(**{"model": "beatnet", "task": task, "epochs": epochs, "seed": seed,
                         "threads": threads, "test_fold": test_fold or 10, "model_overrides": over, **train_over})
    out = (Path("runs/ablation") / f"{name}_seed{seed}" if test_fold is None
           else benchmark_run_dir("runs/ablation", name, "beatnet", seed, test_fold) if task == "superdiagnostic"
           else benchmark_run_dir(f"runs/ablation/{name}_tasks", task, "beatnet", seed, test_fold))
    summary = train(cfg, data, out, progress=True, dataset=ds)
    result = evaluate_run(out, data, "test", n_boot=10, progress=False, dataset=ds)
    row = {"name": name, "task": task, "seed": seed, "model_overrides": over, "train_overrides": train_over,
           "test_fold": cfg.test_fold, "window_pre_s": tokenizer.PRE_R_S,
           "val": summary["val_macro_auc"], "best_epoch": summary["best_epoch"],
           "seconds": summary["train_seconds"], "threads": threads, "params": summary["n_parameters"],
           "test": result["macro_auc"], "per_class": {c["label"]: c["auc"] for c in result["per_class"]}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(json.dumps(row) + "\n")
    return row


def table(rows: list[dict]) -> str:
    """Markdown table, one line per variant: the mean over the seeds it was run with."""
    labels = ["CD", "HYP", "MI", "NORM", "STTC"]
    lines = ["| variant | what it tests | parameters | seeds | val macro-AUC | test macro-AUC | "
             + " | ".join(labels) + " |", "|---|---|---|---|---|---|" + "---|" * len(labels)]
    by_name: dict[str, list[dict]] = {}
    for r in rows:   # the table is fold 10's; other held-out folds are read with --compare
        if r.get("test_fold", 10) == 10 and r.get("task", "superdiagnostic") == "superdiagnostic":
            by_name.setdefault(r["name"], []).append(r)
    for name, runs in by_name.items():
        what = VARIANTS[name][3] if name in VARIANTS else REMOVED.get(name, name)

        def mean(get):
            return sum(get(r) for r in runs) / len(runs)

        seeds = ", ".join(str(s) for s in sorted(r["seed"] for r in runs))
        lines.append(f"| {name} | {what} | {runs[0]['params']:,} | {seeds} | {mean(lambda r: r['val']):.4f} | "
                     f"{mean(lambda r: r['test']):.4f} | "
                     + " | ".join(f"{mean(lambda r: r['per_class'][c]):.3f}" for c in labels) + " |")
    return "\n".join(lines)


def cd_subclasses(data: str, runs_dir: str = "runs/benchmark/superdiagnostic",
                  models=("beatnet", "xresnet1d101", "inception1d"), seeds=(0, 1, 2), test_folds=(10,)) -> str:
    """AUC of each model's CD score (mean over seeds) for each conduction subclass of the test fold(s).

    Positives: test records with that PTB-XL subdiagnostic class; negatives:
    test records without any conduction disturbance. Models without runs in
    ``runs_dir`` are left out. Several ``test_folds`` (the cross-validated
    benchmark's runs): each fold's records are scored by the runs that held
    it out, and the AUC is the mean of the folds' own (folds without a
    positive are skipped); positives are counted over all the folds.
    """
    import numpy as np

    from beatnet_core.evaluate import benchmark_run_dir
    from beatnet_core.metrics import fold_mean, per_class_auc
    from beatnet_core.train import load_run, load_task, make_inputs, predict_scores

    sup = load_task(data, "superdiagnostic", 10, progress=False)
    sub = load_task(data, "subdiagnostic", 1, progress=False)
    tests = [sup.split(fold).test for fold in test_folds]
    test = np.concatenate(tests)
    row_of = {e: i for i, e in enumerate(sub.ecg_id)}
    y_sub = np.array([sub.labels[row_of[e]] if e in row_of else np.zeros(len(sub.label_names))
                      for e in sup.ecg_id[test]])
    cd = sup.labels[test][:, sup.label_names.index("CD")] == 1
    root, task = Path(runs_dir).parent, Path(runs_dir).name
    scores = {}
    models = [m for m in models if all((benchmark_run_dir(root, task, m, s, f) / "config.json").is_file()
                                       for s in seeds for f in test_folds)]
    for name in models:
        per_fold = []
        for fold, idx in zip(test_folds, tests):
            per_seed = []
            for seed in seeds:
                model, run = load_run(benchmark_run_dir(root, task, name, seed, fold))
                s = predict_scores(model, make_inputs(model, sup.take(idx), False), np.arange(len(idx)))
                per_seed.append(s[:, run["labels"].index("CD")])
            per_fold.append(np.mean(per_seed, axis=0))
        scores[name] = np.concatenate(per_fold)
    fold = np.concatenate([np.full(len(idx), f) for f, idx in zip(test_folds, tests)])

    def auc(pos, keep, score):   # several folds: the mean of the folds' own AUCs (each fold has its own models)
        return fold_mean(per_class_auc, pos[keep, None], score[keep, None], fold[keep])[0]

    lines = ["| CD subclass | test positives | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    for j, code in enumerate(sub.label_names):
        pos = y_sub[:, j] == 1
        if pos.sum() < 5 or not cd[pos].all():
            continue
        keep = pos | ~cd
        lines.append(f"| {code} | {int(pos.sum())} | "
                     + " | ".join(f"{auc(pos, keep, scores[m]):.3f}" for m in models) + " |")
    return "\n".join(lines)


def subsequence_eval(data: str, runs_dir: str = "runs/benchmark/superdiagnostic", seeds=(0, 1, 2),
                     views=((1.0, 1), (0.75, 1), (0.5, 1), (0.5, 2))) -> str:
    """The benchmark's BEAT-Net runs evaluated like the CNNs: predictions averaged over beat sub-sequences.

    The CNNs are scored on the mean of their 2.5 s windows; here each record's
    score is the mean over its contiguous runs of ``fraction`` of its beats,
    every ``stride`` beats (fraction 1.0 = the benchmark's own evaluation).
    """
    import numpy as np
    import torch

    from beatnet_core.metrics import macro_auc
    from beatnet_core.tokenizer import stack_tokens
    from beatnet_core.train import TokenInputs, load_run, load_task

    ds = load_task(data, "superdiagnostic", 10, progress=False)
    inputs = TokenInputs(ds, progress=False)
    split = ds.split()

    @torch.no_grad()
    def scores(model, idx, fraction, stride):
        out = []
        for i in idx:
            tokens = inputs.items[i]
            n = tokens.windows.shape[0]
            k = max(2, int(np.ceil(n * fraction)))
            parts = [tokens] if k >= n else [tokens.select(slice(s, s + k)) for s in range(0, n - k + 1, stride)]
            batch = {key: torch.from_numpy(v) for key, v in stack_tokens(parts).items()}
            out.append(torch.sigmoid(model(**batch)[0]).numpy().mean(axis=0))
        return np.array(out)

    lines = ["| beats per view | stride (beats) | val macro-AUC (seeds) | mean | test macro-AUC (seeds) | mean |",
             "|---|---|---|---|---|---|"]
    models = [load_run(Path(runs_dir) / f"beatnet_seed{seed}")[0] for seed in seeds]
    for fraction, stride in views:
        cells = []
        for part in (split.val, split.test):
            aucs = [macro_auc(ds.labels[part], scores(m, part, fraction, stride)) for m in models]
            cells += [" / ".join(f"{a:.4f}" for a in aucs), f"{np.mean(aucs):.4f}"]
        lines.append(f"| {fraction:.0%} | {stride} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare_versions(data: str, task: str, before: str, after: str, seeds=(0, 1, 2), test_folds=(10,),
                     before_model: str = "beatnet") -> str:
    """BEAT-Net's runs in ``after`` against those in ``before`` (same task, seeds paired).

    ``before_model``: the model whose runs in ``before`` are read (a benchmark CNN: the variant against it).

    Each folder holds runs laid out as the benchmark's (``beatnet[_fold<k>]_seed<s>``).
    The paired difference of test macro-AUC (the benchmark's own comparison:
    1000 bootstrap resamples of the test records, the same for both versions;
    several ``test_folds``: drawn within each fold, every figure the mean of
    the folds' own, as in the cross-validated benchmark) and each class's AUC,
    mean over seeds, on validation and test.
    """
    import numpy as np

    from beatnet_core.evaluate import _paired_differences, benchmark_run_dir, evaluate_run
    from beatnet_core.metrics import fold_mean, macro_auc, per_class_auc
    from beatnet_core.train import load_task

    ds = load_task(data, task, 10, progress=False)

    def scored(folder: str, split: str, seed: int, model: str = "beatnet") -> dict:
        parts = [evaluate_run(benchmark_run_dir(Path(folder).parent, Path(folder).name, model, seed, fold),
                              None, split, n_boot=10, progress=False, dataset=ds, keep_scores=True)
                 for fold in test_folds]
        groups = np.concatenate([np.full(len(r["y_true"]), fold) for r, fold in zip(parts, test_folds)])
        return {"labels": [c["label"] for c in parts[0]["per_class"]],
                "y_true": np.concatenate([r["y_true"] for r in parts]),
                "scores": np.concatenate([r["scores"] for r in parts]),
                "groups": groups if len(test_folds) > 1 else None}   # one fold: the single-split comparison

    res = {(name, split): [scored(folder, split, s, model) for s in seeds]
           for name, folder, model in (("before", before, before_model), ("after", after, "beatnet"))
           for split in ("val", "test")}
    labels = res["after", "test"][0]["labels"]
    if any(r["labels"] != labels for r in res["before", "test"]):
        raise ValueError(f"{before} and {after} were trained on different labels")
    d = _paired_differences({"after": res["after", "test"], "before": res["before", "test"]}, 1000, False)[0]
    folds = f"test folds {', '.join(map(str, test_folds))}" if len(test_folds) > 1 else f"test fold {test_folds[0]}"
    lines = [f"{task}, {folds}, seeds {list(seeds)}: test macro-AUC after minus before {d['difference']:+.4f} "
             f"(95% CI {d['ci95'][0]:+.4f} to {d['ci95'][1]:+.4f}; after better in {d['share_a_better']:.0%} "
             "of resamples)", "",
             "| split | version | macro-AUC | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    for split in ("val", "test"):
        for name in ("before", "after"):
            rs = res[name, split]
            macro = np.mean([fold_mean(macro_auc, r["y_true"], r["scores"], r["groups"]) for r in rs])
            per = np.mean([fold_mean(per_class_auc, r["y_true"], r["scores"], r["groups"]) for r in rs], axis=0)
            lines.append(f"| {split} | {name} | {macro:.4f} | "   # '-': no positives
                         + " | ".join("-" if np.isnan(a) else f"{a:.3f}" for a in per) + " |")
    return "\n".join(lines)


def rr_coupling(data: str, task: str, label: str, runs: list[str], test_fold: int = 10,
                splits=("val", "test")) -> str:
    """How much a label's score follows beat-to-beat RR variability, per run.

    For sinus arrhythmia the evidence is the RR variation; a model whose
    score for it tracks morphology instead generalises worse. Per split: the
    label's AUC from the RR coefficient of variation alone (std / mean of the
    record's RR intervals, from the tokeniser's R peaks), then per run its
    AUC and the Spearman correlation of its score with that RR variation
    (over all records of the split). ``test_fold``: the runs' held-out fold.
    """
    import numpy as np
    from scipy.stats import spearmanr

    from beatnet_core.metrics import per_class_auc
    from beatnet_core.train import TokenInputs, load_run, load_task, make_inputs, predict_scores

    ds = load_task(data, task, 10, progress=False)
    k = ds.label_names.index(label)
    split = ds.split(test_fold)
    lines = [f"| split | {label} positives | scores | {label} AUC | Spearman with RR variation |", "|---|---|---|---|---|"]
    for name in splits:
        idx = getattr(split, name)
        y = ds.labels[idx][:, k:k + 1]
        tokens = TokenInputs(ds.take(idx), False)          # tokenised once: the RR intervals and BEAT-Net's input
        rr_cv = np.array([np.std(rr) / np.mean(rr) if len(rr) > 2 else 0.0
                          for rr in (np.diff(t.r_samples) / t.fs for t in tokens.items)])
        lines.append(f"| {name} | {int(y.sum())} | RR variation alone | {per_class_auc(y, rr_cv[:, None])[0]:.3f} | 1 |")
        for run in runs:
            model, _ = load_run(run)
            inputs = tokens if model.input_kind == "tokens" else make_inputs(model, ds.take(idx), False)
            score = predict_scores(model, inputs, np.arange(len(idx)))[:, k]
            lines.append(f"| {name} | {int(y.sum())} | {run} | {per_class_auc(y, score[:, None])[0]:.3f} | "
                         f"{spearmanr(score, rr_cv)[0]:.2f} |")
    return "\n".join(lines)


def ludb_check(data: str, groups: dict[str, list[str]]) -> str:
    """Superdiagnostic AUC on LUDB (another hospital, never used for training or choosing) per group of runs.

    ``groups``: name -> run directories (e.g. one model's seeds). Every run is
    scored by :func:`beatnet_core.experiments.external.external_validation`
    (the deployed reading path, LUDB diagnoses mapped to CD/HYP/MI/STTC; NORM
    has no sound mapping); the table gives each label's AUC and the mean of
    the four, averaged over a group's runs.
    """
    import numpy as np

    from beatnet_core.experiments.external import external_validation

    runs = [r for rs in groups.values() for r in rs]
    p = external_validation(data, model=runs[0], extra_runs=runs[1:], n_boot=10, progress=True, write=False)
    by_run = {run: p["results"][key] for run, key in zip(runs, p["runs"])}   # p["runs"]: key -> run, in order
    labels = [c for c, r in p["results"][p["primary"]].items() if r["auc"] is not None]
    lines = ["| runs | n | " + " | ".join(f"{c} (n+={p['results'][p['primary']][c]['positives']})" for c in labels)
             + " | mean of the four |", "|---|---|" + "---|" * (len(labels) + 1)]
    for name, rs in groups.items():
        aucs = np.array([[by_run[r][c]["auc"] for c in labels] for r in rs])
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(f"{a:.3f}" for a in aucs.mean(0))
                     + f" | {aucs.mean():.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variants", nargs="*", help=f"any of {', '.join(VARIANTS)}")
    p.add_argument("--data", default="../shared/data/ptbxl")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--table", action="store_true", help="print the results so far as Markdown")
    p.add_argument("--cd-subclasses", action="store_true",
                   help="AUC of the benchmark runs' CD score per conduction subclass (test fold)")
    p.add_argument("--subsequence-eval", action="store_true",
                   help="the benchmark's BEAT-Net runs scored on the mean over beat sub-sequences")
    p.add_argument("--runs-dir", default="runs/benchmark/superdiagnostic",
                   help="benchmark runs read by --cd-subclasses and --subsequence-eval")
    p.add_argument("--test-folds", type=int, nargs="+", default=None, choices=range(1, 11), metavar="K",
                   help="held-out folds: variants are trained with each held out (runs laid out as the "
                        "benchmark's); --cd-subclasses and --compare read the runs that held them out (the mean "
                        "of the folds' AUCs). Default: fold 10 (variants: the classic ablation runs)")
    p.add_argument("--seeds", type=int, default=3,
                   help="--cd-subclasses, --compare: seeds 0..N-1 of the runs read")
    p.add_argument("--compare", nargs=2, metavar=("BEFORE_DIR", "AFTER_DIR"),
                   help="two benchmark run folders of one task: BEAT-Net after minus before, paired, and per class")
    p.add_argument("--task", default="superdiagnostic",
                   help="task of the variants' runs (another than superdiagnostic: with --test-folds) and of --compare")
    p.add_argument("--before-model", default="beatnet", choices=["beatnet", "xresnet1d101", "inception1d"],
                   help="--compare: the model of the BEFORE_DIR runs (a CNN: the BEAT-Net version against it)")
    p.add_argument("--rr-coupling", nargs="+", metavar=("LABEL", "RUN"),
                   help="a label's AUC and its score's correlation with RR variation, per run (--task, --test-folds K)")
    p.add_argument("--ludb", nargs="+", metavar="NAME=DIR[,DIR...]",
                   help="superdiagnostic AUC on LUDB of groups of runs (e.g. reference vs variant seeds)")
    args = p.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    for name in args.variants:
        for fold in args.test_folds or [None]:
            row = run_variant(name, args.data, args.seed, args.epochs, args.threads, fold, args.task)
            print(f"{name} test fold {fold}: val {row['val']:.4f}, test {row['test']:.4f}", file=sys.stderr)
    if args.table:
        rows = [json.loads(line) for line in RESULTS.read_text().splitlines()] if RESULTS.is_file() else []
        print(table(rows))
    if args.cd_subclasses:
        print(cd_subclasses(args.data, args.runs_dir, seeds=tuple(range(args.seeds)),
                            test_folds=tuple(args.test_folds or [10])))
    if args.subsequence_eval:
        print(subsequence_eval(args.data, args.runs_dir))
    if args.compare:
        print(compare_versions(args.data, args.task, *args.compare, seeds=tuple(range(args.seeds)),
                               test_folds=tuple(args.test_folds or [10]), before_model=args.before_model))
    if args.rr_coupling:
        label, *runs = args.rr_coupling
        print(rr_coupling(args.data, args.task, label, runs, test_fold=(args.test_folds or [10])[0]))
    if args.ludb:
        groups = dict(g.split("=", 1) for g in args.ludb)
        print(ludb_check(str(Path(args.data).parent), {k: v.split(",") for k, v in groups.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
