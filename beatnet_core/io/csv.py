"""CSV and other delimited text: one column per lead, one row per sample.

Conventions
-----------
Comment lines
    Lines starting with ``#`` before the header row may state the sampling
    rate and the units; all comment lines are kept in ``meta['comments']``::

        # fs=500                      (also "fs: 500 Hz", "sampling_rate: 500 Hz",
        # sampling rate = 500 Hz       "sampling frequency", "sample_rate")
        # units: uV                   (mV, uV/µV, nV or V; mV when not stated)

Header row
    The first other line names the columns. Lead columns use the standard
    names or their aliases (``I``, ``avr``, ``Lead II``, ``MLII``, ``V1``...;
    see :func:`beatnet_core.ecg.canonical_lead_name`); a name that is not a
    lead is an error. A row of numbers instead of names is refused rather
    than guessed at.
Time and index columns
    A column named ``time``, ``t``, ``time_s``, ``time_sec`` or ``seconds``
    (seconds) or ``time_ms``/``ms`` (milliseconds; ``Time (ms)`` and
    ``time [s]`` are read the same way) gives the sampling rate:
    (number of samples - 1) / time span. Its steps must be even (to within
    half a sample, so rounded time stamps are fine). A column with an empty
    name (the index pandas writes by default), ``index``, ``sample`` or
    ``n`` is ignored.
Sampling rate
    Taken from the ``# fs`` comment, else the time column, else the ``fs``
    argument of :func:`~beatnet_core.io.load_ecg`. A comment and a time column
    that disagree by more than 1 % are an error.
Delimiter
    Comma, semicolon or tab, whichever the header row holds most of. With
    semicolons, a decimal comma (``0,125``) is accepted.
Values
    Numbers; empty cells and ``NaN`` are gaps (bridged by
    :func:`~beatnet_core.ecg.make_ecg`). Text in a lead column is an error,
    and so is a last line with fewer values than the header has names (the
    signature of a file cut short).
"""
from __future__ import annotations

import io
import re

import numpy as np

from beatnet_core.ecg import ECG, ECGFormatError, canonical_lead_name, make_ecg
from beatnet_core.io.common import mv_per_unit, parse_number
from beatnet_core.io.sniff import normalise_column
from beatnet_core.io.source import Source

_SECONDS_COLUMNS = {"time", "t", "time_s", "time_sec", "seconds"}
_MILLISECONDS_COLUMNS = {"time_ms", "ms"}
_INDEX_COLUMNS = {"", "index", "sample", "sample_index", "n"}
_FS_COMMENT = re.compile(
    r"^(?:fs|sampling[ _-]?(?:rate|frequency)|sample[ _-]?rate|samplerate)\s*[:=]\s*(.+)$", re.I)
_UNITS_COMMENT = re.compile(r"^units?\s*[:=]\s*(.+?)\s*$", re.I)


def read_csv(src: Source, fs: float | None = None) -> ECG:
    """Read a delimited-text ECG (see the module docstring for the layout it expects)."""
    import pandas as pd

    text = _decode(src)
    # Only the leading lines are split in Python; pandas parses the (possibly huge) rest.
    reader = io.StringIO(text)
    comments, header, header_line = [], None, 0
    for header_line, line in enumerate(reader):
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped.lstrip("#").strip())
        elif stripped:
            header = stripped
            break
    if header is None:
        raise ECGFormatError(f"{src.name}: no header row and no data")
    body_start = reader.tell()
    file_fs, scale = _parse_comments(src.name, comments)

    delimiter = max(",;\t", key=header.count)
    names = [n.strip().strip('"\'').strip() for n in header.split(delimiter)]
    if all(_is_number(n) for n in names if n) and not all(canonical_lead_name(n) for n in names):
        raise ECGFormatError(f"{src.name}: the first row holds numbers, not lead names; add a header "
                             "row such as I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6")
    if len(names) == 1 and len(names[0].split()) > 1:
        raise ECGFormatError(f"{src.name}: columns must be separated by commas, semicolons or tabs "
                             f"(header row: {header[:60]!r})")

    tail = text[max(body_start, len(text) - 100_000):].rstrip()
    last_line = tail.rsplit("\n", 1)[-1]
    if not tail:
        raise ECGFormatError(f"{src.name}: header row but no data")
    if not last_line.lstrip().startswith("#") and last_line.count(delimiter) + 1 < len(names):
        raise ECGFormatError(f"{src.name}: the last line has {last_line.count(delimiter) + 1} of "
                             f"{len(names)} values; the file looks truncated")
    decimal = "," if delimiter == ";" and re.search(r"\d,\d", text[body_start:body_start + 10000]) else "."
    reader.seek(body_start)
    try:
        table = pd.read_csv(reader, sep=delimiter, header=None, comment="#", decimal=decimal,
                            skip_blank_lines=True, engine="c", low_memory=False)
    except pd.errors.ParserError as exc:
        raise ECGFormatError(f"{src.name}: rows do not match the header's {len(names)} columns "
                             f"({exc})") from None
    except pd.errors.EmptyDataError:
        raise ECGFormatError(f"{src.name}: header row but no data") from None
    if table.shape[1] != len(names):
        raise ECGFormatError(f"{src.name}: the header names {len(names)} columns but rows hold "
                             f"{table.shape[1]} values")

    columns = {}
    for position, column_name in enumerate(names):
        columns[position] = _numeric_column(src.name, column_name, table[position], header_line)

    kinds = [normalise_column(n) for n in names]
    for position, kind in enumerate(kinds):
        # An unnamed column is pandas' index (first) or a trailing delimiter's empty column;
        # anywhere else it is a lead whose name is missing, and dropping it would lose data.
        if kind == "" and position > 0 and not np.isnan(columns[position]).all():
            raise ECGFormatError(f"{src.name}: column {position + 1} has no name in the header row")
    time_positions = [i for i, k in enumerate(kinds) if k in _SECONDS_COLUMNS | _MILLISECONDS_COLUMNS]
    lead_positions = [i for i, k in enumerate(kinds)
                      if i not in time_positions and k not in _INDEX_COLUMNS]
    if not lead_positions:
        raise ECGFormatError(f"{src.name}: no lead columns (header row: {names})")
    fs_source = "comment"
    if time_positions:
        seconds_per_unit = 1e-3 if kinds[time_positions[0]] in _MILLISECONDS_COLUMNS else 1.0
        time_fs = _fs_from_time(src.name, columns[time_positions[0]] * seconds_per_unit)
        if file_fs is not None and abs(time_fs - file_fs) > 0.01 * file_fs:
            raise ECGFormatError(f"{src.name}: the comment says fs={file_fs:g} Hz but the time column "
                                 f"implies {time_fs:g} Hz")
        if file_fs is None:
            file_fs, fs_source = time_fs, "time column"
    if file_fs is None:
        file_fs, fs_source = fs, "argument"

    signal = np.column_stack([columns[i] for i in lead_positions]) * scale
    meta = {"format": "CSV", "comments": comments, "fs_from": fs_source}
    return make_ecg(signal, file_fs, [names[i] for i in lead_positions], source=src.name,
                    meta=meta, units="mV")


