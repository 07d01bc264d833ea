"""About: the model card, how BEAT-Net works, the data and its credits, the limits."""
from pathlib import Path

import streamlit as st

from app import figures, samples, ui

ROOT = Path(__file__).resolve().parents[2]
MODEL_CARD = ROOT / "assets" / "MODEL_CARD.md"

st.title("About BEAT-Net")
st.markdown(
    "BEAT-Net reads a 12-lead ECG the way a clinician does: beat by beat, comparing the leads, then following "
    "the rhythm. It is a re-implementation of Ma & Liao, *BEAT-Net: Injecting Biomimetic Spatio-Temporal Priors "
    "for Interpretable ECG Classification* (arXiv 2601.07316).")

st.markdown("#### How it works")
ui.plot(figures.pipeline_figure(), key="pipeline")
st.markdown(
    "1. **Find the beats.** A QRS detector that combines all 12 leads finds each heartbeat's R peak. Around each "
    "R peak it cuts a window from 0.256 s before to 0.448 s after: long enough for the P wave, the QRS and the T "
    "wave. One window in all 12 leads is one *token*.\n"
    "2. **Read each beat.** A small convolutional network turns each lead's window into a description of its "
    "shape, the same network for every lead. A second one reads all 12 leads of the beat together, as a "
    "cardiologist times a QRS across all leads (its onset in the earliest lead, its end in the latest); each "
    "lead's description can consult this whole-beat view.\n"
    "3. **Compare the leads.** *Lead attention* decides, for each beat, how much each of the 12 views counts "
    "(e.g. V1 for a right bundle branch block); the whole-beat view is added to the result. The weights are "
    "shown on the Explain page, with the whole-beat view's share beside them.\n"
    "4. **Follow the rhythm.** A transformer reads the beats in time order with their real timing (RR "
    "intervals); *beat attention* decides how much each beat counts. Beside the beats, the model reads the "
    "rate and regularity of the whole strip from its RR intervals (mean, variation, beat-to-beat jumps, "
    "longest against shortest): a cardiologist's first look, how fast and how regular.\n"
    "5. **Diagnose.** One probability per diagnosis; a label is reported when its probability passes its own "
    "decision threshold, chosen on validation data.\n\n"
    "Attention is what the model weighted; the Explain page also shows *attributions* (Integrated Gradients and "
    "hiding one lead or beat at a time), which measure what each diagnosis actually depends on.")

st.markdown("#### Model card")
if MODEL_CARD.is_file():
    with st.expander("Model card (assets/MODEL_CARD.md)", expanded=True):
        st.markdown(MODEL_CARD.read_text(encoding="utf-8"))
else:
    st.info("The model card (assets/MODEL_CARD.md) is not in this installation yet. It will describe the "
            "training data, the label set, the thresholds and the measured performance of the bundled model.")

st.markdown("#### Data and credits")
st.markdown(
    "- **PTB-XL** 1.0.3: Wagner P., Strodthoff N., Bousseljot R.-D., et al. *PTB-XL, a large publicly available "
    "electrocardiography dataset.* Scientific Data 7, 154 (2020). CC BY 4.0. Training data of the bundled model; "
    "the sample records come from its test fold (strat_fold 10), never used for training.\n"
    "- **LUDB** 1.0.1: Kalyakulina A.I., Yusipov I.I., Moskalenko V.A., et al. *LUDB: A New Open-Access "
    "Validation Tool for Electrocardiogram Delineation Algorithms.* IEEE Access 8 (2020). ODC-By 1.0. External "
    "records (another hospital, device and country).\n"
    "- **MIT-BIH Arrhythmia Database**: Moody G.B., Mark R.G. IEEE Eng Med Biol 20(3):45-50 (2001). ODC-By.\n"
    "- **PhysioNet**: Goldberger A. et al. *PhysioBank, PhysioToolkit, and PhysioNet.* Circulation "
    "101(23):e215-e220 (2000).\n"
    "- Interval delineation: **NeuroKit2** (Makowski D. et al., Behavior Research Methods 53:1689-1696, 2021). "
    "Attributions: **Captum** (Kokhlikyan N. et al., arXiv 2009.07896, 2020).")
rows = samples.load_manifest()
if rows:
    with st.expander(f"The {len(rows)} bundled sample ECGs"):
        for r in rows:
            st.markdown(f"- **{r['title']}** — {samples.credit(r)}")

st.markdown("#### Limits")
st.markdown(
    "- **Not a medical device.** Not validated for clinical use; do not use it to make decisions about patients.\n"
    "- Trained on PTB-XL: 10 s resting 12-lead ECGs from one German centre (1989-1996), mostly adults. Other "
    "devices, populations, children, exercise or ambulatory recordings may be read less well.\n"
    "- Only the diagnoses in the model's label set can be reported; anything else (e.g. a rare arrhythmia) is "
    "invisible to it. A record longer than 10 s is read one 10 s page at a time.\n"
    "- Probabilities are the model's scores, not calibrated risks for a given patient.\n"
    "- Attention and attributions show what the *model* used, which is not necessarily what is clinically "
    "relevant; they are for checking and teaching, not proof.\n"
    "- Measurements are automatic (beat detection and NeuroKit2 delineation); check them on the trace.")
