"""LUDB's cardiologists' diagnoses mapped to PTB-XL labels, where the mapping is sound.

LUDB (Kalyakulina et al. 2020) files each record's conclusions as free text:
``ludb.csv`` (one column per group: rhythms, axis, conduction, extrasystoles,
hypertrophies, pacing, ischemia, repolarisation, other; several per cell, one
per line) and, the same, in the ``#`` comments of each header (``#Rhythm:
Sinus bradycardia.``). :func:`read_ludb_diagnoses` reads either;
:func:`ludb_targets` turns them into one column per model label, with three
values: 1 (the label applies), 0 (it does not) and -1 (the LUDB text is
ambiguous for this label: the record is left out of that label's
evaluation).

The rules (:data:`RULES`) are keyed by label *level*: a PTB-XL statement
(``SR``, ``AFIB``, ``CRBBB``, ...; Wagner et al. 2020), a diagnostic subclass
(``_AVB``, ``LAFB/LPFB``) or a diagnostic superclass (``CD``, ``HYP``, ``MI``,
``STTC``), so a model of any PTB-XL task can be scored on the labels it has.
What is *not* mapped, and why, is in :data:`NOT_MAPPED`.

References
----------
Kalyakulina A.I. et al., "LUDB: A New Open-Access Validation Tool for
Electrocardiogram Delineation Algorithms", IEEE Access 8 (2020).
Wagner P. et al., "PTB-XL, a large publicly available electrocardiography
dataset", Scientific Data 7, 154 (2020) (SCP-ECG statements and classes).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from beatnet_core.data.labels import SUPERCLASSES


@dataclass(frozen=True)
class Rule:
    """When a LUDB record carries a PTB-XL label.

    ``positive``: regular expressions; a record whose normalised diagnoses
    (see :func:`normalise`) match any is positive. ``ambiguous``: if none of
    ``positive`` matches but one of these does, the record is left out (-1):
    a finding the cardiologists did report stands, but its absence cannot be
    trusted (e.g. on a paced ECG). Otherwise it is negative.
    """

    positive: tuple[str, ...]
    ambiguous: tuple[str, ...] = ()
    note: str = ""


_PACED = (r"pacing", r"pacemaker presence", r"p-synchrony")
_IRREGULAR_SINUS = r"^irregular sinus rhythm$"
_CONDUCTION = {
    "CRBBB": r"^complete right bundle branch block", "IRBBB": r"^incomplete right bundle branch block",
    "CLBBB": r"^complete left bundle branch block", "ILBBB": r"^incomplete left bundle branch block",
    "LAFB": r"^left anterior hemiblock", "1AVB": r"^i degree av.block", "3AVB": r"^iii degree av.block",
    "IVCD": r"^non-specific intrav[ei]ntricular conduction delay",   # LUDB spells it 'intravintricular'
}
_HYPERTROPHY = {
    "LVH": r"^left ventricular hypertrophy", "RVH": r"^right ventricular hypertrophy",
    "LAO/LAE": r"^left atrial (hypertrophy|overload)", "RAO/RAE": r"^right atrial (hypertrophy|overload)",
}
_MI = (r"^stemi:", r"^scar formation:")
_ISCHEMIA_UNDEFINED = r"^undefined ischemia/scar/supp\.nstemi"
_STTC = (r"^ischemia:", r"^non-specific repolarization abnormalities")

#: level -> label -> Rule. Levels: "statement", "subclass", "superclass".
RULES: dict[str, dict[str, Rule]] = {
    "statement": {
        "SR": Rule((r"^sinus rhythm$",), (_IRREGULAR_SINUS,), "sinus rhythm (normal rate)"),
        "SBRAD": Rule((r"^sinus bradycardia$",), note="sinus bradycardia"),
        # LUDB 1.0.1's four are at 90-93 bpm by its own QRS marks (its "sinus rhythm" reaches 98 bpm)
        "STACH": Rule((r"^sinus tachycardia$",), note="sinus tachycardia (LUDB's four run at 90-93 bpm by its "
                                                        "QRS marks, under the > 100 bpm of PTB-XL's STACH)"),
        "SARRH": Rule((r"^sinus arrhythmia$",), (_IRREGULAR_SINUS,), "sinus arrhythmia"),
        "AFIB": Rule((r"^atrial fibrillation$",), note="atrial fibrillation"),
        "AFLT": Rule((r"^atrial flutter",), note="atrial flutter (typical)"),
        "PACE": Rule(_PACED, note="any cardiac pacing (column 'Cardiac pacing')"),
        "PVC": Rule((r"^ventricular extrasystole",), note="ventricular extrasystoles"),
        "PAC": Rule((r"^atrial extrasystole",), note="atrial extrasystoles"),
        **{code: Rule((rx,), note=rx.strip("^").replace("\\", "")) for code, rx in {**_CONDUCTION, **_HYPERTROPHY}.items()},
    },
    "subclass": {
        "_AVB": Rule((_CONDUCTION["1AVB"], _CONDUCTION["3AVB"]), note="I or III degree AV block"),
        "LAFB/LPFB": Rule((_CONDUCTION["LAFB"],), note="left anterior hemiblock"),
    },
    "superclass": {
        "CD": Rule(tuple(_CONDUCTION.values()), (r"^sinoatrial blockade",) + _PACED,
                   "any bundle branch block (complete or incomplete), left anterior hemiblock, I/III degree AV "
                   "block, non-specific IVCD; paced records and SA block (no PTB-XL statement) are never negatives"),
        "HYP": Rule(tuple(_HYPERTROPHY.values()), _PACED,
                    "LVH, RVH, left/right atrial hypertrophy or overload (PTB-XL's HYP includes LAO/LAE, "
                    "RAO/RAE); paced records are never negatives"),
        "MI": Rule(_MI, (_ISCHEMIA_UNDEFINED,) + _PACED,
                   "STEMI (acute injury: PTB-XL's INJ* are MI) or scar formation (old MI); 'undefined "
                   "ischemia/scar/supp. NSTEMI' and paced records are never negatives"),
        "STTC": Rule(_STTC, (_ISCHEMIA_UNDEFINED, r"^early repolarization") + _PACED,
                     "ischemia or non-specific repolarisation abnormalities; 'undefined ischemia/scar/supp. "
                     "NSTEMI', early repolarisation and paced records are never negatives"),
    },
}
# Subclasses that are single statements mean the same as the statement.
for _code in list(_CONDUCTION) + list(_HYPERTROPHY):
    RULES["subclass"].setdefault(_code, RULES["statement"][_code])

#: LUDB conclusions with no sound PTB-XL label, and why.
NOT_MAPPED = {
    "NORM": "LUDB has no 'normal ECG' conclusion; deriving one from the absence of findings would be our "
            "definition, not the cardiologists'",
    "electric axis": "PTB-XL files the axis in a separate column (heart_axis), not as a label",
    "irregular sinus rhythm": "neither SR nor SARRH with certainty: left out of both",
    "wandering atrial pacemaker, aberrant conduction, sinoatrial blockade, early repolarization":
        "no PTB-XL statement",
    "left ventricular overload": "strain pattern; PTB-XL has no matching statement (not LVH, not LVOLT)",
    "undefined ischemia/scar/supp. NSTEMI": "MI or ischemia cannot be told apart: left out of MI and STTC",
    "ischemia/scar by wall": "PTB-XL's localised statements (IMI, ASMI, ISCAL, ...) need the wall; LUDB's walls "
                             "(anterior, septal, apical, lateral, posterior, inferior) do not map one to one",
}


def normalise(text: str) -> str:
    """Lower case, no trailing period, single spaces, no ``rhythm:`` prefix.

    >>> normalise("Rhythm: Sinus bradycardia. ")
    'sinus bradycardia'
    >>> normalise("UNIpolar ventricular pacing.")
    'unipolar ventricular pacing'
    """
    t = re.sub(r"\s+", " ", str(text)).strip().rstrip(".").strip().lower()
    return re.sub(r"^rhythm: ", "", t)


def read_ludb_diagnoses(ludb_dir, source: str = "auto") -> dict[int, list[str]]:
    """Record number -> its normalised diagnoses.

    Parameters
    ----------
    ludb_dir : path
        LUDB folder (with ``ludb.csv`` and/or ``data/N.hea``).
    source : {"auto", "csv", "headers"}
        ``"csv"``: ``ludb.csv``; ``"headers"``: the ``#`` comments after
        ``<diagnoses>:`` in each header; ``"auto"``: the CSV if present.

    Returns
    -------
    dict
        int record id -> list of str, in ascending id.
    """
    ludb_dir = Path(ludb_dir)
    readers = {"csv": _from_csv, "headers": _from_headers}
    if source == "auto":
        source = "csv" if (ludb_dir / "ludb.csv").is_file() else "headers"
    try:
        reader = readers[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}; choose 'auto', 'csv' or 'headers'") from None
    return dict(sorted(reader(ludb_dir).items()))


def _from_csv(ludb_dir: Path) -> dict[int, list[str]]:
    import pandas as pd

    table = pd.read_csv(ludb_dir / "ludb.csv", dtype=str)
    skip = {"ID", "Sex", "Age"}
    out = {}
    for _, row in table.iterrows():
        items = []
        for column, cell in row.items():
            if column in skip or not isinstance(cell, str):
                continue
            items += [normalise(part) for part in cell.splitlines() if part.strip()]
        out[int(str(row["ID"]).strip())] = items
    return out


def _from_headers(ludb_dir: Path) -> dict[int, list[str]]:
    out = {}
    for header in (ludb_dir / "data").glob("*.hea"):
        if not header.stem.isdigit():
            continue
        comments = [line[1:].strip() for line in header.read_text().splitlines() if line.startswith("#")]
        start = next((i for i, c in enumerate(comments) if c.lower().startswith("<diagnoses>")), None)
        items = [normalise(c) for c in (comments[start + 1:] if start is not None else []) if c.strip()]
        out[int(header.stem)] = items
    return out


def label_level(label: str, task: str) -> str:
    """``"superclass"``, ``"subclass"`` or ``"statement"``: what a model label means in its task.

    >>> label_level("CD", "superdiagnostic+rhythm"), label_level("AFIB", "superdiagnostic+rhythm")
    ('superclass', 'statement')
    """
    parts = str(task).split("+")
    if "superdiagnostic" in parts and label in SUPERCLASSES:
        return "superclass"
    if "subdiagnostic" in parts and label in RULES["subclass"]:
        return "subclass"
    return "statement"


def rule_for(label: str, task: str) -> Rule | None:
    """The mapping rule of a model label, or None if it cannot be mapped soundly."""
    return RULES[label_level(label, task)].get(label)


def ludb_targets(diagnoses: dict[int, list[str]], labels: list[str], task: str) -> np.ndarray:
    """int8 (records, labels): 1 positive, 0 negative, -1 left out (ambiguous or unmapped label).

    Rows follow ``diagnoses`` (ascending record id); a label without a rule is -1 throughout.
    """
    ids = list(diagnoses)
    y = np.full((len(ids), len(labels)), -1, np.int8)
    for k, label in enumerate(labels):
        rule = rule_for(label, task)
        if rule is None:
            continue
        for i, rec in enumerate(ids):
            y[i, k] = _apply(rule, diagnoses[rec])
    return y


def _apply(rule: Rule, items: list[str]) -> int:
    if any(re.search(p, item) for p in rule.positive for item in items):
        return 1
    if any(re.search(p, item) for p in rule.ambiguous for item in items):
        return -1
    return 0


def unmapped_diagnoses(diagnoses: dict[int, list[str]]) -> dict[str, int]:
    """Diagnoses (normalised, lateralisation stripped) that no rule's ``positive`` matches, with record counts."""
    patterns = [p for level in RULES.values() for rule in level.values() for p in rule.positive]
    counts: Counter = Counter()
    for items in diagnoses.values():
        seen = set()
        for item in items:
            if not any(re.search(p, item) for p in patterns):
                seen.add(re.sub(r":.*$", "", item) if not item.startswith("electric axis") else item)
        counts.update(seen)
    return dict(counts.most_common())
