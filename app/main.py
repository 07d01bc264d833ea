"""BEAT-Net app: the one entry point (``streamlit run app/main.py``; scripts/start.sh starts it).

Pages are thin (app/pages/); figures, measurements, uploads and state live in
plain modules of ``app`` so they can be tested without a browser.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="BEAT-Net · interpretable ECG", page_icon="🫀", layout="wide",
                   menu_items={"About": "BEAT-Net: interpretable 12-lead ECG diagnosis on heartbeat tokens. "
                                        "Not a medical device."})

from app import state  # noqa: E402

NOTICE = "⚠️ **Not a medical device.** BEAT-Net is for education and research only; never use it for patient care."

log = logging.getLogger("beatnet.app")

PAGES = [
    st.Page("pages/diagnose.py", title="Diagnose", icon=":material/monitor_heart:", default=True),
    st.Page("pages/explain.py", title="Explain", icon=":material/insights:"),
    st.Page("pages/teach.py", title="Teach", icon=":material/school:"),
    st.Page("pages/about.py", title="About", icon=":material/info:"),
]

nav = st.navigation(PAGES)
st.html("<style>.block-container{padding-top:3.8rem;padding-bottom:2rem}"
        "h1{padding-top:0.2rem !important;font-size:2rem !important}"
        "[data-testid='stHeaderActionElements']{display:none}</style>")
st.caption(NOTICE)
with st.sidebar:
    a = state.current()
    if a is not None:
        st.caption(f"Current record: **{a.name}**")
state.warm_up()
try:
    nav.run()
except Exception:  # st.stop/st.rerun are BaseExceptions and pass through; anything else: a message, not a traceback
    log.exception("page failed")
    st.error("Something went wrong on this page. Your current record is kept: try again, or choose another record.")
