"""The app's plain functions: upload reading and its messages, analysis, export, teaching cases."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from _app_helpers import SAMPLES, predictor_for_tests
from app import analysis as A
from app import cases, report, samples
from beatnet_core import LEADS, load_ecg


def _files(*names):
    return [(n, (SAMPLES / n).read_bytes()) for n in names]


def test_read_upload_wfdb_pair_in_memory():
    ecg = A.read_upload(_files("ludb_1.hea", "ludb_1.dat"))
    assert ecg.signal.shape == (5000, 12) and ecg.fs == 500


@pytest.mark.parametrize("files, fragment", [
    ([], "No file"),
    ([("a.hea", (SAMPLES / "00009_hr.hea").read_bytes())], "select the .hea header and its .dat"),
    ([("00009_hr.dat", (SAMPLES / "00009_hr.dat").read_bytes())], ".hea"),
    ([("x.pdf", b"%PDF-1.4 hello")], "not an ECG"),
    ([("x.csv", b"")], "empty"),
    ([("x.npy", b"\x93NUMPY garbage")], "Accepted"),
    ([("a.hea", b"x"), ("b.hea", b"y")], "several WFDB headers"),
])
def test_read_upload_errors_say_what_is_wrong(files, fragment):
    with pytest.raises(A.InputError) as err:
        A.read_upload(files)
    assert fragment in str(err.value)
    assert "Traceback" not in str(err.value) and "name=..." not in str(err.value)


def test_upload_over_the_limit_is_refused_before_reading():
    with pytest.raises(A.InputError, match="limit is 0.01 MB"):
        A.read_upload([("big.csv", b"0" * 20_000)], max_mb=0.01)


def test_csv_without_rate_asks_for_it_and_uses_it():
    x = load_ecg(SAMPLES / "00009_hr.hea").signal[::2]
    buf = io.StringIO()
    np.savetxt(buf, x, delimiter=",", header=",".join(LEADS), comments="", fmt="%.4f")
    data = buf.getvalue().encode()
    with pytest.raises(A.InputError, match="Sampling rate"):
        A.read_upload([("rec.csv", data)])
    assert A.read_upload([("rec.csv", data)], fs=250).fs == 250


def test_upload_signature_changes_with_the_files():
    a = A.upload_signature([("a.hea", b"1"), ("a.dat", b"22")])
    assert a == A.upload_signature([("a.dat", b"22"), ("a.hea", b"1")])
    assert a != A.upload_signature([("a.hea", b"1")])


def test_analyse_pages_long_records_and_refuses_beatless_ones():
    predictor, _ = predictor_for_tests()
    ecg = load_ecg(SAMPLES / "00009_hr.hea")
    from beatnet_core.ecg import make_ecg

    long = make_ecg(np.vstack([ecg.signal] * 3), ecg.fs, list(LEADS), source="long")
    a = A.analyse(long, predictor, name="long", key="k", page_start_s=12.0)
    assert a.ecg.duration_s == pytest.approx(10.0) and a.page_start_s == pytest.approx(12.0)
    assert "showing and analysing 12–22 s" in a.notes[0]
    assert (a.r_peaks < a.ecg.n_samples).all() and a.n_beats >= 8


def test_a_record_without_beats_is_an_input_error():
    from beatnet_core import ECGFormatError

    class NoBeats:          # what the tokenizer raises when it finds no heartbeat
        def predict(self, ecg):
            raise ECGFormatError("slow.csv: no heartbeats were detected")

    with pytest.raises(A.InputError, match="no heartbeats were found"):
        A.analyse(load_ecg(SAMPLES / "00009_hr.hea"), NoBeats(), name="slow.csv", key="s")


def test_model_failure_keeps_trace_and_measurements():
    class Broken:
        def predict(self, ecg):
            raise RuntimeError("boom")

    a = A.analyse(load_ecg(SAMPLES / "00009_hr.hea"), Broken(), name="n", key="k")
    assert a.prediction is None and "boom" in a.model_error
    assert a.n_beats == 10 and a.measurements


def test_export_json_is_strict_json_and_report_renders():
    predictor, _ = predictor_for_tests()
    row = samples.by_key("00175_hr")
    a = A.analyse(load_ecg(row["path"]), predictor, name=row["title"], key="k", reference=row["reference"],
                  sample=row)
    d = json.loads(A.export_json(a))
    assert d["prediction"]["labels"] == a.labels and d["beats"]["count"] == a.n_beats
    assert d["measurements"]["Heart rate"]["unit"] == "bpm" and "not a medical device" in d["disclaimer"]
    png = report.render(a, "png", dpi=60)
    pdf = report.render(a, "pdf")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pdf[:5] == b"%PDF-"


def test_gallery_covers_the_required_diagnoses():
    rows = samples.load_manifest()
    assert len(rows) >= 8
    titles = " ".join(r["title"].lower() for r in rows)
    for what in ("normal", "atrial fibrillation", "bradycardia", "tachycardia", "myocardial infarction",
                 "bundle branch block", "hypertrophy", "paced"):
        assert what in titles, what
    assert all(r["license"] and r["citation"] and r["source"] for r in rows)


def test_every_case_is_answerable_and_has_criteria():
    keys = {r["key"] for r in samples.load_manifest()}
    for case in cases.CASES:
        assert case.key in keys
        assert set(case.findings) <= set(case.options)
        for finding in case.options:
            assert finding in cases.CRITERIA, finding
        for crit in (c for f in case.findings for c in cases.CRITERIA[f]):
            assert set(crit.leads) <= set(LEADS)


def test_scoring():
    case = cases.CASES[5]                                  # RBBB + LAFB + sinus rhythm
    assert cases.score_answer(list(case.findings), case)["points"] == 1.0
    partial = cases.score_answer([case.findings[0], case.findings[1]], case)
    assert partial["points"] == pytest.approx(2 / 3) and partial["missed"] == [case.findings[2]]
    wrong = cases.score_answer(["Atrial fibrillation"], case)
    assert wrong["points"] == 0.0 and wrong["wrong"] == ["Atrial fibrillation"]


def test_lead_heuristics():
    assert cases.heuristic("IMI").leads == ("II", "III", "aVF")
    assert set(cases.heuristic("AFIB").leads) == {"II", "V1"}
    assert set(cases.heuristic("CRBBB").leads) >= {"V1", "V2"}
    assert set(cases.heuristic("CLBBB").leads) >= {"V5", "V6", "I", "aVL"}
    assert set(cases.heuristic("LVH").leads) >= {"V1", "V5", "V6", "aVL"}
    assert cases.heuristic("SOMETHING_NEW").leads == tuple(LEADS)
    for h in cases.LEAD_HEURISTICS.values():
        assert set(h.leads) <= set(LEADS) and h.why
    top, agree = cases.agreement(["II", "V2", "aVF", "I"], "IMI")
    assert top == ["II", "V2", "aVF"] and agree == 2


def test_manifest_diagnostic_classes_are_ptbxl_s_and_uncovered_statements_are_named(data_dir):
    """The manifest's statement classes agree with scp_statements.csv; a model's gaps are named."""
    from beatnet_core.data.labels import read_scp_statements

    statements = read_scp_statements(data_dir / "ptbxl")
    labels = ["CD", "HYP", "MI", "NORM", "STTC", "AFIB", "SR", "SBRAD"]   # the bundled model's kind of label set
    outside = {}
    for row in samples.load_manifest():
        codes = [c for c in row["scp_codes"].split(";") if c]
        expected = ";".join(f"{c}:{statements.loc[c, 'diagnostic_class']}:{statements.loc[c, 'diagnostic_subclass']}"
                            for c in codes if statements.loc[c, "diagnostic"] == 1.0)
        assert row["diagnostic_classes"] == expected, row["key"]
        if codes:
            assert len(row["reference"]) == len(codes), row["key"]   # named in the same order
        outside[row["key"]] = samples.not_model_outputs(row, labels)
    assert outside["00382_hr"] == ["PACE (normal functioning artificial pacemaker)"]
    assert outside["00009_hr"] == [] and outside["00172_hr"] == []      # NORM/SR; CD (via CRBBB, LAFB) and SR
    assert outside["00240_hr"] == ["ABQRS (abnormal QRS)"]               # a form statement, no class
    assert outside["ludb_188"] == []                                      # no SCP codes: nothing claimed


def test_share_text_never_shows_a_bare_negative_share():
    """Shares are projections and can be negative; the note explains one instead of printing "-3%" alone."""
    from app.ui import share_text

    assert share_text(0.574, "beats'") == "57% of it"
    assert share_text(0.002, "beats'") == share_text(0.0, "beats'") == "under 1% of it"
    negative = share_text(-0.03, "beats'")
    assert negative.startswith("-3% of it") and "against the beats' part" in negative and "over 100%" in negative
