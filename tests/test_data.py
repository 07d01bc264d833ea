"""PTB-XL loading, benchmark label sets, splits and nested stratified fractions, on the real shared data.

Expected counts are those documented in ../shared/data/ptbxl/LABELS.md
(2,285 records; superdiagnostic NORM 1,244, MI 330, STTC 613, CD 532, HYP 229;
fold 10: 253 records, NORM 121, MI 41, STTC 79, CD 65, HYP 25).
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import beatnet_core.data as data_pkg
from beatnet_core import load_ecg
from beatnet_core.data import ptbxl as ptbxl_module
from beatnet_core.data import (TASKS, describe_label, fold_rotation, load_ptbxl, parse_scp_codes, read_database,
                               read_scp_statements, split_indices, stratified_fraction, task_labels)
from beatnet_core.signal import ConditioningSpec, condition

SUPER_COUNTS = {"NORM": 1244, "MI": 330, "STTC": 613, "CD": 532, "HYP": 229}
SUPER_COUNTS_FOLD10 = {"NORM": 121, "MI": 41, "STTC": 79, "CD": 65, "HYP": 25}


@pytest.fixture(scope="module")
def ptbxl_dir(data_dir) -> Path:
    return data_dir / "ptbxl"


@pytest.fixture(scope="module")
def database(ptbxl_dir) -> pd.DataFrame:
    return read_database(ptbxl_dir)


@pytest.fixture(scope="module")
def statements(ptbxl_dir) -> pd.DataFrame:
    return read_scp_statements(ptbxl_dir)


def _official_tree(ptbxl_dir: Path, root: Path, ecg_ids, rates=("500", "100"), subset=False) -> Path:
    """A small copy of the official layout: the given records, a trimmed database, the statements."""
    root.mkdir(parents=True, exist_ok=True)
    db = pd.read_csv(ptbxl_dir / "ptbxl_database.csv")
    db[db.ecg_id.isin(ecg_ids)].to_csv(root / "ptbxl_database.csv", index=False)
    shutil.copy(ptbxl_dir / "scp_statements.csv", root / "scp_statements.csv")
    for ecg_id in ecg_ids:
        for rate in rates:
            folder, suffix = ("records500", "hr") if rate == "500" else ("records100", "lr")
            for ext in (".hea", ".dat"):
                rel = Path(folder) / f"{ecg_id // 1000 * 1000:05d}" / f"{ecg_id:05d}_{suffix}{ext}"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ptbxl_dir / rel, root / rel)
    if subset:
        os.symlink(ptbxl_dir / "ptbxl_subset_250hz.npz", root / "ptbxl_subset_250hz.npz")
    return root


# --- labels ---------------------------------------------------------------------------------------

def test_superdiagnostic_counts_match_labels_md(database, statements):
    names, y = task_labels(database.scp_codes, statements, "superdiagnostic")
    assert len(database) == 2285
    assert dict(zip(names, y.sum(axis=0).tolist())) == SUPER_COUNTS
    assert names == sorted(SUPER_COUNTS)  # MultiLabelBinarizer order, as in the benchmark
    test = split_indices(database.strat_fold).test
    assert len(test) == 253
    assert dict(zip(names, y[test].sum(axis=0).tolist())) == SUPER_COUNTS_FOLD10


def test_label_sets_follow_the_benchmark(database, statements):
    sizes = {}
    for task in TASKS:
        names, y = task_labels(database.scp_codes, statements, task)
        assert y.dtype == np.uint8 and y.shape == (len(database), len(names))
        assert (y.sum(axis=0) > 0).all()  # only observed labels, like MultiLabelBinarizer
        sizes[task] = len(names)
    # Upper bounds are the statement table's own (44 diagnostic, 23 subclasses, 19 form, 12 rhythm).
    assert sizes["superdiagnostic"] == 5
    assert sizes["subdiagnostic"] <= 23 and sizes["diagnostic"] <= 44
    assert sizes["form"] <= 19 and sizes["rhythm"] <= 12
    assert sizes["all"] == len({k for codes in database.scp_codes for k in codes})

    # Record 1 is {'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}: statements with
    # likelihood 0.0 count (the benchmark uses the keys only).
    first = database.loc[[1], "scp_codes"]
    for task, expected in {"rhythm": ["SR"], "form": ["LVOLT"], "diagnostic": ["NORM"],
                           "subdiagnostic": ["NORM"], "all": ["LVOLT", "NORM", "SR"]}.items():
        names, y = task_labels(database.scp_codes, statements, task)
        _, y1 = task_labels(first, statements, task, label_names=names)
        assert [n for n, v in zip(names, y1[0]) if v] == expected


def test_subclasses_and_min_count(database, statements):
    names, y = task_labels(database.scp_codes, statements, "subdiagnostic")
    assert {"IMI", "AMI", "LAFB/LPFB", "_AVB", "ISCA", "STTC", "NORM"} <= set(names)
    counts = y.sum(axis=0)
    kept, y_kept = task_labels(database.scp_codes, statements, "subdiagnostic", min_count=50)
    assert kept == [n for n, c in zip(names, counts) if c >= 50] and len(kept) < len(names)
    assert np.array_equal(y_kept, y[:, [names.index(n) for n in kept]])


def test_scp_codes_are_parsed_without_eval(tmp_path):
    assert parse_scp_codes("{'IMI': 35.0, 'SR': 0}") == {"IMI": 35.0, "SR": 0.0}
    assert parse_scp_codes("") == {} and parse_scp_codes(float("nan")) == {}
    marker = tmp_path / "ran"
    for hostile in (f"__import__('pathlib').Path({str(marker)!r}).touch()", "['NORM']", "{'NORM': 'x'}"):
        with pytest.raises(ValueError):
            parse_scp_codes(hostile)
    assert not marker.exists()
    # No eval/exec anywhere in the data package: only ast.literal_eval.
    source = "".join(p.read_text() for p in Path(data_pkg.__file__).parent.glob("*.py"))
    assert not re.search(r"(?<![\w.])(eval|exec)\s*\(", source)


def test_describe_label(ptbxl_dir):
    assert describe_label("IMI", ptbxl_dir) == "inferior myocardial infarction"
    assert describe_label("SR", ptbxl_dir) == "sinus rhythm"
    assert describe_label("MI") == "myocardial infarction"
    assert describe_label("_AVB", task="subdiagnostic").startswith("AV block")
    assert describe_label("NORM", ptbxl_dir, task="diagnostic") == "normal ECG"
    with pytest.raises(KeyError):
        describe_label("NOPE", ptbxl_dir)


def test_unknown_task_is_refused(database, statements):
    with pytest.raises(ValueError, match="superdiagnostic"):
        task_labels(database.scp_codes, statements, "superclass")


# --- splits and fractions -------------------------------------------------------------------------

def test_split_indices(database):
    split = split_indices(database.strat_fold)
    assert [len(s) for s in split] == [1773, 259, 253]
    folds = database.strat_fold.to_numpy()
    assert set(folds[split.train]) == set(range(1, 9)) and set(folds[split.val]) == {9}
    assert len(np.unique(np.concatenate(split))) == len(database)


@pytest.mark.parametrize("test_fold", range(1, 11))
def test_fold_rotation_holds_out_each_fold_with_the_one_before_for_validation(database, test_fold):
    train_folds, val_folds, test_folds = fold_rotation(test_fold)
    assert test_folds == (test_fold,) and val_folds == ((test_fold - 2) % 10 + 1,)
    assert sorted(train_folds + val_folds + test_folds) == list(range(1, 11))   # a partition of the ten folds
    split = split_indices(database.strat_fold, train_folds, val_folds, test_folds)
    folds = database.strat_fold.to_numpy()
    assert set(folds[split.test]) == {test_fold} and set(folds[split.val]) == set(val_folds)
    assert len(np.unique(np.concatenate(split))) == len(database)
    if test_fold == 10:   # the benchmark's split
        assert [a.tolist() for a in split] == [a.tolist() for a in split_indices(database.strat_fold)]


def test_fold_rotation_refuses_a_fold_that_does_not_exist():
    for bad in (0, 11):
        with pytest.raises(ValueError, match="strat_fold from 1 to 10"):
            fold_rotation(bad)


@pytest.mark.parametrize("task", ["superdiagnostic", "subdiagnostic", "all"])
def test_stratified_fraction_is_nested_and_proportional(database, statements, task):
    _, y = task_labels(database.scp_codes, statements, task)
    train = split_indices(database.strat_fold).train
    share = y[train].mean(axis=0)
    previous = np.zeros(0, np.int64)
    for fraction in (0.05, 0.1, 0.2, 0.5, 1.0):
        chosen = stratified_fraction(y, train, fraction, seed=7)
        assert len(chosen) == round(fraction * len(train))
        assert np.isin(chosen, train).all() and len(np.unique(chosen)) == len(chosen)
        assert np.isin(previous, chosen).all()  # nested
        # Every label's count within 1.5 records of proportional (random
        # sampling is off by several records at these sizes).
        assert np.abs(y[chosen].sum(axis=0) - len(chosen) * share).max() <= 1.5
        previous = chosen
    assert np.array_equal(previous, train)


def test_stratified_fraction_seeds(database, statements):
    _, y = task_labels(database.scp_codes, statements, "superdiagnostic")
    train = split_indices(database.strat_fold).train
    a = stratified_fraction(y, train, 0.1, seed=0)
    assert np.array_equal(a, stratified_fraction(y, train, 0.1, seed=0))
    assert not np.array_equal(a, stratified_fraction(y, train, 0.1, seed=1))
    with pytest.raises(ValueError):
        stratified_fraction(y, train, 0.0)


# --- loader ---------------------------------------------------------------------------------------

def test_loader_on_official_layout(ptbxl_dir, tmp_path, monkeypatch):
    root = _official_tree(ptbxl_dir, tmp_path / "ptbxl", [1, 2, 3, 17, 21])
    cache = tmp_path / "cache"
    ds = load_ptbxl(root, "superdiagnostic", cache_dir=cache, progress=False)
    assert ds.ecg_id.tolist() == [1, 2, 3, 17, 21]
    assert ds.signals.shape == (5, 2500, 12) and ds.signals.dtype == np.float32
    assert set(ds.source) == {"records500"}
    # Raw records go through the shared conditioning, from the 500 Hz files.
    expected = condition(load_ecg(root / "records500/00000/00002_hr.hea"))
    assert np.array_equal(ds.signals[1], expected)
    db = read_database(ptbxl_dir)
    assert ds.strat_fold.tolist() == db.loc[[1, 2, 3, 17, 21], "strat_fold"].tolist()
    assert ds.age[0] == 56.0 and ds.sex[0] == 1 and ds.patient_id[0] == 15709
    assert ds.labels[ds.ecg_id.tolist().index(17)].sum() == 0  # AFLT only: no superclass
    assert len(ds.take(ds.split().train)) == int(np.isin(ds.strat_fold, range(1, 9)).sum())
    assert load_ptbxl(root, drop_unlabelled=True, cache_dir=cache, progress=False).ecg_id.tolist() == [1, 2, 3, 21]

    # The second load comes from the cache, whatever the task.
    assert len(list(cache.glob("ptbxl-*.npz"))) == 1

    def must_not_read(job):
        raise AssertionError("cache not used")

    monkeypatch.setattr(ptbxl_module, "_read_and_condition", must_not_read)
    again = load_ptbxl(root, "rhythm", cache_dir=cache, progress=False)
    assert np.array_equal(again.signals, ds.signals) and "SR" in again.label_names
    # A changed file or spec is a different cache entry.
    os.utime(root / "records500/00000/00001_hr.dat", ns=(1, 1))
    with pytest.raises(AssertionError, match="cache not used"):
        load_ptbxl(root, cache_dir=cache, progress=False)


def test_loader_reads_100hz_when_only_those_exist(ptbxl_dir, tmp_path):
    root = _official_tree(ptbxl_dir, tmp_path / "ptbxl", [4, 5], rates=("100",))
    ds = load_ptbxl(root, "form", cache_dir=False, progress=False)
    assert ds.signals.shape == (2, 2500, 12) and set(ds.source) == {"records100"}
    assert np.array_equal(ds.signals[0], condition(load_ecg(root / "records100/00000/00004_lr.hea")))
    both = _official_tree(ptbxl_dir, tmp_path / "both", [4], rates=("500", "100"))
    assert set(load_ptbxl(both, prefer_fs=100, cache_dir=False, progress=False).source) == {"records100"}
    spec = ConditioningSpec(fs=100.0)
    assert load_ptbxl(root, spec=spec, cache_dir=False, progress=False).signals.shape == (2, 1000, 12)


def test_loader_combines_raw_and_subset(ptbxl_dir, tmp_path):
    # Records 9 and 24 are both raw and in the subset: one copy each, the raw one.
    root = _official_tree(ptbxl_dir, tmp_path / "ptbxl", [1, 9, 24], subset=True)
    db = pd.read_csv(ptbxl_dir / "ptbxl_database.csv")
    db.to_csv(root / "ptbxl_database.csv", index=False)  # all rows, so subset records have labels
    ds = load_ptbxl(root, "superdiagnostic", cache_dir=False, progress=False)
    with np.load(ptbxl_dir / "ptbxl_subset_250hz.npz") as npz:
        subset_ids, subset_signals = npz["ecg_id"], npz["signals"]
    assert len(ds) == 3 + len(subset_ids) - 2 and len(np.unique(ds.ecg_id)) == len(ds)
    src = dict(zip(ds.ecg_id.tolist(), ds.source.tolist()))
    assert src[9] == src[24] == "records500" and src[1] == "records500"
    assert sum(s == "subset" for s in src.values()) == len(subset_ids) - 2
    # The shared conditioning reproduces the subset's preprocessing (to float16 precision).
    row = ds.ecg_id.tolist().index(9)
    assert np.abs(ds.signals[row] - subset_signals[list(subset_ids).index(9)]).max() < 0.01
    k = int(np.flatnonzero(subset_ids > 500)[0])  # a subset-only record comes through unchanged
    assert np.array_equal(ds.signals[ds.ecg_id.tolist().index(subset_ids[k])], subset_signals[k].astype(np.float32))
    # Another spec cannot use the already-conditioned subset.
    with pytest.warns(UserWarning, match="skipped"):
        ds100 = load_ptbxl(root, spec=ConditioningSpec(fs=100.0), cache_dir=False, progress=False)
    assert ds100.ecg_id.tolist() == [1, 9, 24]


def test_loader_with_worker_processes(ptbxl_dir, tmp_path):
    root = _official_tree(ptbxl_dir, tmp_path / "ptbxl", [6, 7, 8], rates=("500",))
    serial = load_ptbxl(root, cache_dir=False, progress=False)
    parallel = load_ptbxl(root, cache_dir=False, progress=False, workers=2)
    assert np.array_equal(serial.signals, parallel.signals)
    assert np.array_equal(serial.lead_mask, parallel.lead_mask)


def test_loader_refuses_a_folder_without_ptbxl(tmp_path):
    with pytest.raises(FileNotFoundError, match="ptbxl_database.csv"):
        load_ptbxl(tmp_path, cache_dir=False)


def test_full_shared_dataset(ptbxl_dir, tmp_path):
    """All 2,285 records (500 raw + 1,785 from the subset); cold then cached."""
    start = time.perf_counter()
    ds = load_ptbxl(ptbxl_dir, "superdiagnostic", cache_dir=tmp_path, progress=False)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    cached = load_ptbxl(ptbxl_dir, "superdiagnostic", cache_dir=tmp_path, progress=False)
    warm = time.perf_counter() - start
    print(f"full load: cold {cold:.1f} s, cached {warm:.2f} s")
    assert ds.signals.shape == (2285, 2500, 12) and np.isfinite(ds.signals).all()
    assert (ds.source == "records500").sum() == 500 and (ds.source == "subset").sum() == 1785
    assert ds.label_counts() == SUPER_COUNTS
    assert ds.take(ds.split().test).label_counts() == SUPER_COUNTS_FOLD10
    assert np.array_equal(cached.signals, ds.signals) and warm < cold
