"""BEAT-Net core: read an ECG, cut it into heartbeat tokens, classify and explain.

The public API (everything the app and the CLI use)::

    load_ecg(source, fs=None) -> ECG          # any supported file, path or upload bytes
    detect_qrs(ecg) -> np.ndarray             # R-peak sample indices, all leads fused
    tokenize(ecg) -> BeatTokens               # beats x leads x samples, RR, masks
    BeatNetPredictor.load().predict(ecg)      # diagnosis + lead/beat attention
    ECGFormatError                            # what every bad input raises
"""
from beatnet_core.ecg import ECG, LEADS, ECGFormatError
from beatnet_core.io import load_ecg
from beatnet_core.qrs import detect_qrs
from beatnet_core.predict import BeatNetPredictor, Prediction
from beatnet_core.tokenizer import BeatTokens, tokenize

__all__ = ["ECG", "LEADS", "ECGFormatError", "load_ecg", "detect_qrs", "tokenize", "BeatTokens",
           "BeatNetPredictor", "Prediction"]
__version__ = "0.1.0"
