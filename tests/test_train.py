"""Training harness, run directories, evaluation metrics: on real PTB-XL records."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from beatnet_core.evaluate import evaluate_run, write_model_card
from beatnet_core.metrics import bootstrap_ci, f1_thresholds, fmax, macro_auc, paired_bootstrap_difference, per_class_auc
from beatnet_core.model import build_model
from beatnet_core.train import (TrainConfig, cpu_has_native_bf16, finished_with, load_run, load_task, make_inputs,
                                predict_scores, train, training_dtype)


@pytest.fixture(scope="module")
def small_ptbxl(data_dir):
    """96 train, 32 validation and 32 test records of the real superdiagnostic task."""
    ds = load_task(data_dir / "ptbxl", "superdiagnostic", min_count=1, progress=False)
    split = ds.split()
    rows = np.concatenate([split.train[:96], split.val[:32], split.test[:32]])
    return ds.take(rows)


@pytest.fixture(scope="module")
def every_fold(data_dir):
    """12 records of each of the ten folds of the real superdiagnostic task (for cross-validation)."""
    ds = load_task(data_dir / "ptbxl", "superdiagnostic", min_count=1, progress=False)
    rng = np.random.default_rng(0)
    return ds.take(np.sort(np.concatenate([rng.choice(np.flatnonzero(ds.strat_fold == f), 12, replace=False)
                                           for f in range(1, 11)])))


def _bce(scores, y):
    p = np.clip(scores, 1e-7, 1 - 1e-7)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def test_training_lowers_validation_loss_and_writes_a_run(small_ptbxl, data_dir, tmp_path):
    ds = small_ptbxl
    val = ds.split().val
    cfg = TrainConfig(model="beatnet", epochs=10, batch_size=32, lr=3e-3, patience=10, seed=1, threads=1,
                      pos_weight="none")
    torch.manual_seed(cfg.seed)
    untrained = build_model("beatnet", n_classes=len(ds.label_names))
    inputs = make_inputs(untrained, ds, progress=False)
    before = _bce(predict_scores(untrained, inputs, val), ds.labels[val])
    summary = train(cfg, data_dir / "ptbxl", tmp_path / "run", progress=False, dataset=ds)
    model, run = load_run(tmp_path / "run")
    after = _bce(predict_scores(model, inputs, val), ds.labels[val])
    logged = [float(row.split(",")[2]) for row in (tmp_path / "run" / "train_log.csv").read_text().splitlines()[1:]]
    assert min(logged) < before - 0.05       # the loop lowers validation loss ...
    assert after < before                    # ... and the saved (best-AUC) weights are better than none
    for name in ("weights.safetensors", "config.json", "labels.json", "conditioning.json",
                 "thresholds.json", "train_log.csv", "splits.json"):
        assert (tmp_path / "run" / name).is_file()
    assert run["labels"] == ds.label_names and run["thresholds"].shape == (len(ds.label_names),)
    assert run["spec"].fs == 250 and run["spec"].band == (0.5, 40.0)
    assert summary["train_records"] == 96
    splits = json.loads((tmp_path / "run" / "splits.json").read_text())
    assert set(splits["test"]).isdisjoint(splits["train"])


def test_training_is_deterministic(small_ptbxl, data_dir, tmp_path):
    cfg = TrainConfig(model="beatnet", epochs=1, batch_size=32, seed=3, threads=1)
    a = train(cfg, None, tmp_path / "a", progress=False, dataset=small_ptbxl)
    b = train(cfg, None, tmp_path / "b", progress=False, dataset=small_ptbxl)
    assert a["val_macro_auc"] == b["val_macro_auc"]


@pytest.mark.parametrize("name", ["xresnet1d101", "inception1d"])
def test_cnn_baselines_train_in_the_same_harness(small_ptbxl, tmp_path, name):
    cfg = TrainConfig(model=name, epochs=1, batch_size=32, threads=1, model_overrides={"width": 0.25})
    summary = train(cfg, None, tmp_path / name, progress=False, dataset=small_ptbxl)
    model, run = load_run(tmp_path / name)
    inputs = make_inputs(model, small_ptbxl)
    scores = predict_scores(model, inputs, small_ptbxl.split().test)
    assert scores.shape == (32, len(small_ptbxl.label_names))
    assert np.isfinite(scores).all() and 0 <= summary["val_macro_auc"] <= 1


def test_bf16_training_runs_mixed_precision_and_keeps_float32_weights(small_ptbxl, tmp_path):
    cfg = TrainConfig(model="beatnet", epochs=1, batch_size=32, seed=2, threads=1, precision="bf16")
    summary = train(cfg, None, tmp_path / "bf16", progress=False, dataset=small_ptbxl)
    model, _ = load_run(tmp_path / "bf16")
    assert summary["train_dtype"] == "bfloat16"
    assert all(p.dtype == torch.float32 for p in model.parameters())    # autocast: weights stay float32
    fp32 = train(TrainConfig(**{**cfg.__dict__, "precision": "fp32"}), None, tmp_path / "fp32",
                 progress=False, dataset=small_ptbxl)
    assert fp32["train_dtype"] == "float32"
    # same seed and batches, different arithmetic: the weights differ, but not by much after one epoch
    other, _ = load_run(tmp_path / "fp32")
    diffs = [(a - b).abs().max().item() for a, b in zip(model.parameters(), other.parameters())]
    assert 0 < max(diffs) < 0.1


def test_weight_ema_is_what_is_validated_and_saved(small_ptbxl, tmp_path):
    cfg = TrainConfig(model="beatnet", epochs=1, batch_size=32, seed=4, threads=1)
    plain = train(cfg, None, tmp_path / "plain", progress=False, dataset=small_ptbxl)
    # a vanishing decay makes the average the live weights: exactly the plain run
    same = train(TrainConfig(**{**cfg.__dict__, "ema": 1e-12}), None, tmp_path / "same", progress=False,
                 dataset=small_ptbxl)
    assert same["val_macro_auc"] == plain["val_macro_auc"]
    ema = train(TrainConfig(**{**cfg.__dict__, "ema": 0.9}), None, tmp_path / "ema", progress=False,
                dataset=small_ptbxl)
    a, _ = load_run(tmp_path / "plain")
    b, _ = load_run(tmp_path / "ema")
    assert any(not torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    # the saved weights are the ones that scored the best validation AUC
    val = small_ptbxl.split().val
    scores = predict_scores(b, make_inputs(b, small_ptbxl, progress=False), val)
    assert macro_auc(small_ptbxl.labels[val], scores) == pytest.approx(ema["val_macro_auc"], abs=1e-9)


def test_precision_auto_follows_the_cpu_and_bad_values_are_refused():
    assert training_dtype("fp32") == torch.float32 and training_dtype("bf16") == torch.bfloat16
    assert training_dtype("auto") == (torch.bfloat16 if cpu_has_native_bf16() else torch.float32)
    with pytest.raises(ValueError, match="precision must be one of"):
        training_dtype("fp16")


def test_finished_with_matches_configs_and_reads_older_runs(small_ptbxl, tmp_path):
    cfg = TrainConfig(model="beatnet", epochs=1, batch_size=32, seed=0, threads=1)
    summary = train(cfg, None, tmp_path / "run", progress=False, dataset=small_ptbxl)
    assert finished_with(tmp_path / "run", cfg) == summary
    assert finished_with(tmp_path / "run", TrainConfig(**{**cfg.__dict__, "threads": 2})) == summary
    assert finished_with(tmp_path / "run", TrainConfig(**{**cfg.__dict__, "seed": 1})) is None
    assert finished_with(tmp_path / "missing", cfg) is None
    # a run written before a config field existed was trained with that field's default
    path = tmp_path / "run" / "config.json"
    saved = json.loads(path.read_text())
    del saved["train_config"]["precision"]
    path.write_text(json.dumps(saved))
    assert finished_with(tmp_path / "run", cfg) == summary
    assert finished_with(tmp_path / "run", TrainConfig(**{**cfg.__dict__, "precision": "bf16"})) is None
    # overrides are compared as the model they make: a run with an override equal to the default is the same run
    # (a variant's run taken into the benchmark once that variant became the default)
    assert finished_with(tmp_path / "run", TrainConfig(**{**cfg.__dict__, "model_overrides": {"dropout": 0.1}})) \
        == summary
    assert finished_with(tmp_path / "run", TrainConfig(**{**cfg.__dict__, "model_overrides": {"dropout": 0.2}})) \
        is None


def test_runs_saved_before_the_whole_beat_token_load_without_it(small_ptbxl, tmp_path):
    """A BEAT-Net run saved before ``whole_beat_token`` existed was trained without one."""
    cfg = TrainConfig(model="beatnet", epochs=1, batch_size=32, seed=0, threads=1,
                      model_overrides={"whole_beat_token": False})
    train(cfg, None, tmp_path / "run", progress=False, dataset=small_ptbxl)
    before, _ = load_run(tmp_path / "run")
    # rewrite the run as the older code wrote it: no such field anywhere
    path = tmp_path / "run" / "config.json"
    saved = json.loads(path.read_text())
    del saved["model_config"]["whole_beat_token"]
    saved["train_config"]["model_overrides"] = {}
    path.write_text(json.dumps(saved))
    model, _ = load_run(tmp_path / "run")
    assert model.config.whole_beat_token is False and model.spatial.lead_embedding.shape[0] == 12
    inputs = make_inputs(model, small_ptbxl, progress=False)
    rows = np.arange(8)
    np.testing.assert_array_equal(predict_scores(model, inputs, rows), predict_scores(before, inputs, rows))
    # the model card's command for it trains it as it was, not as today's default
    from beatnet_core.cli import _train_command
    assert "{'model_overrides': {'whole_beat_token': False}}" in _train_command(saved, "DATA", "OUT")
    # ... and is not taken for a finished run of today's default model (which has the token)
    assert build_model("beatnet", n_classes=5).config.whole_beat_token is True
    assert finished_with(tmp_path / "run", TrainConfig(model="beatnet", epochs=1, batch_size=32, seed=0)) is None


def test_label_fraction_trains_on_a_stratified_subset(small_ptbxl, tmp_path):
    cfg = TrainConfig(model="beatnet", epochs=1, batch_size=32, threads=1, label_fraction=0.5)
    summary = train(cfg, None, tmp_path / "half", progress=False, dataset=small_ptbxl)
    assert summary["train_records"] == 48


def test_evaluate_run(small_ptbxl, data_dir, tmp_path):
    train(TrainConfig(epochs=1, batch_size=32, threads=1), None, tmp_path / "run", progress=False,
          dataset=small_ptbxl)
    result = evaluate_run(tmp_path / "run", None, "test", n_boot=50, progress=False, dataset=small_ptbxl)
    assert result["records"] == 32
    lo, hi = result["macro_auc_ci95"]
    assert lo <= result["macro_auc"] <= hi
    assert {r["label"] for r in result["per_class"]} == set(small_ptbxl.label_names)
    card = write_model_card(result, tmp_path / "run", tmp_path / "MODEL_CARD.md", "beatnet evaluate ...").read_text()
    assert f"{result['macro_auc']:.3f}" in card and "Not a medical device" in card
    # today's BEAT-Net: the card says what else the heatmaps' vectors carry, and what the RR summary rests on
    assert "added to each beat vector" in card and "rate and RR regularity" in card
    assert "a missed or false beat moves them" in card
    for row in result["per_class"]:
        assert f"| {row['label']} |" in card


def test_model_card_names_the_labels_too_rare_to_learn(data_dir):
    from beatnet_core.evaluate import unlearnt_statements

    rhythm = load_task(data_dir / "ptbxl", "rhythm", min_count=1, progress=False)
    train_ids = rhythm.ecg_id[rhythm.strat_fold <= 8]
    learnt = ["NORM", "MI", "STTC", "CD", "HYP"] + [c for c in rhythm.label_names if c not in ("PACE", "BIGU")]
    rows = unlearnt_statements(data_dir / "ptbxl", "superdiagnostic+rhythm", learnt, train_ids)
    assert {code for code, _, _ in rows} == {"PACE", "BIGU"}             # the two left out, no other
    assert [n for _, _, n in rows] == sorted((n for _, _, n in rows), reverse=True)   # most frequent first
    for code, description, n in rows:
        column = rhythm.labels[:, rhythm.label_names.index(code)].astype(bool)
        assert n == int((column & (rhythm.strat_fold <= 8)).sum()) < int(column.sum())   # folds 9/10 not counted
        assert description and description != code
    assert dict((c, d) for c, d, _ in rows)["PACE"] == "normal functioning artificial pacemaker"


def test_cli_evaluate_writes_the_model_card(small_ptbxl, data_dir, tmp_path, capsys):
    from beatnet_core.cli import main

    train(TrainConfig(epochs=1, batch_size=32, threads=1), None, tmp_path / "run", progress=False,
          dataset=small_ptbxl)
    card = tmp_path / "MODEL_CARD.md"
    assert main(["evaluate", str(tmp_path / "run"), "--data", str(data_dir / "ptbxl"), "--n-boot", "20",
                 "--json", str(tmp_path / "test.json"), "--model-card", str(card),
                 "--training-note", " (a shared machine)"]) == 0
    result = json.loads((tmp_path / "test.json").read_text())
    text = card.read_text()
    assert f"**{result['macro_auc']:.3f}**" in text and "(a shared machine)" in text
    assert "whole-beat token" in text                       # today's default model has one
    # the card says how to make it again: training (the run's own settings) and this evaluation
    assert "beatnet train --model beatnet --task superdiagnostic" in text and "--epochs 1 --batch-size 32" in text
    assert f"--model-card {card}" in text
    with pytest.raises(SystemExit, match="test split"):
        main(["evaluate", str(tmp_path / "run"), "--data", str(data_dir / "ptbxl"), "--split", "val",
              "--model-card", str(card)])


def test_a_run_can_hold_out_another_fold(every_fold, data_dir, tmp_path):
    ds = every_fold
    cfg = TrainConfig(epochs=1, batch_size=32, threads=1, test_fold=3)
    summary = train(cfg, None, tmp_path / "run", progress=False, dataset=ds)
    splits = json.loads((tmp_path / "run" / "splits.json").read_text())
    fold_of = dict(zip(ds.ecg_id.tolist(), ds.strat_fold.tolist()))
    assert {fold_of[i] for i in splits["test"]} == {3} and {fold_of[i] for i in splits["val"]} == {2}
    assert {fold_of[i] for i in splits["train"]} == {1, 4, 5, 6, 7, 8, 9, 10} and summary["train_records"] == 96
    result = evaluate_run(tmp_path / "run", None, "test", n_boot=20, progress=False, dataset=ds)
    assert result["test_fold"] == 3 and result["records"] == 12     # scored on its own held-out fold
    assert finished_with(tmp_path / "run", cfg) == summary
    assert finished_with(tmp_path / "run", TrainConfig(**{**cfg.__dict__, "test_fold": 10})) is None
    card = write_model_card(result, tmp_path / "run", tmp_path / "CARD.md", "...").read_text()
    assert "(folds 1, 4, 5, 6, 7, 8, 9, 10)" in card and "(fold 2: early stopping" in card
    assert "PTB-XL fold 3, 12 records" in card
    from beatnet_core.cli import _train_command
    assert "--test-fold 3" in _train_command(json.loads((tmp_path / "run" / "config.json").read_text()), "D", "O")
    # a validation fold that cannot rank anything (one class only) is refused up front, by name
    only_norm = ds.take(np.flatnonzero((ds.strat_fold != 2) | (ds.labels[:, ds.label_names.index("NORM")] == 1)))
    only_norm.labels[only_norm.strat_fold == 2] = 0
    only_norm.labels[only_norm.strat_fold == 2, ds.label_names.index("NORM")] = 1
    with pytest.raises(ValueError, match="validation fold 2 has no label with both positive and negative"):
        train(cfg, None, tmp_path / "bad", progress=False, dataset=only_norm)
    assert not (tmp_path / "bad").exists()


def test_cross_validated_benchmark_averages_the_held_out_folds(every_fold, data_dir, tmp_path, monkeypatch):
    import beatnet_core.train as train_module
    from beatnet_core.cli import main

    monkeypatch.setattr(train_module, "load_task", lambda *args, **kwargs: every_fold)
    common = ["benchmark", "ptbxl", "--task", "superdiagnostic", "--seeds", "1", "--data", str(data_dir / "ptbxl"),
              "--models", "beatnet", "xresnet1d101", "--epochs", "1", "--threads", "1",
              "--runs-dir", str(tmp_path / "runs")]
    assert main(common + ["--test-folds", "3", "7", "--report-dir", str(tmp_path / "reports")]) == 0
    report = json.loads((tmp_path / "reports" / "ptbxl_superdiagnostic_cv.json").read_text())
    cv = report["models"]["beatnet"]["runs"][0]
    assert report["test_folds"] == [3, 7] and report["test_records"] == cv["records"] == 24
    assert [f["test_fold"] for f in cv["folds"]] == [3, 7]
    # each figure is the mean of the held-out folds' own, each scored by the run that held it out
    parts = [evaluate_run(tmp_path / "runs" / "superdiagnostic" / f"beatnet_fold{k}_seed0", None, "test", n_boot=10,
                          progress=False, dataset=every_fold, keep_scores=True) for k in (3, 7)]
    assert cv["macro_auc"] == pytest.approx(np.mean([p["macro_auc"] for p in parts]))
    assert [f["macro_auc"] for f in cv["folds"]] == pytest.approx([p["macro_auc"] for p in parts])
    (paired,) = report["paired"]
    assert paired["minus"] == "xresnet1d101" and paired["difference"] == pytest.approx(
        cv["macro_auc"] - report["models"]["xresnet1d101"]["runs"][0]["macro_auc"])
    text = (tmp_path / "reports" / "ptbxl_superdiagnostic_cv.md").read_text()
    assert "--test-folds 3 7" in text and "| fold 3 | fold 7 |" in text and "drawn within each held-out fold" in text
    assert f"| {cv['macro_auc']:.4f} (1 seed) |" in text                   # no sd from one seed
    assert not (tmp_path / "reports" / "ptbxl_superdiagnostic.md").exists()   # the single-split report is untouched
    # resumable: the runs are found finished and nothing is trained again, also for one fold other than 10
    weights = tmp_path / "runs" / "superdiagnostic" / "beatnet_fold3_seed0" / "weights.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert main(common + ["--test-folds", "3", "--report-dir", str(tmp_path / "one")]) == 0
    assert weights.stat().st_mtime_ns == stamp
    one = json.loads((tmp_path / "one" / "ptbxl_superdiagnostic_cv.json").read_text())
    assert one["models"]["beatnet"]["runs"][0]["macro_auc"] == pytest.approx(parts[0]["macro_auc"])
    one_text = (tmp_path / "one" / "ptbxl_superdiagnostic_cv.md").read_text()
    assert "(test fold 3)" in one_text and "in turn" not in one_text and "1 seed (0)" in one_text
    assert "cross-validated" in text and "1 seed (0)" in text and "1 seeds" not in text
    with pytest.raises(ValueError, match="held out once"):
        main(common + ["--test-folds", "3", "3"])


def test_ablation_compare_pairs_two_versions_over_held_out_folds(every_fold, data_dir, tmp_path, monkeypatch):
    """scripts/ablate_beatnet.py --compare: version B's runs minus version A's, fold by fold, seeds paired."""
    import importlib.util
    import shutil

    import beatnet_core.train as train_module
    from beatnet_core.cli import main

    spec = importlib.util.spec_from_file_location("ablate_beatnet",
                                                  Path(__file__).parents[1] / "scripts" / "ablate_beatnet.py")
    ablate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablate)
    monkeypatch.setattr(train_module, "load_task", lambda *args, **kwargs: every_fold)
    assert main(["benchmark", "ptbxl", "--task", "superdiagnostic", "--seeds", "2", "--data", str(data_dir / "ptbxl"),
                 "--models", "beatnet", "--epochs", "1", "--threads", "1", "--test-folds", "3", "7",
                 "--runs-dir", str(tmp_path / "runs"), "--report-dir", str(tmp_path / "reports")]) == 0
    seed0, seed1 = (r["macro_auc"] for r in json.loads((tmp_path / "reports" / "ptbxl_superdiagnostic_cv.json")
                                                       .read_text())["models"]["beatnet"]["runs"])
    before = tmp_path / "runs" / "superdiagnostic"
    after = tmp_path / "other" / "superdiagnostic"     # "version B": the seed-1 runs, filed as seed 0
    for fold in (3, 7):
        shutil.copytree(before / f"beatnet_fold{fold}_seed1", after / f"beatnet_fold{fold}_seed0")
    text = ablate.compare_versions(str(data_dir / "ptbxl"), "superdiagnostic", str(before), str(after),
                                   seeds=(0,), test_folds=(3, 7))
    assert f"test folds 3, 7, seeds [0]: test macro-AUC after minus before {seed1 - seed0:+.4f}" in text
    assert f"| test | before | {seed0:.4f} |" in text and f"| test | after | {seed1:.4f} |" in text
    same = ablate.compare_versions(str(data_dir / "ptbxl"), "superdiagnostic", str(before), str(before),
                                   seeds=(0,), test_folds=(3, 7))
    assert "after minus before +0.0000 (95% CI +0.0000 to +0.0000" in same
    # --before-model: the BEFORE runs are another model's (a CNN); here the seed-1 runs filed under that name
    for fold in (3, 7):
        shutil.copytree(before / f"beatnet_fold{fold}_seed1", before / f"xresnet1d101_fold{fold}_seed0")
    against = ablate.compare_versions(str(data_dir / "ptbxl"), "superdiagnostic", str(before), str(before),
                                      seeds=(0,), test_folds=(3, 7), before_model="xresnet1d101")
    assert f"after minus before {seed0 - seed1:+.4f}" in against and f"| test | before | {seed1:.4f} |" in against

    # --rr-coupling: a label's AUC per run on the runs' own held-out fold, beside the RR variation's own
    from beatnet_core.train import load_run, make_inputs, predict_scores

    run = before / "beatnet_fold3_seed0"
    test = every_fold.split(3).test
    model, _ = load_run(run)
    k = every_fold.label_names.index("NORM")
    score = predict_scores(model, make_inputs(model, every_fold.take(test), False), np.arange(len(test)))[:, k]
    table = ablate.rr_coupling(str(data_dir / "ptbxl"), "superdiagnostic", "NORM", [str(run)], test_fold=3,
                               splits=("test",))
    row = next(line for line in table.splitlines() if str(run) in line)
    assert f"| {roc_auc_score(every_fold.labels[test, k], score):.3f} |" in row
    assert "RR variation alone" in table


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = (rng.random((200, 4)) < [0.5, 0.2, 0.1, 0.05]).astype(int)
    s = np.clip(y * 0.3 + rng.random((200, 4)) * 0.7, 0, 1)
    assert macro_auc(y, s) == pytest.approx(roc_auc_score(y, s, average="macro"))
    np.testing.assert_allclose(per_class_auc(y, s), [roc_auc_score(y[:, k], s[:, k]) for k in range(4)])
    y2 = y.copy()
    y2[:, 3] = 0                                       # a class with no positives is left out
    assert macro_auc(y2, s) == pytest.approx(np.mean([roc_auc_score(y[:, k], s[:, k]) for k in range(3)]))
    ci = bootstrap_ci(y, s, n_boot=200, seed=0)
    assert ci["macro_auc"][0] < macro_auc(y, s) < ci["macro_auc"][1]
    perfect = fmax(y, y.astype(float))
    assert perfect == pytest.approx(1.0) and fmax(y, s) < 1.0
    t = f1_thresholds(y, s)
    assert t.shape == (4,) and ((0 <= t) & (t <= 1)).all()


def test_bench_train_step_times_every_model_and_precision(data_dir):
    from beatnet_core.bench.speed import bench_train_step

    rows = bench_train_step(data_dir / "ptbxl", models=("beatnet", "xresnet1d101"), precisions=("fp32", "bf16"),
                            threads=1, steps=1, batch_size=8)
    assert [(r["model"], r["dtype"]) for r in rows] == [("beatnet", "float32"), ("beatnet", "bfloat16"),
                                                        ("xresnet1d101", "float32"), ("xresnet1d101", "bfloat16")]
    assert all(r["seconds_per_step"] > 0 and r["steps_per_epoch"] == 1772 // 8 + (1772 % 8 > 0) for r in rows)


def test_paired_bootstrap_difference_is_paired_and_antisymmetric():

    rng = np.random.default_rng(1)
    y = (rng.random((250, 3)) < [0.4, 0.2, 0.1]).astype(int)
    weak = [np.clip(y * 0.2 + rng.random(y.shape), 0, None) for _ in range(2)]
    strong = [np.clip(y * 0.8 + rng.random(y.shape), 0, None) for _ in range(2)]
    d = paired_bootstrap_difference(y, strong, weak, n_boot=200, seed=0)
    expected = np.mean([macro_auc(y, s) for s in strong]) - np.mean([macro_auc(y, s) for s in weak])
    assert d["difference"] == pytest.approx(expected)
    assert 0 < d["ci95"][0] < d["difference"] < d["ci95"][1] and d["share_a_better"] == 1.0
    back = paired_bootstrap_difference(y, weak, strong, n_boot=200, seed=0)
    assert back["difference"] == pytest.approx(-d["difference"])
    assert back["ci95"] == pytest.approx([-d["ci95"][1], -d["ci95"][0]])
    same = paired_bootstrap_difference(y, weak, weak, n_boot=50, seed=0)
    assert same["difference"] == 0 and same["ci95"] == [0.0, 0.0] and same["share_a_better"] == 0.0
    # paired: a model barely different from another gets a CI far narrower than either model's own CI
    nudged = [s + 1e-3 * rng.random(s.shape) for s in weak]
    close = paired_bootstrap_difference(y, nudged, weak, n_boot=200, seed=0)
    own = bootstrap_ci(y, weak[0], n_boot=200, seed=0)["macro_auc"]
    assert close["ci95"][1] - close["ci95"][0] < 0.2 * (own[1] - own[0])


def test_benchmark_report_shows_the_paired_differences(tmp_path):
    from beatnet_core.evaluate import _paired_differences, write_benchmark_report

    rng = np.random.default_rng(2)
    y = (rng.random((120, 2)) < 0.3).astype(int)

    def run(signal):
        s = y * signal + rng.random(y.shape)
        return {"y_true": y, "scores": s, "macro_auc": macro_auc(y, s), "macro_auc_ci95": [0.0, 1.0],
                "fmax": 0.5, "per_class": [{"label": c, "support": int(y[:, k].sum()), "auc": 0.5}
                                           for k, c in enumerate("AB")]}

    results = {"beatnet": [run(1.0), run(1.0)], "cnn": [run(0.1), run(0.1)]}
    paired = _paired_differences(results, n_boot=100, progress=False)
    assert [(p["model"], p["minus"]) for p in paired] == [("beatnet", "cnn")] and paired[0]["ci95"][0] > 0
    mismatched = {"beatnet": results["beatnet"], "cnn": [run(0.1), {**run(0.1), "y_true": y[::-1]}]}
    with pytest.raises(ValueError, match="same test records"):
        _paired_differences(mismatched, n_boot=10, progress=False)
    for rs in results.values():
        for r in rs:
            r.pop("y_true"), r.pop("scores")
    report = {"task": "toy", "seeds": 2, "data_dir": "x", "records": 120, "test_records": 120, "labels": ["A", "B"],
              "machine": "m", "date": "d", "train_overrides": {}, "paired": paired,
              "models": {name: {"n_parameters": 1, "macro_auc_mean": 0.5, "macro_auc_sd": 0.0, "fmax_mean": 0.5,
                                "val_macro_auc_mean": 0.5, "train_seconds_mean": 60.0, "runs": rs}
                         for name, rs in results.items()}}
    text = write_benchmark_report(report, tmp_path).read_text()
    assert f"| beatnet - cnn | {paired[0]['difference']:+.4f} |" in text


def test_fold_means_do_not_rank_one_folds_scores_against_anothers():
    from beatnet_core.metrics import fold_mean

    rng = np.random.default_rng(4)
    y = (rng.random((200, 2)) < 0.4).astype(int)
    scores = y * 0.5 + rng.random(y.shape)
    groups = np.repeat([3, 7], 100)
    shifted = scores + np.where(groups == 7, 5.0, 0.0)[:, None]   # the same ranking within each fold
    assert macro_auc(y, shifted) != pytest.approx(macro_auc(y, scores))   # pooled, the offset matters ...
    assert fold_mean(macro_auc, y, shifted, groups) == pytest.approx(fold_mean(macro_auc, y, scores, groups))
    d = paired_bootstrap_difference(y, [shifted], [scores], n_boot=100, seed=0, groups=groups)
    assert d["difference"] == pytest.approx(0) and d["ci95"] == pytest.approx([0, 0])   # ... per fold it does not
    halves = [macro_auc(y[:100], scores[:100]), macro_auc(y[100:], scores[100:])]
    assert fold_mean(macro_auc, y, scores, groups) == pytest.approx(np.mean(halves))
    lo, hi = bootstrap_ci(y, scores, n_boot=200, seed=0, groups=groups)["macro_auc"]
    assert lo < np.mean(halves) < hi
    # without groups nothing changes: one group is the whole set
    assert bootstrap_ci(y, scores, n_boot=50, seed=1) == bootstrap_ci(y, scores, n_boot=50, seed=1,
                                                                       groups=np.zeros(200))


def test_bootstrap_aucs_equal_scikit_learn_on_each_resample():
    from beatnet_core.metrics import _bootstrap_class_aucs

    rng = np.random.default_rng(3)
    y = (rng.random((80, 3)) < [0.5, 0.05, 0.0]).astype(int)
    s = np.round(rng.random((80, 3)) + 0.4 * y, 1)          # rounded: many ties
    fast = _bootstrap_class_aucs(y, s, n_boot=30, seed=7)
    draw = np.random.default_rng(7)
    for b in range(30):
        idx = draw.integers(0, 80, 80)
        for k in range(3):
            col = y[idx, k]
            if k < 2 and 0 < col.sum() < 80:
                assert fast[b, k] == pytest.approx(roc_auc_score(col, s[idx, k]))
            else:                                            # class 2 has no positives at all
                assert np.isnan(fast[b, k])
