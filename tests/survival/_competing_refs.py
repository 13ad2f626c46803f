"""Shared helpers for the competing-risks reference tests (cuminc, crr, aalen_johansen).

Collects every analysis of a type from every ``../shared/refs/*.json`` and rebuilds the data
set each analysis was computed on, from the coding its R call states.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from tests.conftest import REFS

# The transform in every competing-risks call of mgus2.json (survival's 'compete' vignette).
MGUS2_TRANSFORM = (
    "transform(mgus2, etime = ifelse(pstat == 0, futime, ptime), "
    "event = ifelse(pstat == 0, 2 * death, 1), male = as.numeric(sex == 'M'))"
)


def analyses(*types: str) -> list[tuple[str, dict[str, Any]]]:
    """(dataset, analysis) for every analysis of one of ``types`` in every reference file."""
    out = []
    for path in sorted(REFS.glob("*.json")):
        doc = json.loads(path.read_text())
        for a in doc["analyses"]:
            if a["type"] in types:
                out.append((doc["dataset"], a))
    return out


def ids(cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"{ds}-{a['id']}" for ds, a in cases]


def call_text(analysis: dict[str, Any]) -> str:
    return " ".join(
        str(analysis.get(k, "")) for k in ("call", "call_finegray", "call_coxph")
    )


def dataset(name: str, analysis: dict[str, Any]) -> pd.DataFrame:
    """The data frame the analysis' R call evaluated (with etime/event/male for mgus2)."""
    df = pd.read_csv(REFS / "data" / f"{name}.csv")
    if name == "mgus2":
        if MGUS2_TRANSFORM not in call_text(analysis):
            raise AssertionError(f"unexpected coding in {analysis['id']}: {call_text(analysis)}")
        df["etime"] = np.where(df["pstat"] == 0, df["futime"], df["ptime"]).astype(float)
        df["event"] = np.where(df["pstat"] == 0, 2 * df["death"], 1).astype(int)
        df["male"] = (df["sex"] == "M").astype(float)
        return df
    raise AssertionError(f"no competing-risks coding known for data set {name!r}: add it here")


def num(values: Any) -> np.ndarray:
    """JSON numbers with R's "NA"/"NaN"/"Inf" strings as floats."""
    conv = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf}

    def one(v: Any) -> Any:
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, str):
            return conv[v]
        return np.nan if v is None else v

    return np.asarray(one(values), dtype=np.float64)


def assert_close(actual: Any, expected: Any, rtol: float, what: str) -> float:
    """Relative comparison (absolute 1e-300 floor for exact zeros); returns the max rel. error."""
    a = np.asarray(actual, dtype=np.float64)
    e = num(expected) if not isinstance(expected, np.ndarray) else expected.astype(np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != R's {e.shape}"
    same_nan = np.isnan(a) == np.isnan(e)
    assert same_nan.all(), f"{what}: NaN pattern differs from R"
    ok = ~np.isnan(e)
    err = np.abs(a[ok] - e[ok]) / np.maximum(np.abs(e[ok]), 1e-300)
    worst = float(err.max()) if err.size else 0.0
    assert worst <= rtol, f"{what}: max relative error {worst:.3g} > {rtol:g}"
    return worst
