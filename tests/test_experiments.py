"""The paper-claim studies (beatnet_core.experiments): corruptions, LUDB mapping, smoke runs, on real data.

The fraction sampler (nested, stratified) is tested in test_data.py.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from beatnet_core import load_ecg
from beatnet_core.cli import main
from beatnet_core.experiments import QUICK, attention, corrupt, external_validation, run_all, snr_db
from beatnet_core.experiments.common import small_rows, update_summary
from beatnet_core.experiments.corruptions import zeroed_leads
from beatnet_core.experiments.label_efficiency import TINY_MODELS, plan_epochs, plan_runs
from beatnet_core.data.ludb import label_level, ludb_targets, read_ludb_diagnoses
from beatnet_core.ecg import LEADS
from beatnet_core.signal import bandpass
from beatnet_core.train import TrainConfig, cpu_has_native_bf16, load_task, train


# --------------------------------------------------------------------------- corruptions on a real record

@pytest.fixture(scope="module")
def raw_record(data_dir):
    """PTB-XL record 1 in mV at 500 Hz, as PTB-XL ships it."""
    ecg = load_ecg(data_dir / "ptbxl" / "records500" / "00000" / "00001_hr.hea")
    return ecg.signal.astype(np.float64), ecg.fs


@pytest.fixture(scope="module")
def subset_record(data_dir):
    """One already-conditioned (z-scored, 250 Hz) record of the shared subset."""
    with np.load(data_dir / "ptbxl" / "ptbxl_subset_250hz.npz") as npz:
        return npz["signals"][0].astype(np.float64), float(npz["fs"])


def _in_band_snr(clean, corrupted, fs):
    """Independent of the module: variance of the 0.5-40 Hz band-passed signal over that of the noise."""
    s = bandpass(clean, fs, 0.5, 40.0).var(axis=0)
    n = bandpass(corrupted - clean, fs, 0.5, 40.0).var(axis=0)
    return 10 * np.log10(s / n)


@pytest.mark.parametrize("kind", ["gaussian_noise", "electrode_motion"])
@pytest.mark.parametrize("snr", [20, 10, 5])
def test_noise_reaches_the_requested_snr_on_a_real_record(raw_record, kind, snr):
    x, fs = raw_record
    y = corrupt(x, fs, kind, snr, rng=3)
    measured = _in_band_snr(x, y, fs)
    assert np.all(np.abs(measured - snr) < 0.5), measured
    assert np.allclose(snr_db(x, y, fs), measured)
    if kind == "electrode_motion":   # bursts: most of the record is untouched
        assert (np.abs(y - x).max(axis=1) > 0).mean() < 0.35


def test_noise_snr_on_a_conditioned_subset_record(subset_record):
    x, fs = subset_record
    y = corrupt(x, fs, "gaussian_noise", 10, rng=0)
    assert np.all(np.abs(_in_band_snr(x, y, fs) - 10) < 0.5)


def test_white_noise_option_is_full_band(raw_record):
    x, fs = raw_record
    y = corrupt(x, fs, "gaussian_noise", 10, rng=0, band=None)
    full = 10 * np.log10(x.var(axis=0) / (y - x).var(axis=0))
    assert np.all(np.abs(full - 10) < 0.5)
    n = y - x                                      # white: only ~(40 - 0.5) / 250 of its power is in the band
    share = bandpass(n, fs, 0.5, 40.0).var(axis=0) / n.var(axis=0)
    assert 0.12 < share.mean() < 0.25                 # per lead it varies (edge transients of the 0.5 Hz high-pass)


@pytest.mark.parametrize("amplitude", [0.5, 1.0])
def test_baseline_wander_amplitude_and_band(raw_record, amplitude):
    x, fs = raw_record
    d = corrupt(x, fs, "baseline_wander", amplitude, rng=1) - x
    assert np.allclose(np.abs(d).max(axis=0), amplitude, atol=1e-9)
    spectrum = np.abs(np.fft.rfft(d * np.hanning(d.shape[0])[:, None], axis=0)) ** 2   # Hann: little leakage
    freqs = np.fft.rfftfreq(d.shape[0], 1 / fs)
    assert (spectrum[freqs <= 1.0].sum(axis=0) / spectrum.sum(axis=0)).min() > 0.95


def test_baseline_wander_in_z_units(subset_record):
    x, fs = subset_record
    z_per_mv = np.linspace(2, 8, 12)
    d = corrupt(x, fs, "baseline_wander", 1.0, rng=1, units_per_mv=z_per_mv) - x
    assert np.allclose(np.abs(d).max(axis=0), z_per_mv, atol=1e-9)


@pytest.mark.parametrize("freq", [50, 60])
@pytest.mark.parametrize("amplitude", [0.2, 1.0])
def test_powerline_frequency_and_amplitude(raw_record, freq, amplitude):
    x, fs = raw_record
    d = corrupt(x, fs, f"powerline_{freq}", amplitude, rng=2) - x
    assert np.allclose(np.sqrt(2) * d.std(axis=0), amplitude, rtol=0.01)     # a sinusoid's amplitude from its rms
    freqs = np.fft.rfftfreq(d.shape[0], 1 / fs)
    assert freqs[np.argmax(np.abs(np.fft.rfft(d[:, 0])))] == pytest.approx(freq)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_missing_leads_are_really_zeroed(raw_record, n):
    x, fs = raw_record
    y = corrupt(x, fs, "missing_leads", n, rng=4)
    gone = zeroed_leads(x, y)
    assert gone.sum() == n and np.all(y[:, gone] == 0)
    assert np.array_equal(y[:, ~gone], x[:, ~gone])


def test_amplitude_scale_and_time_shift(raw_record):
    x, fs = raw_record
    assert np.allclose(corrupt(x, fs, "amplitude_scale", 2.0), 2 * x)
    y = corrupt(x, fs, "time_shift", 1.0)
    k = int(fs)
    assert np.array_equal(y[k:], x[:-k]) and np.allclose(y[:k], np.median(x, axis=0))
    with pytest.raises(ValueError):
        corrupt(x, fs, "no_such_corruption", 1)


def test_epoch_plan_gives_small_fractions_enough_steps():
    assert plan_epochs(1772, 64, 6, 60, 20) == 6           # 28 steps/epoch: the plain budget
    assert plan_epochs(620, 64, 6, 60, 20) == 6            # 10 steps/epoch x 6 = 60
    assert plan_epochs(354, 64, 6, 60, 20) == 10           # 6 steps/epoch: raised to 60 steps
    assert plan_epochs(89, 64, 6, 60, 20) == 20            # capped


def test_run_plan_costs_follow_the_training_arithmetic():
    args = (["beatnet", "xresnet1d101"], [0], [0.5, 1.0], 1772, 250, {"beatnet": 6, "xresnet1d101": 10}, 60, 20, 64)
    fp32, total32 = plan_runs(*args, budget_minutes=50, dtype="float32")
    bf16, total16 = plan_runs(*args, budget_minutes=50, dtype="bfloat16")
    assert [j["epochs_planned"] for j in fp32] == [j["epochs_planned"] for j in bf16]   # same plan ...
    assert total16 < total32                                                           # ... cheaper in bfloat16
    assert sum(j["max_minutes"] for j in bf16) == pytest.approx(50)                    # the caps share the budget


# --------------------------------------------------------------------------- LUDB mapping

@pytest.fixture(scope="module")
def ludb_diagnoses(data_dir):
    return read_ludb_diagnoses(data_dir / "ludb", "csv")


def test_ludb_mapping_counts_on_the_real_csv(ludb_diagnoses, data_dir):
    labels = ["AFIB", "SBRAD", "STACH", "SR", "SARRH", "CRBBB", "CLBBB", "LVH", "PACE"]
    y = ludb_targets(ludb_diagnoses, labels, "all")
    positives = dict(zip(labels, (y == 1).sum(axis=0).tolist()))
    # LUDB's README: sinus 143, sinus bradycardia 25, atrial fibrillation 15
    assert positives == {"AFIB": 15, "SBRAD": 25, "STACH": 4, "SR": 143, "SARRH": 8, "CRBBB": 4, "CLBBB": 4,
                         "LVH": 108, "PACE": 10}
    # 'irregular sinus rhythm' (2 records) is neither SR nor SARRH for sure: left out of both
    assert (y[:, labels.index("SR")] == -1).sum() == 2 and (y[:, labels.index("SARRH")] == -1).sum() == 2
    assert len(ludb_diagnoses) == 200 and (y != -1).all(axis=1).sum() == 198
    # the headers carry the same diagnoses
    from_headers = ludb_targets(read_ludb_diagnoses(data_dir / "ludb", "headers"), labels, "all")
    assert np.array_equal(y, from_headers)


def test_ludb_sinus_tachycardia_records_are_under_100_bpm(ludb_diagnoses, data_dir):
    """What the STACH mapping note and the ludb_188 teaching case state, from LUDB's own QRS marks (lead II)."""
    import wfdb

    y = ludb_targets(ludb_diagnoses, ["STACH"], "all")[:, 0]
    rates = []
    for record in np.array(list(ludb_diagnoses))[y == 1]:       # rows follow the dict
        ann = wfdb.rdann(str(data_dir / "ludb" / "data" / str(record)), "ii")
        qrs = ann.sample[np.array(ann.symbol) == "N"]
        rates.append(60 * 500 / np.diff(qrs).mean())
    assert len(rates) == 4 and all(89.5 <= r < 93.5 for r in rates), rates


