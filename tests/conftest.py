"""Shared fixtures and paths: the R reference results live in ``tests/data/refs``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.rrefs import ACHIEVED, REFS, load_ref  # noqa: F401  (re-exported for the tests)

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the reference documents the clinical-rule tests read (copies in tests/data/shared; see its README)
SHARED = Path(os.environ.get("NPCTRIAL_SHARED", REPO_ROOT / "tests" / "data" / "shared"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--r-errors", action="store_true",
                     help="print the largest relative error against R per quantity")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config.getoption("--r-errors") or not ACHIEVED:
        return
    terminalreporter.section("largest relative error against R, per test module and quantity")
    for key in sorted(ACHIEVED):
        terminalreporter.write_line(f"{key:<60} {ACHIEVED[key]:.3g}")