def _decode(src: Source) -> str:
    """The file as text: UTF-8 (with or without BOM), else Windows-1252 as spreadsheets export."""
    raw = src.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ECGFormatError(f"{src.name}: binary data, not a text (CSV) file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        if text.count("\ufffd") > 10:
            raise ECGFormatError(f"{src.name}: not a text (CSV) file") from None
        return text


def _parse_comments(filename: str, comments: list[str]) -> tuple[float | None, float]:
    """Sampling rate (or None) and the factor to mV, from the leading comments (``#`` removed)."""
    fs, scale = None, 1.0
    for line in comments:
        m = _FS_COMMENT.match(line)
        if m:
            value = parse_number(m.group(1))
            if value is None:
                raise ECGFormatError(f"{filename}: cannot read the sampling rate in {line!r}")
            fs = value * (1000.0 if re.search(r"\bkhz\b", m.group(1), re.I) else 1.0)
            continue
        m = _UNITS_COMMENT.match(line)
        if m:
            factor = mv_per_unit(m.group(1))
            if factor is None:
                raise ECGFormatError(f"{filename}: unknown units {m.group(1)!r} in {line!r}; "
                                     "use mV, uV or V")
            scale = factor
    return fs, scale


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _numeric_column(filename: str, column_name: str, values, header_line: int) -> np.ndarray:
    """A column as float64; text in it is an error naming the first offending line."""
    import pandas as pd

    if values.dtype.kind in "fiu":
        return values.to_numpy(np.float64)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        # The line number counts comments, header and blank lines only roughly (pandas skips
        # blank lines); it is a pointer for the user, the value itself is quoted too.
        raise ECGFormatError(f"{filename}: column {column_name!r} holds text ({values.iloc[row]!r} "
                             f"near line {header_line + 2 + row}), not numbers")
    return numbers.to_numpy(np.float64)


def _fs_from_time(filename: str, t: np.ndarray) -> float:
    """Sampling rate from a time column in seconds; the steps must be even."""
    if t.size < 2 or not np.isfinite(t).all():
        raise ECGFormatError(f"{filename}: the time column has gaps or too few values to give a "
                             "sampling rate")
    span = float(t[-1] - t[0])
    if span <= 0:
        raise ECGFormatError(f"{filename}: the time column does not increase")
    step = span / (t.size - 1)
    expected = t[0] + step * np.arange(t.size)
    worst = int(np.argmax(np.abs(t - expected)))
    # Half a sample of slack lets rounded time stamps through, not gaps or jitter.
    if abs(t[worst] - expected[worst]) > 0.5 * step + 1e-12:
        raise ECGFormatError(f"{filename}: the time column is not evenly spaced (near t={t[worst]:g} s); "
                             "resample the record to a fixed rate")
    fs = 1.0 / step
    # Rounded time stamps make the estimate a hair off an integer rate (499.98 Hz).
    return float(round(fs)) if abs(fs - round(fs)) <= 1e-3 * fs else fs