def test_ludb_superclasses(ludb_diagnoses):
    y = ludb_targets(ludb_diagnoses, ["CD", "HYP", "MI", "STTC", "NORM"], "superdiagnostic")
    assert (y[:, 4] == -1).all()                        # NORM: no LUDB counterpart
    paced = ludb_targets(ludb_diagnoses, ["PACE"], "all")[:, 0] == 1
    assert (y[paced, :4] != 0).all()                    # a paced ECG is never a negative for a superclass
    assert (y[paced, 1] == 1).any()                     # ... but findings reported on it (e.g. LAH) stand
    assert (y[:, 0] == 1).sum() == 65 and (y[:, 2] == 1).sum() == 23
    assert label_level("CD", "superdiagnostic+rhythm") == "superclass"
    assert label_level("CD", "diagnostic") == "statement"


# --------------------------------------------------------------------------- smoke runs of every study

@pytest.fixture(scope="module")
def smoke(data_dir, tmp_path_factory):
    """``run_all(quick=True)``: tiny models, 1 epoch, a handful of records; an existing README kept."""
    out = tmp_path_factory.mktemp("reports")
    runs = tmp_path_factory.mktemp("runs")
    (out / "quick").mkdir()
    (out / "quick" / "README.md").write_text("# Reports\n\nHand-written text that must survive.\n")
    (out / "quick" / "qrs.md").write_text("# QRS\n")
    result = run_all(data_dir, out, runs, quick=True, progress=False)
    return result, out / "quick", runs / "quick"


