"""Teach: case-based ECG reading on the bundled records, with the model's answer and the criteria."""
import streamlit as st

from app import cases, figures, samples, state, ui

CASES = [c for c in cases.CASES if samples.by_key(c.key) is not None]
T = st.session_state.setdefault("teach", {"i": 0, "answers": {}, "points": 0.0})


def _move(step: int) -> None:
    T["i"] = (T["i"] + step) % len(CASES)


def _check(case) -> None:
    chosen = st.session_state.get(f"answer_{case.key}") or []
    if case.key in T["answers"] or not chosen:
        return
    result = cases.score_answer(chosen, case)
    T["answers"][case.key] = result
    T["points"] += result["points"]


st.title("Teach")
if not CASES:
    st.warning("No teaching cases: the bundled sample ECGs are missing.")
    st.stop()
case = CASES[T["i"] % len(CASES)]
row = samples.by_key(case.key)
done = len(T["answers"])
head, score = st.columns([3, 1])
head.markdown(f"#### Case {T['i'] % len(CASES) + 1} of {len(CASES)}")
score.metric("Score", f"{T['points']:.1f} / {done}" if done else "–", help="One point per case; partly right "
             "answers get part of it (correct choices minus wrong ones, over the findings present).")
st.caption(f"{samples._age(row.get('age')) or 'age ?'}, {row.get('sex') or 'sex ?'} · 10 s, 12 leads · "
           f"{row['dataset']}")

try:
    a = state.sample_analysis(case.key)
except Exception as exc:
    st.error(f"This case could not be loaded ({type(exc).__name__}).")
    st.button("Next case", on_click=_move, args=(1,))
    st.stop()

answered = T["answers"].get(case.key)
ui.plot(figures.ecg_figure(a.ecg, a.r_peaks, layout="3x4", show_beats=answered is not None), key="teach_trace")

st.multiselect("Which findings are present? Select all that apply.", list(case.options), key=f"answer_{case.key}",
               disabled=answered is not None, placeholder="Choose findings…")
b1, b2, b3, _ = st.columns([1, 1, 1, 3])
b1.button("Check answer", type="primary", on_click=_check, args=(case,), disabled=answered is not None)
b2.button("Previous case", on_click=_move, args=(-1,))
b3.button("Next case", on_click=_move, args=(1,))

if answered is None:
    st.stop()

if answered["exact"]:
    st.success(f"Correct: {', '.join(case.findings)}.")
else:
    parts = []
    if answered["right"]:
        parts.append("right: " + ", ".join(answered["right"]))
    if answered["missed"]:
        parts.append("missed: " + ", ".join(answered["missed"]))
    if answered["wrong"]:
        parts.append("not present: " + ", ".join(answered["wrong"]))
    st.warning(f"{answered['points']:.1f} point. " + "; ".join(parts) + ".")
if case.point:
    st.info(case.point, icon=":material/lightbulb:")

left, right = st.columns(2, gap="large")
with left:
    st.markdown("##### Reference diagnosis (dataset)")
    st.markdown("  \n".join(a.reference) or "_none_")
    ui.not_output_note(a)
with right:
    st.markdown("##### The model's answer")
    pred = a.prediction
    if pred is None:
        st.markdown(a.model_error or "_no model output_")
    else:
        st.markdown("  \n".join(ui.label_text(c, pred) for c in sorted(a.labels, key=lambda c: -pred.probabilities[c]))
                    or "_no label over its threshold_")
        asked = [c for c in case.labels if c in pred.probabilities and c not in a.labels]
        if asked:
            st.caption("Probabilities of this case's findings that stayed under threshold: "
                       + ", ".join(f"{c} {pred.probabilities[c]:.0%}" for c in asked))

st.markdown("##### Checklist")
for finding in case.findings:
    st.markdown(f"**{finding}**")
    for k, crit in enumerate(cases.CRITERIA.get(finding, ())):
        where = f" — look at {', '.join(crit.leads)}" if crit.leads and len(crit.leads) < 12 else ""
        st.checkbox(crit.text + where, key=f"chk_{case.key}_{finding}_{k}")

if a.prediction is not None:
    st.markdown("##### Where the model looked")
    ui.plot(figures.attention_figure(a.ecg, a.r_peaks, a.prediction.lead_attention, a.prediction.beat_attention,
                                     height=620), key="teach_attention")
    ui.attention_parts_note(a.prediction)
st.caption("Credit: " + samples.credit(row))
