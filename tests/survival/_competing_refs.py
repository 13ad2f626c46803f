"""Shared helpers for the competing-risks reference tests (cuminc, crr, aalen_johansen).

Collects every analysis of a type from the per-dataset reference files in ``tests/data/refs``
and rebuilds the data set each analysis was computed on, from the coding its R call states.
The simulated cases of ``cmprsk.json`` are read by the tests directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tests.rrefs import assert_r_close, load_ref, num, read_data

__all__ = ["analyses", "assert_close", "call_text", "dataset", "ids", "num"]

DATASETS = ("lung", "veteran", "ovarian", "mgus2", "bladder")

# The transform in every competing-risks call of mgus2.json (survival's 'compete' vignette).
MGUS2_TRANSFORM = (
    "transform(mgus2, etime = ifelse(pstat == 0, futime, ptime), "
    "event = ifelse(pstat == 0, 2 * death, 1), male = as.numeric(sex == 'M'))"
)


def analyses(*types: str) -> list[tuple[str, dict[str, Any]]]:
    """(dataset, analysis) for every analysis of one of ``types`` in the per-dataset files."""
    out = []
    for name in DATASETS:
        doc = load_ref(name)
        out += [(doc["dataset"], a) for a in doc["analyses"] if a["type"] in types]
    return out


def ids(cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"{ds}-{a['id']}" for ds, a in cases]


def call_text(analysis: dict[str, Any]) -> str:
    return " ".join(
        str(analysis.get(k, "")) for k in ("call", "call_finegray", "call_coxph")
    )


def dataset(name: str, analysis: dict[str, Any]) -> pd.DataFrame:
    """The data frame the analysis' R call evaluated (with etime/event/male for mgus2)."""
    df = read_data(name)
    if name == "mgus2":
        if MGUS2_TRANSFORM not in call_text(analysis):
            raise AssertionError(f"unexpected coding in {analysis['id']}: {call_text(analysis)}")
        df["etime"] = np.where(df["pstat"] == 0, df["futime"], df["ptime"]).astype(float)
        df["event"] = np.where(df["pstat"] == 0, 2 * df["death"], 1).astype(int)
        df["male"] = (df["sex"] == "M").astype(float)
        return df
    raise AssertionError(f"no competing-risks coding known for data set {name!r}: add it here")


def assert_close(actual: Any, expected: Any, rtol: float, what: str) -> float:
    """Relative comparison with R (NA patterns must agree); returns the max relative error.
    A ``what`` starting "finegray+coxph" (the approximate cross-check) is reported apart."""
    quantity = what if what.startswith("finegray+coxph") else None
    return assert_r_close(actual, expected, rtol, what, quantity)