def _study(out, stem, keys):
    for ext in ("md", "json", "png"):
        assert (out / f"{stem}.{ext}").stat().st_size > 0
    payload = json.loads((out / f"{stem}.json").read_text())
    assert set(keys) <= set(payload), set(keys) - set(payload)
    assert "|---" in (out / f"{stem}.md").read_text()
    return payload


def test_smoke_all_runs_every_study(smoke):
    result, out, _ = smoke
    assert result["errors"] == {}
    readme = (out / "README.md").read_text()
    assert "Hand-written text that must survive." in readme
    for stem in ("label_efficiency", "robustness", "attention", "external_ludb"):
        assert f"({stem}.md)" in readme
    update_summary(out)                                  # refreshing does not duplicate the section
    assert (out / "README.md").read_text().count("beatnet-experiments:begin") == 1
    assert json.loads((out / "experiments_all.json").read_text())["quick"] is True


def test_smoke_label_efficiency(smoke):
    _, out, _ = smoke
    p = _study(out, "label_efficiency", ["command", "curves", "recovery", "claims", "results", "plan", "figure",
                                         "seeds", "fractions", "budget", "data"])
    assert p["fractions"] == list(QUICK["label-efficiency"]["fractions"])
    for model in ("beatnet", "xresnet1d101"):
        runs = p["results"][model]
        assert set(runs) == {"0.50", "1.00"}
        assert runs["0.50"]["0"]["train_records"] < runs["1.00"]["0"]["train_records"]
        assert 0 <= runs["1.00"]["0"]["test_macro_auc"] <= 1
    assert set(p["figure"]["series"]) == {"beatnet", "xresnet1d101"}
    # every run was trained in the arithmetic the report states ("auto": what this CPU has)
    dtype = p["budget"]["training_dtype"]
    assert dtype == ("bfloat16" if cpu_has_native_bf16() else "float32")
    for model in ("beatnet", "xresnet1d101"):
        config = json.loads((Path(p["results"][model]["1.00"]["0"]["run_dir"]) / "config.json").read_text())
        assert config["summary"]["train_dtype"] == dtype


