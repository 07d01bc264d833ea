"""The bundled model and the inference API, on the real sample ECGs."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from beatnet_core import BeatNetPredictor, load_ecg, tokenize
from beatnet_core.cli import main
from beatnet_core.predict import BUNDLED_MODEL

SAMPLES = BUNDLED_MODEL.parents[1] / "sample_ecgs"


@pytest.fixture(scope="module")
def predictor():
    return BeatNetPredictor.load()


def _sample_files():
    manifest = pd.read_csv(SAMPLES / "manifest.csv")
    return [SAMPLES / f for f in manifest["file"]]


def test_bundled_model_covers_superdiagnostic_and_rhythm(predictor):
    for code in ("NORM", "MI", "STTC", "CD", "HYP", "SR", "AFIB"):
        assert code in predictor.label_names
    assert all(predictor.descriptions[c] for c in predictor.label_names)


def test_bundled_model_is_todays_beatnet(predictor):
    """The app ships the model the benchmark measures: today's default architecture, not an earlier one."""
    from beatnet_core.train import model_config_of

    saved = json.loads(json.dumps(predictor.model.config.to_dict()))
    assert saved == model_config_of("beatnet", saved["n_classes"])


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: p.stem)
def test_bundled_model_predicts_every_sample(predictor, path):
    ecg = load_ecg(path)
    pred = predictor.predict(ecg)
    probs = np.array(list(pred.probabilities.values()))
    assert ((0 <= probs) & (probs <= 1)).all()
    assert set(pred.labels) <= set(pred.probabilities)
    n = pred.r_peaks.size
    assert n >= 2 and pred.lead_attention.shape == (n, 12) and pred.beat_attention.shape == (n,)
    np.testing.assert_allclose(pred.lead_attention.sum(axis=1), 1, atol=1e-5)
    assert pred.beat_attention.sum() == pytest.approx(1, abs=1e-5)
    np.testing.assert_array_equal(pred.r_peaks, tokenize(ecg).r_samples)
    # what the heatmaps do not cover, shown beside them: the whole-beat part of each beat, the RR summary
    assert pred.whole_beat_share.shape == (n,) and np.isfinite(pred.whole_beat_share).all()
    assert np.isfinite(pred.rhythm_summary_share)
    json.dumps(pred.to_dict())


def test_attention_is_from_the_prediction_pass(predictor):
    ecg = load_ecg(SAMPLES / "00318_hr.hea")
    pred = predictor.predict(ecg)
    with torch.no_grad():
        logits, att = predictor.model(**predictor.model_inputs(pred.tokens))
    np.testing.assert_allclose(torch.sigmoid(logits)[0].numpy(), list(pred.probabilities.values()), rtol=1e-5)
    np.testing.assert_allclose(att["lead_attention"][0].numpy(), pred.lead_attention, rtol=1e-5)
    np.testing.assert_allclose(att["beat_attention"][0].numpy(), pred.beat_attention, rtol=1e-5)


def test_batch_prediction_equals_one_by_one(predictor):
    ecgs = [load_ecg(p) for p in _sample_files()[:4]]
    together = predictor.predict_many(ecgs)
    for ecg, pred in zip(ecgs, together):
        alone = predictor.predict(ecg)
        for code in pred.probabilities:
            assert pred.probabilities[code] == pytest.approx(alone.probabilities[code], abs=1e-5)


def test_long_recording_is_read_in_pages(predictor, data_dir):
    ecg = load_ecg(data_dir / "mitdb" / "100.hea").window(0, 60)
    pred = predictor.predict(ecg)
    assert pred.r_peaks.size > 60 and np.all(np.diff(pred.r_peaks) > 0)
    assert pred.beat_attention.sum() == pytest.approx(1, abs=1e-5)
    assert pred.lead_attention[:, [name not in ("II", "V5") for name in pred.leads]].max() == 0


def test_cli_predict_json(capsys):
    files = [str(p) for p in _sample_files()[:2]]
    assert main(["predict", *files, "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        d = json.loads(line)
        assert {"labels", "probabilities", "lead_attention", "beat_attention", "r_peaks"} <= set(d)


def test_cli_predict_reports_a_bad_file_and_goes_on(tmp_path, capsys):
    bad = tmp_path / "broken.csv"
    bad.write_text("this is not an ECG\n")
    good = str(_sample_files()[0])
    assert main(["predict", str(bad), good]) == 2
    captured = capsys.readouterr()
    assert "broken.csv" in captured.err and "00009_hr" in captured.out


def test_bench_predict_runs(data_dir):
    from beatnet_core.bench.speed import bench_predict

    r = bench_predict(data_dir / "ludb", n_records=3, repeats=1)
    assert r["records"] == 3 and r["single_median_ms"] > 0 and r["batch_records_per_s"] > 0
