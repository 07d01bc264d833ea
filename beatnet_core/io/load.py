"""``load_ecg``: turn a path or uploaded bytes into a checked :class:`~beatnet_core.ecg.ECG`."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from beatnet_core.ecg import ECG, ECGFormatError
from beatnet_core.io.source import Source

#: Largest upload accepted (bytes). A 24 h 2-lead Holter at 360 Hz in
#: MIT-BIH's format 212 is ~93 MB; a 10 s 12-lead record is under 1 MB.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def load_ecg(source, fs: float | None = None, *, name: str | None = None,
             max_bytes: int = MAX_UPLOAD_BYTES) -> ECG:
    """Read a 12-lead (or fewer-lead) ECG from a file or from uploaded bytes.

    Parameters
    ----------
    source : str, os.PathLike, bytes, mapping or sequence of uploads
        - a path: ``record.hea`` / ``record.dat`` / ``record`` (WFDB, any
          signal format wfdb reads, incl. PhysioNet Challenge ``.hea`` +
          ``.mat``), ``.csv``/``.txt``, ``.npy``, ``.edf``, ``.dcm``;
        - ``bytes`` of one file, with ``name=`` giving its file name;
        - several uploaded files together (a WFDB header and its data file):
          a mapping ``{file name: bytes}``, or a sequence of ``(name, bytes)``
          pairs or of objects with ``.name`` and ``.getvalue()`` (Streamlit's
          ``UploadedFile``).
    fs : float, optional
        Sampling rate in Hz, for formats that do not carry it (CSV without a
        rate, ``.npy``). Ignored when the file states its own rate.
    name : str, optional
        File name of ``bytes`` input (its extension selects the reader).
    max_bytes : int
        Upload size limit; larger uploads are refused (files on disk are not
        limited, so long Holter recordings can be read from a path).

    Returns
    -------
    ECG
        Signal in mV (samples x 12, canonical lead order), with lead mask and meta.

    Raises
    ------
    ECGFormatError
        With the file name and what is wrong, for anything that is not a readable ECG.

    Examples
    --------
    >>> from beatnet_core import load_ecg
    >>> ecg = load_ecg("../shared/data/ludb/data/1.hea")  # doctest: +SKIP
    >>> ecg.fs, ecg.signal.shape
    (500.0, (5000, 12))
    """
    src = _to_source(source, name, max_bytes)
    reader = _pick_reader(src)
    try:
        return reader(src, fs)
    except ECGFormatError:
        raise
    except MemoryError:
        raise ECGFormatError(f"{src.name}: too large to read into memory") from None
    except Exception as exc:  # a library failed on a malformed file: say so, by file
        raise ECGFormatError(f"{src.name}: could not be read as {reader.__module__.rsplit('.', 1)[-1].upper()} "
                             f"({type(exc).__name__}: {exc})") from exc


def _to_source(source, name, max_bytes) -> Source:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists() and path.with_suffix(".hea").exists():
            path = path.with_suffix(".hea")  # WFDB record name given without extension
        if not path.is_file():
            raise ECGFormatError(f"{path}: no such file")
        return Source(name=str(path), path=path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not name:
            raise ECGFormatError("uploaded bytes need a file name (name=...) to tell their format")
        files = {Path(name).name: bytes(source)}
    elif isinstance(source, Mapping):
        files = {Path(str(k)).name: bytes(v) for k, v in source.items()}
    elif hasattr(source, "getvalue") and hasattr(source, "name"):
        files = {Path(source.name).name: bytes(source.getvalue())}
    else:
        try:
            items = list(source)
        except TypeError:
            raise ECGFormatError(f"cannot read an ECG from a {type(source).__name__}") from None
        files = {}
        for item in items:
            if hasattr(item, "getvalue") and hasattr(item, "name"):
                files[Path(item.name).name] = bytes(item.getvalue())
            else:
                n, data = item
                files[Path(str(n)).name] = bytes(data)
    if not files:
        raise ECGFormatError("no file was given")
    total = sum(len(v) for v in files.values())
    if total > max_bytes:
        raise ECGFormatError(f"{', '.join(files)}: upload is {total / 2**20:.1f} MB; the limit is "
                             f"{max_bytes / 2**20:.0f} MB")
    return Source(name=_primary_name(files, name), files=files)


def _primary_name(files: dict[str, bytes], name: str | None) -> str:
    if name and Path(name).name in files:
        return Path(name).name
    headers = [f for f in files if f.lower().endswith(".hea")]
    if headers:
        return headers[0]
    return next(iter(files))


def _pick_reader(src: Source):
    from beatnet_core.io import wfdb as wfdb_reader

    suffix = src.suffix
    if suffix in (".hea", ".dat", ".mat", "") or src.has(src.stem + ".hea"):
        return wfdb_reader.read_wfdb
    raise ECGFormatError(f"{src.name}: unsupported file type {suffix or '(no extension)'}; "
                         "accepted: WFDB (.hea + data file), CSV, NPY, EDF/EDF+, DICOM")