def test_smoke_robustness(smoke):
    _, out, _ = smoke
    p = _study(out, "robustness", ["auc", "summary", "beats", "claims", "conditions", "pipeline_check", "figure",
                                   "groups", "mv_per_z"])
    assert set(p["auc"]) == {"raw", "subset", "pooled"}
    assert p["groups"]["raw"]["records"] > 0 and p["groups"]["subset"]["records"] > 0
    # the clean path reproduces the training inputs, so drops are measured from the trained baseline
    assert p["pipeline_check"]["raw"]["max_abs_signal_difference"] < 1e-4
    assert p["pipeline_check"]["subset"]["max_abs_signal_difference"] < 0.02
    assert len(p["conditions"]) == 19
    clean = p["beats"]["raw"]["none:0"]
    assert clean["sensitivity"] == 1.0 and clean["ppv"] == 1.0
    # per-lead z-scoring removes a global gain: scoring is unchanged
    summary = p["summary"]["pooled"]
    for model in ("beatnet", "xresnet1d101"):
        assert summary["amplitude_scale:2"][model]["drop_mean"] == pytest.approx(0.0, abs=1e-6)


def test_smoke_attention(smoke):
    _, out, _ = smoke
    p = _study(out, "attention", ["labels", "groups", "claims", "figure", "per_run"])
    assert p["figure"]["columns"][1] == "II"
    for row in p["figure"]["values"]:
        assert sum(row) == pytest.approx(1.0, abs=1e-4)       # importance is a distribution over leads
    assert "lead_ii_in_top3_for_rhythm" in p["claims"]


def test_smoke_external(smoke):
    _, out, _ = smoke
    p = _study(out, "external_ludb", ["mapping", "not_mapped", "results", "claims", "figure", "side_by_side"])
    assert p["records"] == QUICK["external"]["max_records"]
    mapped = {m["label"] for m in p["mapping"]}
    # the primary model is the shipped one (superclasses + rhythm) when assets/model exists
    assert {"CD", "HYP", "MI", "STTC"} <= mapped <= set(p["model_labels"])
    assert "NORM" in p["not_mapped"]["model_labels_without_rule"]
    assert set(p["side_by_side"]) == {"beatnet", "xresnet1d101"}


def test_cli_runs_one_study_on_existing_runs(smoke, data_dir, capsys):
    _, out, runs = smoke
    code = main(["experiments", "robustness", "--data", str(data_dir), "--out", str(out.parent),
                 "--runs-dir", str(runs.parent), "--quick", "--no-progress", "--groups", "raw"])
    assert code == 0
    p = json.loads((out / "robustness.json").read_text())
    assert set(p["auc"]) == {"raw"} and "--groups raw" in p["command"]


