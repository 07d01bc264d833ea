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
