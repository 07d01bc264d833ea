"""BEAT-Net's clinician-facing Streamlit app. Entry point: ``streamlit run app/main.py`` (see scripts/start.sh)."""