@pytest.fixture(scope="module")
def rhythm_model(data_dir, tmp_path_factory):
    """A tiny BEAT-Net with rhythm outputs (AFIB, SR, ...), 1 epoch: stands in for the shipped model."""
    ds = load_task(data_dir / "ptbxl", "superdiagnostic+rhythm", min_count=1, progress=False)
    afib = np.flatnonzero(ds.labels[:, ds.label_names.index("AFIB")] == 1)
    rows = np.union1d(small_rows(ds.split(), 60), afib[:6])
    run = tmp_path_factory.mktemp("rhythm") / "run"
    train(TrainConfig(epochs=1, batch_size=32, threads=1, min_count=1, model_overrides=TINY_MODELS["beatnet"],
                      task="superdiagnostic+rhythm"), None, run, progress=False, dataset=ds.take(rows))
    return run


def test_external_with_rhythm_outputs(rhythm_model, data_dir, ludb_diagnoses, tmp_path):
    af = [r for r, d in ludb_diagnoses.items() if "atrial fibrillation" in d][:4]
    other = [r for r, d in ludb_diagnoses.items() if "sinus rhythm" in d][:8]
    p = external_validation(data_dir, tmp_path, model=rhythm_model, records=af + other, n_boot=50,
                            progress=False, threads=1)
    assert p["results"]["shipped"]["AFIB"]["positives"] == 4 and p["results"]["shipped"]["AFIB"]["auc"] is not None
    assert p["results"]["shipped"]["SR"]["positives"] == 8
    assert p["claims"]["afib_auc_ge_0.95"] in (True, False)
    assert "AFIB" in (tmp_path / "external_ludb.md").read_text()


def test_attention_with_rhythm_outputs(rhythm_model, data_dir, tmp_path):
    p = attention(data_dir, tmp_path, runs=[rhythm_model], max_records=12, min_support=1, progress=False,
                  threads=1)
    assert p["labels"]["SR"]["group"] == "rhythm" and p["labels"]["SR"]["spearman"]["n"] > 0
    assert 1 <= p["groups"]["rhythm"]["lead_ii_rank_of_group_mean"] <= 12
    text = (tmp_path / "attention.md").read_text()
    assert "Caveat" not in text
    # today's BEAT-Net: the shares the heatmaps do not split, one per record with beats, and said in the report
    for part in ("whole_beat_share", "rhythm_summary_share"):
        assert p["parts"][part]["n"] == 12 - p["per_run"][0]["records_without_beats"]
        assert np.isfinite(p["parts"][part]["values"]).all() and p["parts"][part]["median"] != 0
    assert "What the attention maps cover" in text and "whole-beat reading's share" in text
    overall = np.mean([r["overall_mean_importance"] for r in p["per_run"]], axis=0)
    assert f"the most attended lead is {LEADS[int(np.argmax(overall))]} ({overall.max():.1%})" in text


def test_report_header_says_when_runs_were_reused():
    """A study's time covers only the runs it trained; the header says how many were reused."""
    from beatnet_core.experiments.common import measured

    payload = {"environment": {"date": "2026-11-21 16:00", "machine": "x86_64, 2 CPUs"}, "runtime_seconds": 600,
               "command": "beatnet experiments all", "study_command": "beatnet experiments all",
               "results": {"beatnet": {"0.05": {"0": {"reused": False}, "1": {"reused": False}}},
                           "cnn": {"0.05": {"0": {"reused": True}, "1": {"reused": True}}}}}
    assert "10.0 min (2 of 4 runs trained in that time; 2 reused" in measured(payload)[0]
    for model in payload["results"].values():
        for run in model["0.05"].values():
            run["reused"] = False
    assert measured(payload)[0].endswith("10.0 min. Reproduce with:")


def test_robustness_refuses_runs_that_held_out_different_folds(smoke, data_dir, tmp_path):
    import shutil

    _, _, runs = smoke
    run = next(p.parent for p in sorted(runs.parent.rglob("config.json")))
    other = tmp_path / "fold3"
    shutil.copytree(run, other)
    config = json.loads((other / "config.json").read_text())
    config["train_config"]["test_fold"] = 3
    (other / "config.json").write_text(json.dumps(config))
    from beatnet_core.experiments.robustness import robustness
    with pytest.raises(ValueError, match=r"different test folds \[3, 10\]"):
        robustness(data_dir, runs=[run, other], max_records=4, threads=1, progress=False, write=False)
