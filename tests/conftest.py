"""Shared fixtures: the real data in ../shared/data (override with BEATNET_DATA)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BEATNET_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"real test data not found at {DATA} (set BEATNET_DATA)")
    return DATA
