"""Small helpers every reader shares: voltage units, patient sex and age.

Kept in one place so that, e.g., ``'µV'`` in an EDF header, ``'uV'`` in a
DICOM UCUM code and ``'uv'`` in a CSV comment all mean the same thing.
"""
from __future__ import annotations

import re
from datetime import date, datetime

#: Millivolts per unit, keyed by the normalised unit (see :func:`mv_per_unit`).
_MV_PER_UNIT = {
    "mv": 1.0, "millivolt": 1.0, "millivolts": 1.0,
    "uv": 1e-3, "microvolt": 1e-3, "microvolts": 1e-3,
    "nv": 1e-6, "nanovolt": 1e-6, "nanovolts": 1e-6,
    "v": 1e3, "volt": 1e3, "volts": 1e3,
}


def mv_per_unit(unit: str | None) -> float | None:
    """Millivolts per one ``unit`` (``'uV'`` -> 0.001), or None if ``unit`` is not a voltage.

    Both micro signs (U+00B5 and Greek mu U+03BC) and ``u`` are accepted.

    >>> mv_per_unit("µV"), mv_per_unit("mV"), mv_per_unit("V"), mv_per_unit("bpm")
    (0.001, 1.0, 1000.0, None)
    """
    key = str(unit or "").strip().lower().replace("\u00b5", "u").replace("\u03bc", "u")
    return _MV_PER_UNIT.get(key)


def parse_sex(value) -> str | None:
    """``'M'``, ``'F'`` or None from the spellings formats use (``'Male'``, ``'f'``, ``'O'``...)."""
    text = str(value or "").strip().lower()
    if text in ("m", "male"):
        return "M"
    if text in ("f", "female"):
        return "F"
    return None


def age_in_years(birth: date | datetime | None, on: date | datetime | None) -> int | None:
    """Whole years between a birth date and the recording date, or None when either is unknown."""
    if birth is None or on is None:
        return None
    birth = birth.date() if isinstance(birth, datetime) else birth
    on = on.date() if isinstance(on, datetime) else on
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    # A birth date after the recording, or absurd ages, mean a placeholder date (e.g. 1.1.1900).
    return years if 0 <= years <= 130 else None


def parse_date(text) -> date | None:
    """A date from ``YYYYMMDD`` (DICOM), ``YYYY-MM-DD`` or ``DD mmm YYYY`` (pyedflib's EDF+), else None."""
    value = str(text or "").strip()
    for pattern in ("%Y%m%d", "%Y-%m-%d", "%d %b %Y", "%d-%b-%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def parse_number(text) -> float | None:
    """The first number in ``text`` (``'500 Hz'`` -> 500.0), or None."""
    m = re.search(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", str(text))
    return float(m.group(0)) if m else None
