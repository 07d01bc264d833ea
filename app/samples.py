"""The gallery of bundled real ECGs (``sample_ecgs/manifest.csv``): titles, reference diagnoses, credits."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = ROOT / "sample_ecgs"
MANIFEST = SAMPLES_DIR / "manifest.csv"


@lru_cache(maxsize=1)
def load_manifest(path: str | None = None) -> tuple[dict, ...]:
    """One dict per sample (the manifest's columns), in manifest order, only those whose file exists.

    Adds ``path`` (absolute path of the header), ``key`` (the file stem) and
    ``reference`` (list of reference diagnoses).

    PTB-XL rows also give ``scp_codes`` (the statements, in the order of
    ``reference_diagnoses``) and ``diagnostic_classes`` (``CODE:CLASS:SUBCLASS``
    of each diagnostic statement, from PTB-XL's ``scp_statements.csv``), so
    the app can say which reference statements a model has no output for.
    """
    manifest = Path(path) if path else MANIFEST
    if not manifest.is_file():
        return ()
    rows = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            file = manifest.parent / row["file"]
            if not file.is_file():
                continue
            row = dict(row)
            row["path"] = str(file)
            row["key"] = file.stem
            row["reference"] = [s.strip() for s in row.get("reference_diagnoses", "").split(";") if s.strip()]
            rows.append(row)
    return tuple(rows)


def by_key(key: str) -> dict | None:
    return next((row for row in load_manifest() if row["key"] == key), None)


def not_model_outputs(row: dict, model_labels) -> list[str]:
    """The sample's reference statements that no output of a model with ``model_labels`` stands for.

    A statement is covered when it, its diagnostic class or its subclass is
    one of the labels (the bundled model: IMI through MI, SR itself); PACE,
    or form statements such as ABQRS, are not. Returned as the reference
    lists them (code and description). Rows without ``scp_codes`` (LUDB): [].

    >>> row = {"scp_codes": "IMI;ABQRS;SR", "diagnostic_classes": "IMI:MI:IMI",
    ...        "reference": ["IMI (inferior MI)", "ABQRS (abnormal QRS)", "SR (sinus rhythm)"]}
    >>> not_model_outputs(row, ["MI", "NORM", "SR"])
    ['ABQRS (abnormal QRS)']
    """
    codes = [c.strip() for c in (row.get("scp_codes") or "").split(";") if c.strip()]
    counts_as = {code: {code} for code in codes}
    for item in (row.get("diagnostic_classes") or "").split(";"):
        code, _, classes = item.strip().partition(":")
        if code in counts_as:
            counts_as[code] |= set(classes.split(":", 1))     # class, subclass (which may hold "/")
    labels = set(model_labels)
    reference = row.get("reference") or []
    named = reference if len(reference) == len(codes) else codes
    return [name for code, name in zip(codes, named) if not counts_as[code] & labels]


def option_label(row: dict) -> str:
    """What the gallery's chooser shows: title, patient, dataset."""
    who = ", ".join(p for p in (_age(row.get("age")), row.get("sex", "")) if p)
    return f"{row['title']} ({who}; {row['dataset'].split()[0]})" if who else row["title"]


def credit(row: dict) -> str:
    """One line of credit: dataset, record, licence, citation, source link."""
    return (f"{row['dataset']}, {row['record']}. {row['license']}. {row['citation']}. "
            f"Source: {row['source']}")


def _age(age) -> str:
    try:
        return f"{float(age):.0f} y"
    except (TypeError, ValueError):
        return ""
