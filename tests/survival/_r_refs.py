"""Helpers for comparing with the R reference results in tests/data/refs (KM, survdiff).

Inputs are rebuilt from ``refs/data/<dataset>.csv`` and each analysis' R call (formula and
``data`` expression); nothing is copied from the expected results.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from tests.rrefs import CLOSED_FORM, assert_r_close, load_ref, num, read_data

DATASETS = ("lung", "veteran", "ovarian", "mgus2", "bladder")

# R factor levels of character columns, as documented in R's survival package data sets
# (?veteran: celltype "1=squamous, 2=smallcell, 3=adeno, 4=large"). Other grouping columns
# are numeric or alphabetical (mgus2 sex F/M) and use the default level order.
R_FACTOR_LEVELS = {("veteran", "celltype"): ["squamous", "smallcell", "adeno", "large"]}

def analyses(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every analysis of type ``kind`` in every reference file: (dataset, analysis)."""
    out = []
    for name in DATASETS:
        for a in load_ref(name)["analyses"]:
            if a["type"] == kind:
                out.append((name, a))
    return out


def load_data(dataset: str, data_expr: str) -> pd.DataFrame:
    """The data frame named by the R ``data`` argument (plain name or ``subset(x, v == k)``)."""
    df = read_data(dataset)
    for (ds, col), levels in R_FACTOR_LEVELS.items():
        if ds == dataset and col in df:
            df[col] = pd.Categorical(df[col], categories=levels)
    m = re.fullmatch(r"subset\((\w+),\s*([\w.]+)\s*==\s*([\w.\"']+)\)", data_expr.strip())
    if m:
        col, val = m.group(2), m.group(3).strip("\"'")
        df = df[df[col] == type(df[col].iloc[0])(val)].reset_index(drop=True)
    return df


def parse_formula(formula: str) -> tuple[str, str, list[str], list[str]]:
    """``Surv(t, s) ~ a + strata(b)`` -> (t, s, [a], [b])."""
    lhs, rhs = formula.split("~")
    m = re.fullmatch(r"\s*Surv\(([\w.]+),\s*([\w.]+)\)\s*", lhs)
    assert m, formula
    terms = [t.strip() for t in rhs.split("+")]
    groups = [t for t in terms if t != "1" and not t.startswith("strata(")]
    strata = [t[len("strata(") : -1] for t in terms if t.startswith("strata(")]
    return m.group(1), m.group(2), groups, strata


def data_expr_of(analysis: dict[str, Any]) -> str:
    call = analysis.get("call") or next(iter(analysis["calls"].values()))
    m = re.search(r"data = (.*?)(, conf\.type|, rho|\)$)", call)
    assert m, call
    return m.group(1)


def status_coding_for(status: pd.Series) -> str:
    """R's Surv() rule: a status made only of 1s and 2s is 1 = censored, 2 = event."""
    vals = set(status.dropna().unique().tolist())
    return "r" if vals <= {1, 2} and 2 in vals else "standard"


def inputs(dataset: str, analysis: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments (time, event, group, strata, status_coding, na_action) for our API."""
    df = load_data(dataset, data_expr_of(analysis))
    tcol, scol, groups, strata = parse_formula(analysis["formula"])
    kw: dict[str, Any] = {
        "time": df[tcol],
        "event": df[scol],
        "status_coding": status_coding_for(df[scol]),
        "na_action": "drop",
    }
    if groups:
        assert len(groups) == 1
        kw["group"] = df[groups[0]]
    if strata:
        assert len(strata) == 1
        kw["strata"] = df[strata[0]]
    return kw


def r_array(values: Any) -> np.ndarray:
    """A JSON number, vector or matrix from a reference file as floats."""
    arr = num(values)
    return arr.reshape(1) if arr.ndim == 0 else arr


def assert_r_equal(actual: Any, expected: Any, what: str, rel: float = CLOSED_FORM) -> None:
    """Equal to R at ``rel`` (closed forms: 1e-12); NA/NaN and +/-Inf must coincide exactly."""
    e = expected if isinstance(expected, np.ndarray) else r_array(expected)
    assert_r_close(actual, e, rel, what)
