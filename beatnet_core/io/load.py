"""``load_ecg``: turn a path or uploaded bytes into a checked :class:`~beatnet_core.ecg.ECG`."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from beatnet_core.ecg import ECG, ECGFormatError
from beatnet_core.io.sniff import HEAD_BYTES, describe_non_ecg, sniff_format, wfdb_record_name
from beatnet_core.io.source import Source

#: Largest upload accepted (bytes). A 24 h 2-lead Holter at 360 Hz in
#: MIT-BIH's format 212 is ~93 MB; a 10 s 12-lead record is under 1 MB.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def load_ecg(source, fs: float | None = None, *, name: str | None = None,
             max_bytes: int | None = None) -> ECG:
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
        rate, ``.npy``). Ignored when the file states its own rate; a
        different ``fs`` is then noted in ``meta['fs_argument_ignored']``.
    name : str, optional
        File name of ``bytes`` input. Its extension selects the reader when
        the content has no signature of its own (CSV, a WFDB signal file);
        DICOM, EDF, NPY and WFDB headers are recognised by their content,
        whatever the name. With several uploads, ``name`` picks the record.
    max_bytes : int, optional
        Upload size limit in bytes (default :data:`MAX_UPLOAD_BYTES`); larger
        uploads are refused. Files on disk are not limited, so long Holter
        recordings can be read from a path.

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
    if fs is not None:
        try:
            fs = float(fs)
        except (TypeError, ValueError):
            raise ECGFormatError(f"fs={fs!r} is not a sampling rate in Hz") from None
    src = _to_source(source, name, MAX_UPLOAD_BYTES if max_bytes is None else max_bytes)
    reader = None
    try:
        reader = _pick_reader(src)
        ecg = reader(src, fs)
    except ECGFormatError:
        raise
    except MemoryError:
        raise ECGFormatError(f"{src.name}: too large to read into memory") from None
    except Exception as exc:  # a library failed on a malformed file: say so, by file
        fmt = reader.__module__.rsplit(".", 1)[-1].upper() if reader else "an ECG"
        raise ECGFormatError(f"{src.name}: could not be read as {fmt} "
                             f"({type(exc).__name__}: {exc})") from exc
    if fs is not None and abs(fs - ecg.fs) > 1e-6 * ecg.fs:
        ecg.meta["fs_argument_ignored"] = fs  # the file's own rate wins; keep a trace
    return ecg


def _to_source(source, name, max_bytes) -> Source:
    """Wrap a path, bytes or a set of uploads in a :class:`Source`, refusing oversize uploads."""
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
        uploads = [(name, source)]
    elif isinstance(source, Mapping):
        uploads = list(source.items())
    elif hasattr(source, "getvalue") and hasattr(source, "name"):
        uploads = [(source.name, source.getvalue())]
    else:
        try:
            items = list(source)
        except TypeError:
            raise ECGFormatError(f"cannot read an ECG from a {type(source).__name__}") from None
        uploads = []
        for item in items:
            if hasattr(item, "getvalue") and hasattr(item, "name"):
                uploads.append((item.name, item.getvalue()))
            elif isinstance(item, tuple) and len(item) == 2:
                uploads.append(item)
            else:
                raise ECGFormatError(f"cannot read an upload from a {type(item).__name__}; give "
                                     "(name, bytes) pairs or objects with .name and .getvalue()")
    if not uploads:
        raise ECGFormatError("no file was given")
    files: dict[str, bytes] = {}
    for upload_name, data in uploads:
        filename = _safe_file_name(upload_name)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ECGFormatError(f"{filename}: upload content must be bytes, not {type(data).__name__}")
        if filename in files:
            raise ECGFormatError(f"{filename}: uploaded twice")
        files[filename] = data
    # Checked before copying: a huge upload is refused without doubling it in memory.
    total = sum(memoryview(v).nbytes for v in files.values())
    if total > max_bytes:
        raise ECGFormatError(f"{', '.join(files)}: upload is {_megabytes(total)}; the limit is "
                             f"{_megabytes(max_bytes)}")
    files = {k: bytes(v) for k, v in files.items()}
    return Source(name=_primary_name(files, name), files=files)


def _safe_file_name(name) -> str:
    """The base name of an uploaded file; refuses names that could point outside a folder."""
    filename = Path(str(name)).name
    if filename in ("", ".", "..") or "\x00" in filename or "\\" in filename:
        raise ECGFormatError(f"{name!r}: not a usable file name")
    return filename


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.3g} MB"


def _primary_name(files: dict[str, bytes], name: str | None) -> str:
    """The file that names the record: ``name`` if given, else the WFDB header, else the only file."""
    if name and Path(name).name in files:
        return Path(name).name
    headers = [f for f in files if f.lower().endswith(".hea")]
    if not headers:  # a header uploaded without its extension, or as .txt
        headers = [f for f, data in files.items() if wfdb_record_name(data[:HEAD_BYTES])]
    if len(headers) > 1:
        raise ECGFormatError(f"{', '.join(headers)}: several WFDB headers uploaded; upload one record at "
                             "a time, or pass name=... to choose one")
    if headers:
        return headers[0]
    if len(files) > 1:
        raise ECGFormatError(f"{', '.join(files)}: several files uploaded but none is a WFDB header; "
                             "only a WFDB record spans several files, upload one file at a time")
    return next(iter(files))


#: Reader per file extension, used when the content has no recognisable signature.
_READER_BY_SUFFIX = {".hea": "wfdb", ".dat": "wfdb", ".mat": "wfdb",
                     ".csv": "csv", ".tsv": "csv", ".txt": "csv",
                     ".npy": "npy", ".edf": "edf", ".bdf": "edf",
                     ".dcm": "dicom", ".dicom": "dicom"}


def _pick_reader(src: Source):
    """The reader for ``src``: by content signature first, then by extension.

    The content decides because uploads are often renamed (``ecg.dat`` that
    is really an EDF file, a DICOM export without extension). Only a WFDB
    signal file is recognised by its header beside it: it has no signature.
    """
    from importlib import import_module

    def reader(fmt: str):
        return getattr(import_module(f"beatnet_core.io.{fmt}"), f"read_{fmt}")

    suffix = src.suffix
    if suffix in (".dat", ".mat") and src.has(src.stem + ".hea"):
        return reader("wfdb")
    head = src.head(HEAD_BYTES)
    if not head:
        raise ECGFormatError(f"{src.name}: the file is empty")
    fmt = sniff_format(head)
    if fmt:
        return reader(fmt)
    what = describe_non_ecg(head)
    if what:
        raise ECGFormatError(f"{src.name}: this is {what}, not an ECG recording")
    if suffix in _READER_BY_SUFFIX:
        return reader(_READER_BY_SUFFIX[suffix])
    raise ECGFormatError(f"{src.name}: not a recognised ECG file (type {suffix or 'without extension'}); "
                         "accepted: WFDB (.hea + signal file), CSV, NPY, EDF/EDF+, DICOM ECG")
