"""Streamlit glue: the cached model, cached sample analyses, and this session's state.

Session state keys (all set here, read by the pages):

- ``analysis``: the current :class:`~app.analysis.Analysis` (None before the first record);
- ``input_error``: the last input problem (a message), shown once, the analysis kept;
- ``upload_ecg``, ``upload_sig``: the uploaded record (in memory only) and its identity;
- ``explanations``: Captum results of uploads, by (analysis key, label);
- ``teach``: the teaching mode's case, answers and score.
"""
from __future__ import annotations

import hashlib
import logging

import streamlit as st

from app import analysis as A
from app import samples

log = logging.getLogger("beatnet.app")


def _torch_threads() -> None:
    """One intra-op thread: BEAT-Net's tensors are small, and on a shared 2-core
    machine two OpenMP threads spin against each other: a 16-beat forward pass
    took 7 ms with one thread and 550 ms with two (measured while another process
    trained), and Integrated Gradients 1.9 s instead of 7 s."""
    try:
        import torch

        torch.set_num_threads(1)
    except Exception:  # pragma: no cover - torch is a hard dependency; never break the page for this
        pass


@st.cache_resource(show_spinner="Loading the BEAT-Net model…")
def load_predictor():
    """(predictor, None) or (None, message): the bundled model, loaded once per server process."""
    _torch_threads()
    try:
        try:
            from beatnet_core import BeatNetPredictor
        except ImportError:  # the public export may lag behind the module
            from beatnet_core.predict import BeatNetPredictor
    except ImportError:
        return None, ("The BEAT-Net inference module is not available in this installation, so no diagnosis "
                      "is shown; the trace and measurements still work.")
    try:
        return BeatNetPredictor.load(None), None
    except Exception as exc:
        log.exception("model load failed")
        return None, (f"The bundled model could not be loaded ({type(exc).__name__}: {exc}). "
                      "The trace and measurements still work.")


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Load the model and import neurokit2 once per process (~2 s), before the first record is chosen."""
    load_predictor()
    try:
        import neurokit2  # noqa: F401
    except Exception:  # pragma: no cover
        pass
    return True


@st.cache_resource(show_spinner=False, max_entries=64)
def sample_analysis(key: str) -> A.Analysis:
    """The analysis of a bundled sample, shared by every session (read-only)."""
    from beatnet_core import load_ecg

    row = samples.by_key(key)
    if row is None:
        raise A.InputError(f"Unknown sample {key!r}.")
    predictor, err = load_predictor()
    ecg = load_ecg(row["path"])
    a = A.analyse(ecg, predictor, name=row["title"], key=f"sample:{key}", reference=row["reference"],
                  sample=row, model_error=err)
    if predictor is not None:
        a.reference_not_output = samples.not_model_outputs(row, predictor.label_names)
    return a


@st.cache_resource(show_spinner=False)
def gallery_items() -> list[dict]:
    """Title and record of every bundled sample, for the gallery thumbnails."""
    from beatnet_core import load_ecg

    items = []
    for row in samples.load_manifest():
        try:
            items.append({"title": row["title"], "key": row["key"], "ecg": load_ecg(row["path"])})
        except Exception:  # a broken sample file must not break the page
            log.exception("sample %s unreadable", row["key"])
    return items


@st.cache_resource(show_spinner=False, max_entries=128)
def sample_explanation(key: str, label: str):
    """Captum explanation of one label of a bundled sample (shared, read-only)."""
    return _explain(sample_analysis(key), label)


def _explain(analysis: A.Analysis, label: str):
    from beatnet_core.explain import explain

    predictor, _ = load_predictor()
    ecg = analysis.ecg
    n = int(round(ecg.n_samples * analysis.prediction.tokens.fs / ecg.fs))
    return explain(predictor, analysis.prediction, label, n_samples=n)


def explanation(analysis: A.Analysis, label: str):
    """Captum explanation of ``label`` for the current analysis (cached per sample, or per session)."""
    if analysis.key.startswith("sample:"):
        return sample_explanation(analysis.key.split(":", 1)[1], label)
    store = st.session_state.setdefault("explanations", {})
    k = (analysis.key, label)
    if k not in store:
        if len(store) > 16:
            store.clear()
        store[k] = _explain(analysis, label)
    return store[k]


# --------------------------------------------------------------------------- session

def current() -> A.Analysis | None:
    return st.session_state.get("analysis")


def set_current(a: A.Analysis) -> None:
    st.session_state["analysis"] = a
    st.session_state.pop("input_error", None)


def set_error(message: str) -> None:
    st.session_state["input_error"] = message


def pop_error() -> str | None:
    return st.session_state.pop("input_error", None)


def choose_sample(key: str) -> None:
    """Make a bundled sample the current record (or record the error and keep the previous one)."""
    try:
        set_current(sample_analysis(key))
    except A.InputError as exc:
        set_error(str(exc))
    except Exception as exc:  # never a traceback on the page
        log.exception("sample analysis failed")
        set_error(f"The sample could not be analysed ({type(exc).__name__}: {exc}).")


def handle_upload(files, fs: float | None = None, page_start_s: float = 0.0) -> None:
    """Read and analyse uploaded files; on any problem keep the previous record and set the error."""
    sig = A.upload_signature(files)
    try:
        ecg = A.read_upload(files, fs=fs)
        name = ecg.meta.get("source", "uploaded record") if isinstance(ecg.meta, dict) else "uploaded record"
        predictor, err = load_predictor()
        digest = hashlib.sha1(repr(sig).encode()).hexdigest()[:12]
        a = A.analyse(ecg, predictor, name=str(name), key=f"upload:{digest}:{page_start_s:g}",
                      page_start_s=page_start_s, model_error=err)
    except A.InputError as exc:
        set_error(str(exc))
        return
    except Exception as exc:  # never a traceback on the page
        log.exception("upload analysis failed")
        set_error(f"The upload could not be analysed ({type(exc).__name__}). "
                  f"Accepted: {A.ACCEPTED_FORMATS}.")
        return
    st.session_state["upload_ecg"] = ecg
    st.session_state["upload_sig"] = sig
    set_current(a)


def repage(start_s: float) -> None:
    """Show another 10 s page of the current (long, uploaded) record."""
    a = current()
    ecg = st.session_state.get("upload_ecg")
    if a is None or ecg is None or not a.key.startswith("upload:"):
        return
    predictor, err = load_predictor()
    base = a.key.rsplit(":", 1)[0]
    try:
        set_current(A.analyse(ecg, predictor, name=a.name, key=f"{base}:{start_s:g}", page_start_s=start_s,
                              model_error=err))
    except A.InputError as exc:
        set_error(str(exc))
