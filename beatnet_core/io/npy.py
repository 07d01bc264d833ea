"""NumPy ``.npy`` arrays (``numpy.save``) holding a 12-lead ECG.

Conventions
-----------
- One 2-D numeric array, samples x 12 leads in the standard order
  I, II, III, aVR, aVL, aVF, V1-V6. A 12 x samples array is transposed (the
  only layout with 12 rows and not 12 columns). Other lead counts are refused:
  an array carries no lead names, so a CSV with a header row is the way to
  give fewer or other leads.
- Values in mV.
- No sampling rate is stored: it must be given as ``load_ecg(..., fs=...)``.
- Pickled object arrays are never loaded (``allow_pickle=False``): unpickling
  an uploaded file can run arbitrary code.
"""
from __future__ import annotations

import io

import numpy as np

from beatnet_core.ecg import ECG, LEADS, ECGFormatError, make_ecg
from beatnet_core.io.source import Source

_MAGIC = b"\x93NUMPY"


def read_npy(src: Source, fs: float | None = None) -> ECG:
    """Read a ``.npy`` ECG array (see the module docstring for its layout)."""
    raw = src.read_bytes()
    if not raw.startswith(_MAGIC):
        raise ECGFormatError(f"{src.name}: not a NumPy .npy file (no NUMPY signature)")
    shape, dtype = _array_header(src.name, raw)
    if dtype.hasobject:
        raise ECGFormatError(f"{src.name}: holds pickled Python objects, which are never loaded "
                             "(unpickling can run code); save a numeric array, e.g. "
                             "np.save(path, signal.astype(np.float32))")
    if dtype.kind not in "fiu":
        raise ECGFormatError(f"{src.name}: holds {dtype} values, not numbers")
    if len(shape) != 2:
        raise ECGFormatError(f"{src.name}: array of shape {shape}; a 2-D samples x 12 leads array is needed")
    try:
        signal = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise ECGFormatError(f"{src.name}: array data unreadable, file truncated or corrupt ({exc})") from None

    n_leads = len(LEADS)
    meta = {"format": "NPY", "units_assumed": "mV"}
    if signal.shape[1] != n_leads and signal.shape[0] == n_leads:
        signal = signal.T
        meta["transposed"] = True
    elif signal.shape[1] != n_leads:
        raise ECGFormatError(f"{src.name}: array of shape {signal.shape}; a .npy ECG must hold the 12 "
                             f"standard leads ({', '.join(LEADS)}) as columns (or rows). For other "
                             "lead sets use a CSV whose header row names the leads")
    return make_ecg(signal, fs, LEADS, source=src.name, meta=meta)


def _array_header(filename: str, raw: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from the .npy header, checking the data is all there before loading it."""
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:  # 3.0 only differs for structured dtypes with non-Latin-1 field names
            raise ECGFormatError(f"{filename}: .npy format version {version} is not supported")
    except ECGFormatError:
        raise
    except (ValueError, EOFError, OSError) as exc:
        raise ECGFormatError(f"{filename}: corrupt .npy header ({exc})") from None
    if not dtype.hasobject:
        needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        available = len(raw) - stream.tell()
        if available < needed:
            raise ECGFormatError(f"{filename}: the header announces an array of shape {shape} "
                                 f"({needed} bytes) but only {available} bytes follow; file truncated")
    return tuple(shape), dtype
