"""Small Streamlit building blocks shared by the pages (what to show; the data comes from app.analysis)."""
from __future__ import annotations

import streamlit as st

from app import figures, samples


def no_record_yet() -> None:
    st.info("No ECG yet: choose a sample or upload a record on the **Diagnose** page.")
    st.page_link("pages/diagnose.py", label="Go to Diagnose", icon=":material/monitor_heart:")


def record_header(a, credit: bool = False) -> None:
    """Record name and one line of facts (and, with ``credit``, the sample's source)."""
    st.subheader(a.name)
    ecg = a.ecg
    facts = [f"{ecg.duration_s:.1f} s at {ecg.fs:g} Hz", f"{a.n_beats} beats",
             f"{len(ecg.available_leads)} leads"]
    if a.sample:
        who = ", ".join(x for x in (samples._age(a.sample.get("age")), a.sample.get("sex", "")) if x)
        if who:
            facts.append(who)
        source = f"[{a.sample['dataset']}, {a.sample['record']}]({a.sample['source']}), {a.sample['license']}"
        facts.append(source if credit else a.sample["dataset"])
    st.caption(" · ".join(facts))
    for note in a.notes:
        st.info(note, icon=":material/info:")
    if a.model_error:
        st.warning(a.model_error, icon=":material/warning:")


def label_text(code: str, pred) -> str:
    desc = pred.descriptions.get(code, "")
    p = pred.probabilities.get(code, float("nan"))
    return f"**{code}** {desc} · {p:.0%}" if desc else f"**{code}** · {p:.0%}"


def diagnosis_summary(a) -> None:
    """The model's answer in one glance, and the reference diagnoses beside it."""
    pred = a.prediction
    left, right = st.columns([3, 2])
    with left:
        st.markdown("##### Model diagnosis")
        if pred is None:
            st.markdown("_No model diagnosis for this record._")
        elif a.labels:
            ordered = sorted(a.labels, key=lambda c: -pred.probabilities.get(c, 0.0))
            st.markdown("  \n".join(label_text(c, pred) for c in ordered))
        else:
            top = a.top_label()
            st.markdown(f"No label over its decision threshold (highest: {label_text(top, pred)}).")
    with right:
        st.markdown("##### Reference diagnosis")
        if a.reference:
            st.markdown("  \n".join(a.reference))
        else:
            st.markdown("_None recorded with this file._")
        not_output_note(a)


def not_output_note(a) -> None:
    """Which reference statements the model has no output for (it answers with its nearest label)."""
    if a.reference_not_output:
        st.caption("Not among this model's outputs, so it cannot confirm or miss them: "
                   + "; ".join(a.reference_not_output)
                   + ". It reads the record with the labels it has (see the model card).")


def share_text(share: float, rest: str) -> str:
    """A part's share of a vector, in words: "57% of it", "under 1% of it", or negative with what that means.

    Shares are projections, so a part that points against ``rest`` (the part the
    heatmap splits) has a negative share; a clinician should not be shown "-3 %" bare.
    """
    if share >= 0.005:
        return f"{share:.0%} of it"
    if share >= 0:
        return "under 1% of it"
    return f"{share:.0%} of it (it points against the {rest} part, whose share is then over 100%)"


def attention_parts_note(pred) -> None:
    """Beside the heatmaps: what else the model read besides the leads and beats they show, and how much.

    Only for a model with such parts: a 12-lead whole-beat reading in each beat
    vector, the rate and RR regularity in the record vector.
    """
    from beatnet_core.explain import attention_whole_beat_share

    share = attention_whole_beat_share(pred)
    if share is not None:
        part = share_text(share, "leads'")
        st.caption(f"Besides its 12 leads, each beat vector carries the model's reading of all 12 leads at once "
                   f"(the whole beat): {part} in this record, weighted by beat attention. The lead attention "
                   "splits the rest; the Integrated Gradients on the Explain page cover both.")
    summary = getattr(pred, "rhythm_summary_share", None)
    if summary is not None:
        part = share_text(summary, "beats'")
        st.caption(f"Besides its beats, the record summary carries the rate and RR regularity read off all RR "
                   f"intervals at once (mean, variation, beat-to-beat jumps, longest against shortest; compare the "
                   f"heart rate and RR variability measured): {part} in this record. The beat attention "
                   "splits the rest.")


def measurements_table(a) -> None:
    """The measurements as a compact table; values outside their normal range in red with ▲/▼."""
    arrow = {"low": " ▼", "high": " ▲"}
    lines = ["| | value | normal |", "|---|---|---|"]
    for m in a.measurements:
        value = m.text + arrow.get(m.flag, "")
        if m.abnormal:
            value = f":red[**{value}**]"
        elif m.flag == "not measurable":
            value = f":gray[{value}]"
        lines.append(f"| {m.name} | {value} | {m.normal} |")
    st.markdown("\n".join(lines))
    with st.expander("How these were measured"):
        for m in a.measurements:
            st.markdown(f"- **{m.name}**: {m.note or '—'}")


def plot(fig, key: str) -> None:
    st.plotly_chart(fig, config=figures.PLOT_CONFIG, key=key, theme=None)
