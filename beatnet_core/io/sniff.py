"""Tell a file's format from its first bytes, for files whose extension is missing or wrong.

Binary formats carry a signature: DICOM has ``DICM`` at byte 128, EDF/EDF+
starts with ``'0'`` and seven spaces (BDF with ``0xFF`` ``'BIOSEMI'``) and
``.npy`` with ``0x93`` ``'NUMPY'``. Text formats are recognised by their
first non-comment lines: a WFDB header by its record line
(``<name> <signals> [<fs> [<samples> ...]]``) followed by a signal line
(``<file> <format> ...``), a CSV by a header row of lead names. Common
non-ECG files (images, PDFs, archives) are named so that the error can say
what was uploaded instead.
"""
from __future__ import annotations

import re

from beatnet_core.ecg import canonical_lead_name

#: Bytes to read from the start of a file: enough for the DICOM preamble and a text header.
HEAD_BYTES = 4096

_NOT_ECG_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or .npz/.docx/.xlsx); unpack it and load the record inside"),
    (b"\x1f\x8b", "a gzip archive; unpack it first"),
)

# WFDB record line: name[/segments] n_signals [fs[/counter_fs][(base_counter)] [n_samples ...]]
_WFDB_RECORD_LINE = re.compile(
    r"^(?P<name>[^\s/]+)(?:/\d+)?[ \t]+\d+"
    r"(?:[ \t]+[\d.eE+-]+(?:/[\d.eE+-]+)?(?:\([\d.eE+-]+\))?(?:[ \t]+\d+)?.*)?$")
# WFDB signal line: file_name format[xsamples][:skew][+offset] ...; a segment line of a
# multi-segment header is "segment_name n_samples". The file name must not be a bare
# number, so that a space-separated table of numbers is not taken for a header.
_WFDB_SIGNAL_LINE = re.compile(r"^(?!\d+[ \t])\S+[ \t]+\d+(?:x\d+)?(?::\d+)?(?:\+\d+)?(?:[ \t].*)?$")

_TIME_OR_INDEX_COLUMNS = {"time", "t", "time_s", "time_ms", "time_sec", "seconds", "ms",
                          "", "index", "sample", "sample_index", "n"}


def _text_lines(head: bytes, limit: int = 3) -> list[str] | None:
    """The first ``limit`` non-blank, non-comment lines of ``head`` if it is text, else None."""
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the end of head
            return None
        text = head[:exc.start].decode("utf-8-sig")
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
            if len(lines) == limit:
                break
    return lines


def wfdb_record_name(head: bytes) -> str | None:
    """The record name if ``head`` is the start of a WFDB header, else None."""
    lines = _text_lines(head)
    if not lines or len(lines) < 2:
        return None
    m = _WFDB_RECORD_LINE.match(lines[0])
    if not m or not _WFDB_SIGNAL_LINE.match(lines[1]):
        return None
    return m.group("name")


def looks_like_csv(head: bytes) -> bool:
    """True when the first non-comment line of ``head`` is a delimited row of lead (and time) names."""
    lines = _text_lines(head, limit=1)
    if not lines:
        return False
    row = lines[0]
    delimiter = max(",;\t", key=row.count)
    names = [n.strip().strip('"\'').strip() for n in row.split(delimiter)]
    leads = [n for n in names if canonical_lead_name(n)]
    others = [n for n in names if not canonical_lead_name(n)]
    return bool(leads) and all(normalise_column(n) in _TIME_OR_INDEX_COLUMNS for n in others)


def normalise_column(name: str) -> str:
    """Lower-case a column name and join its words with ``_`` (``'Time (ms)'`` -> ``'time_ms'``)."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def sniff_format(head: bytes) -> str | None:
    """The reader ('dicom', 'edf', 'npy', 'wfdb', 'csv') that ``head`` belongs to, or None."""
    if head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"0       ") or head.startswith(b"\xffBIOSEMI"):
        return "edf"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if wfdb_record_name(head):
        return "wfdb"
    if looks_like_csv(head):
        return "csv"
    return None


def describe_non_ecg(head: bytes) -> str | None:
    """What kind of non-ECG file ``head`` starts (``'a PNG image'``), or None if unknown."""
    for signature, what in _NOT_ECG_SIGNATURES:
        if head.startswith(signature):
            return what
    start = head.lstrip()[:100].lower()
    if start.startswith(b"<?xml") or start.startswith(b"<"):
        return "an XML/HTML document (XML ECG formats such as HL7 aECG are not supported)"
    return None
