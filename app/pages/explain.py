"""Explain: where the model looked (attention) and what each diagnosis depends on (Captum attributions)."""
import streamlit as st

from app import cases, figures, state, ui

st.title("Explain")
a = state.current()
if a is None:
    ui.no_record_yet()
    st.stop()

ui.record_header(a)
pred = a.prediction
if pred is None:
    st.warning("There is no model output to explain for this record.")
    st.stop()
ui.diagnosis_summary(a)

st.markdown("#### Attention: where the model looked")
st.caption("From the same forward pass as the diagnosis, the same for every label. Beat attention: how much each "
           "beat contributed to the record's summary. Lead attention: for each beat, how the 12 leads were mixed.")
ui.plot(figures.attention_figure(a.ecg, a.r_peaks, pred.lead_attention, pred.beat_attention), key="attention")
ui.attention_parts_note(pred)

st.markdown("#### Attribution: what one diagnosis depends on")
predictor, _ = state.load_predictor()
names = list(getattr(predictor, "label_names", None) or pred.probabilities)
names.sort(key=lambda c: -pred.probabilities.get(c, 0.0))
label = st.selectbox("Diagnosis to explain", names, index=names.index(a.top_label()) if a.top_label() in names else 0,
                     format_func=lambda c: f"{c} · {pred.descriptions.get(c, '')} ({pred.probabilities.get(c, 0):.0%})",
                     key="explain_label")
try:
    with st.spinner(f"Computing Integrated Gradients and lead/beat ablation for {label}…"):
        ex = state.explanation(a, label)
except Exception as exc:  # keep the page (and the attention above) usable
    st.error(f"The attributions for {label} could not be computed ({type(exc).__name__}: {exc}).")
    st.stop()

ui.plot(figures.ecg_figure(a.ecg, a.r_peaks, layout="3x4", show_beats=False, attribution=ex.input,
                           attribution_fs=ex.fs, attribution_label=label), key="ig_trace")
st.caption("Integrated Gradients on the input signal (reference: a flat line), summed per millimetre of paper: "
           "red parts of the trace raised the model's score for this label, blue parts lowered it.")

ui.plot(figures.lead_comparison_figure(ex.attention_leads, ex.leads, a.ecg.lead_mask, label), key="lead_cmp")
ui.plot(figures.beat_comparison_figure(pred.beat_attention[: a.n_beats], ex.beats, label), key="beat_cmp")
st.caption("Attribution by ablation (Captum FeatureAblation): each lead, or each beat, is hidden from the model "
           "through its mask (as for a missing lead), and the change of the label's log-odds is recorded.")

h = cases.heuristic(label)
top, agree = cases.agreement(ex.ranked_leads, label)
left, right = st.columns(2, gap="large")
with left:
    st.markdown(f"##### Model's lead ranking for {label}")
    st.markdown(" › ".join(f"**{l}**" if l in h.leads else l for l in ex.ranked_leads))
    st.caption("Leads ordered by how much hiding them lowers the score (bold: leads clinicians read for it).")
with right:
    st.markdown(f"##### Where clinicians read {label}")
    st.markdown(", ".join(h.leads) + f": {h.why}.")
    if len(h.leads) < 12:
        st.markdown(f"Agreement: **{agree} of {len(h.leads)}** of the model's top {len(h.leads)} leads "
                    f"({', '.join(top)}) are among them.")
