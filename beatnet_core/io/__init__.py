"""Reading ECG files: one reader per format, chosen by :func:`load_ecg`."""
from beatnet_core.io.load import MAX_UPLOAD_BYTES, load_ecg

__all__ = ["load_ecg", "MAX_UPLOAD_BYTES"]
