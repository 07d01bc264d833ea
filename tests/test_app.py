"""Every page of the Streamlit app, run headless with streamlit.testing.v1.AppTest.

Each test starts a fresh app session. The model is the bundled one when it
is there, else an untrained BEAT-Net behind the same predictor interface
(see tests/_app_helpers.py): these tests check the app, not the diagnoses.
"""
from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from _app_helpers import ROOT, SAMPLES, predictor_class, predictor_for_tests

MAIN = str(ROOT / "app" / "main.py")
TIMEOUT = 60


@pytest.fixture(autouse=True)
def app_predictor(monkeypatch):
    """Serve the tests' predictor through the app's normal loading path; fresh caches per test."""
    predictor, bundled = predictor_for_tests()
    if not bundled:
        monkeypatch.setattr(predictor_class(), "load", classmethod(lambda cls, path=None: predictor))
    st.cache_resource.clear()
    yield predictor
    st.cache_resource.clear()


def _no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


def _start(page=None):
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    at.run()
    _no_exception(at)
    if page:
        at.switch_page(page).run()
        _no_exception(at)
    return at


def _choose(at, key):
    at.selectbox(key="sample_choice").select(key).run()
    _no_exception(at)
    return at


def _markdown(at):
    return "\n".join(m.value for m in at.markdown)


def test_diagnose_page_loads_with_gallery_and_notice():
    at = _start()
    assert any("Not a medical device" in c.value for c in at.caption)
    assert sum("Not a medical device" in c.value for c in at.caption) == 1         # shown once
    assert len(at.selectbox(key="sample_choice").options) >= 8
    assert at.dataframe, "the gallery table of samples"
    assert not at.error


def test_choose_sample_shows_trace_diagnosis_and_measurements(app_predictor):
    at = _choose(_start(), "00318_hr")
    assert at.subheader[0].value == "Atrial fibrillation"
    text = _markdown(at)
    assert "Model diagnosis" in text and "Reference diagnosis" in text
    assert "AFIB (atrial fibrillation)" in text                                     # the dataset's label
    assert any("Not among this model's outputs" in c.value and "STD_ (non-specific ST depression)" in c.value
               and "AFIB" not in c.value for c in at.caption)                      # a form statement: no output
    pred = at.session_state["analysis"].prediction
    shown = [c for c in pred.labels] or [max(pred.probabilities, key=pred.probabilities.get)]
    assert all(f"**{c}**" in text for c in shown)
    assert "Heart rate" in text and "PR interval" in text and "not measurable" in text   # no P waves in AF
    charts = at.get("plotly_chart")
    assert len(charts) >= 2                                                          # trace + probabilities
    assert not at.error
    assert len(at.get("download_button")) == 3


def test_switch_to_stacked_layout():
    at = _choose(_start(), "00009_hr")
    at.button_group(key="layout").set_value("12x1").run()
    _no_exception(at)
    assert at.session_state["layout"] == "12x1"


@pytest.mark.parametrize("files, message", [
    ([("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")], "not an ECG"),
    ([("00009_hr.hea", (SAMPLES / "00009_hr.hea").read_bytes(), "text/plain")], ".dat"),
    ([("empty.csv", b"", "text/csv")], "empty"),
    ([("junk.bin", bytes(range(256)) * 4, "application/octet-stream")], "Accepted"),
])
def test_bad_upload_shows_the_error_and_keeps_the_previous_record(files, message):
    at = _choose(_start(), "00009_hr")
    at.file_uploader(key="uploads").set_value(files).run()
    _no_exception(at)
    assert at.error and message in at.error[0].value, [e.value for e in at.error]
    assert at.subheader[0].value == "Normal ECG, sinus rhythm"                      # previous result kept
    assert "Model diagnosis" in _markdown(at)


def test_bad_upload_on_a_fresh_session_shows_only_the_error():
    at = _start()
    at.file_uploader(key="uploads").set_value(("flat.csv", b"I,II\n" + b"0,0\n" * 3000, "text/csv")).run()
    _no_exception(at)
    assert at.error
    assert not at.subheader


def test_upload_wfdb_header_and_data_together():
    at = _start()
    files = [(f"00172_hr.{ext}", (SAMPLES / f"00172_hr.{ext}").read_bytes(), "application/octet-stream")
             for ext in ("hea", "dat")]
    at.file_uploader(key="uploads").set_value(files).run()
    _no_exception(at)
    assert not at.error
    assert "00172_hr" in at.subheader[0].value
    assert at.session_state["analysis"].n_beats >= 10


