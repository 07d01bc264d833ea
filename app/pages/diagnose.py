"""Diagnose: choose a bundled sample or upload a record; see the trace, the diagnosis and the measurements."""
import streamlit as st

from app import analysis as A
from app import figures, report, samples, state, ui

LAYOUTS = {"3x4": "12-lead (3×4 + rhythm)", "12x1": "Stacked (12×1)"}


def _on_sample() -> None:
    key = st.session_state.get("sample_choice")
    if key:
        state.choose_sample(key)


def _on_upload() -> None:
    files = st.session_state.get("uploads") or []
    if files:
        st.session_state["sample_choice"] = None
        state.handle_upload(files, fs=st.session_state.get("upload_fs"))


def _on_page() -> None:
    state.repage(float(st.session_state.get("page_start", 0.0)))


st.title("Diagnose")
rows = samples.load_manifest()
pick, upload = st.columns([1, 1], gap="large")
with pick:
    st.selectbox("Sample ECG (real records from PTB-XL and LUDB)", [r["key"] for r in rows], index=None,
                 format_func=lambda k: samples.option_label(samples.by_key(k)), key="sample_choice",
                 placeholder="Choose a sample ECG…", on_change=_on_sample)
with upload:
    st.file_uploader(f"Or upload your own (max {A.MAX_UPLOAD_MB} MB; several files at once for WFDB .hea + .dat)",
                     accept_multiple_files=True, key="uploads", on_change=_on_upload,
                     max_upload_size=A.MAX_UPLOAD_MB,
                     help=f"Accepted: {A.ACCEPTED_FORMATS}. Files are read in memory and never stored.")
    with st.expander("File without a sampling rate (CSV, NPY)?"):
        st.number_input("Sampling rate (Hz)", min_value=50.0, max_value=10000.0, value=None, step=50.0,
                        key="upload_fs", placeholder="from the file",
                        help="Used only when the file does not state its own rate. Set it before uploading.")

error = state.pop_error()
if error:
    st.error(error, icon=":material/error:")

a = state.current()
if a is None:
    st.markdown("#### Bundled sample ECGs")
    st.caption("Lead II, first 3 s of each, at 25 mm/s and 10 mm/mV. Choose one above to see all 12 leads.")
    ui.plot(figures.gallery_figure(state.gallery_items()), key="gallery")
    st.dataframe([{"sample": r["title"], "reference diagnoses": "; ".join(r["reference"]), "age": r["age"],
                   "sex": r["sex"], "dataset": r["dataset"], "licence": r["license"]} for r in rows],
                 hide_index=True, width="stretch")
    st.caption("Sources: PTB-XL (Wagner et al., Sci Data 2020, CC BY 4.0) and LUDB (Kalyakulina et al., "
               "IEEE Access 2020, ODC-By), via PhysioNet. See the About page for full credits.")
    st.stop()

ui.record_header(a, credit=True)
ui.diagnosis_summary(a)

c1, c2, _ = st.columns([2, 1, 3])
with c1:
    layout = st.segmented_control("Layout", list(LAYOUTS), format_func=LAYOUTS.get, default="3x4",
                                  key="layout", label_visibility="collapsed") or "3x4"
with c2:
    beats = st.toggle("Beats", value=True, key="show_beats",
                      help="R peaks (dots) and the numbered window of each heartbeat token the model reads")
if a.key.startswith("upload:") and a.duration_s > A.PAGE_S + 0.5:
    st.slider("10 s page starting at (s)", 0.0, float(max(0.0, a.duration_s - A.PAGE_S)),
              value=float(a.page_start_s), step=5.0, key="page_start", on_change=_on_page)
ui.plot(figures.ecg_figure(a.ecg, a.r_peaks, layout=layout, show_beats=beats), key="trace")
st.caption("Drag to pan, scroll to zoom, double-click to reset. Shaded bands: the heartbeat tokens "
           "(0.256 s before to 0.448 s after each R peak).")

left, right = st.columns([6, 5], gap="large")
with left:
    st.markdown("##### Probabilities")
    st.caption("Bars: the model's probability; black tick: the label's decision threshold (dark bars pass it).")
    if a.prediction is not None:
        p = a.prediction
        ui.plot(figures.probability_figure(p.probabilities, p.thresholds, p.descriptions, top=8), key="probs")
        if len(p.probabilities) > 8:
            with st.expander(f"All {len(p.probabilities)} labels"):
                ui.plot(figures.probability_figure(p.probabilities, p.thresholds, p.descriptions), key="probs_all")
    else:
        st.markdown("_No model output._")
with right:
    st.markdown("##### Measurements")
    ui.measurements_table(a)

st.markdown("##### Export")
stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in a.name)[:60] or "ecg"
e1, e2, e3, _ = st.columns([1, 1, 1, 2])
e1.download_button("PNG report", data=lambda: report.render(a, "png"), file_name=f"beatnet_{stem}.png",
                   mime="image/png", on_click="ignore", icon=":material/image:")
e2.download_button("PDF report", data=lambda: report.render(a, "pdf"), file_name=f"beatnet_{stem}.pdf",
                   mime="application/pdf", on_click="ignore", icon=":material/picture_as_pdf:")
e3.download_button("JSON", data=A.export_json(a), file_name=f"beatnet_{stem}.json",
                   mime="application/json", on_click="ignore", icon=":material/data_object:")
