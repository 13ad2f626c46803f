"""Shared fixtures: paths to the shared reference material."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NPCTRIAL_SHARED", REPO_ROOT.parent / "shared"))
REFS = SHARED / "refs"


def load_ref(name: str) -> dict:
    """Load ``../shared/refs/<name>.json`` (R reference results)."""
    return json.loads((REFS / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def refs_dir() -> Path:
    if not REFS.is_dir():
        raise RuntimeError(f"reference results not found at {REFS} (set NPCTRIAL_SHARED)")
    return REFS