def test_upload_long_csv_is_read_in_10_s_pages():
    from beatnet_core import load_ecg

    x = load_ecg(SAMPLES / "00009_hr.hea").signal
    long = np.vstack([x, x, x])                                         # 30 s
    lines = ["I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6"] + [",".join(f"{v:.4f}" for v in row) for row in long[::2]]
    at = _start()
    at.number_input(key="upload_fs").set_value(250.0).run()
    at.file_uploader(key="uploads").set_value(("long.csv", "\n".join(lines).encode(), "text/csv")).run()
    _no_exception(at)
    assert not at.error, [e.value for e in at.error]
    a = at.session_state["analysis"]
    assert a.duration_s == pytest.approx(30.0, abs=0.1) and a.ecg.duration_s == pytest.approx(10.0, abs=0.1)
    at.slider(key="page_start").set_value(15.0).run()
    _no_exception(at)
    assert at.session_state["analysis"].page_start_s == pytest.approx(15.0)


def test_explain_page_without_a_record():
    at = _start("pages/explain.py")
    assert at.info and "No ECG yet" in at.info[0].value


def test_explain_page_shows_attention_and_attributions(app_predictor):
    at = _choose(_start(), "00172_hr")
    at.switch_page("pages/explain.py").run()
    _no_exception(at)
    assert not at.error
    assert len(at.get("plotly_chart")) == 4          # attention, IG trace, lead and beat comparisons
    text = _markdown(at)
    assert "Model's lead ranking for" in text and "Where clinicians read" in text
    other = [c for c in app_predictor.label_names if c != at.selectbox(key="explain_label").value][0]
    at.selectbox(key="explain_label").select(other).run()
    _no_exception(at)
    assert f"Model's lead ranking for {other}" in _markdown(at)


@pytest.mark.parametrize("part, phrase", [("whole_beat_pooled", "the whole beat"),
                                          ("rhythm_summary", "RR regularity")],
                         ids=["whole-beat-share", "rhythm-summary-share"])
def test_explain_page_gives_the_share_of_what_the_heatmaps_do_not_cover(monkeypatch, part, phrase):
    """Today's model: its beat (record) vectors also carry a whole-beat reading (the RR statistics), so the
    lead (beat) heatmap covers only the rest, and the page says how much that part is; without it, no note."""
    from _app_helpers import untrained_predictor

    for model, noted in [(untrained_predictor(), True), (untrained_predictor(**{part: False}), False)]:
        monkeypatch.setattr(predictor_class(), "load", classmethod(lambda cls, path=None, m=model: m))
        st.cache_resource.clear()
        at = _choose(_start(), "00172_hr")
        at.switch_page("pages/explain.py").run()
        _no_exception(at)
        assert any(phrase in c.value and "%" in c.value for c in at.caption) == noted


def test_teach_page_scores_an_answer_and_moves_on():
    at = _start("pages/teach.py")
    assert "Case 1 of" in _markdown(at)
    assert len(at.get("plotly_chart")) == 1
    at.multiselect(key="answer_00009_hr").set_value(["Normal ECG", "Sinus rhythm"]).run()
    at.button[0].click().run()                                     # Check answer
    _no_exception(at)
    assert at.success and "Correct" in at.success[0].value
    assert at.session_state["teach"]["points"] == pytest.approx(1.0)
    assert "Checklist" in _markdown(at) and at.checkbox                # the criteria
    assert len(at.get("plotly_chart")) == 2                           # + where the model looked
    next_button = [b for b in at.button if b.label == "Next case"][0]
    next_button.click().run()
    _no_exception(at)
    assert "Case 2 of" in _markdown(at)
    at.multiselect(key="answer_00318_hr").set_value(["Sinus rhythm"]).run()
    [b for b in at.button if b.label == "Check answer"][0].click().run()
    _no_exception(at)
    assert at.warning and "missed: Atrial fibrillation" in at.warning[0].value
    assert at.session_state["teach"]["points"] == pytest.approx(1.0)


def test_about_page(monkeypatch, tmp_path):
    at = _start("pages/about.py")
    text = _markdown(at)
    assert "How it works" in text and "Limits" in text and "PTB-XL" in text and "LUDB" in text
    assert len(at.get("plotly_chart")) == 1
    card = ROOT / "assets" / "MODEL_CARD.md"
    if card.is_file():
        assert at.expander
    else:
        assert any("model card" in i.value.lower() for i in at.info)
