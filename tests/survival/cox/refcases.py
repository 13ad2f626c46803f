"""Translate the R calls stored in ../shared/refs/*.json into cox_ph arguments.

Every ``coxph`` analysis carries its exact R call, e.g.
``coxph(Surv(time, status) ~ age + sex + factor(ph.ecog) + strata(sex) + cluster(inst),
data = subset(bladder, enum == 1), ties = "efron")``; this module parses it (Surv arguments,
plain / factor() / strata() / cluster() terms, an optional ``subset(data, col == value)``, ties) and
recodes factor columns with the level order R used (``xlevels``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tests.conftest import REFS, load_ref

DATASETS = ("lung", "veteran", "ovarian", "bladder", "mgus2")


@dataclass(frozen=True)
class CoxCase:
    dataset: str
    analysis: dict
    data: pd.DataFrame
    kwargs: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.dataset}-{self.analysis['id']}"


_CALL = re.compile(
    r"coxph\(Surv\((?P<surv>[^)]*)\)\s*~\s*(?P<rhs>.*?),\s*data\s*=\s*(?P<data>.*?),\s*ties\s*=\s*\"(?P<ties>\w+)\"\)"
)


def parse_call(call: str, dataset: str, xlevels: dict | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    m = _CALL.search(call)
    if m is None:
        raise ValueError(f"cannot parse {call!r}")
    data = pd.read_csv(REFS / "data" / f"{dataset}.csv")
    subset = re.match(r"subset\((\w+),\s*(\w+)\s*==\s*([\w.]+)\)", m["data"])
    if subset:
        data = data[data[subset[2]] == float(subset[3])].reset_index(drop=True)
    surv = [s.strip() for s in m["surv"].split(",")]
    kwargs: dict[str, Any] = {"ties": m["ties"]}
    if len(surv) == 2:
        kwargs.update(duration=surv[0], event=surv[1])
    else:
        kwargs.update(entry=surv[0], duration=surv[1], event=surv[2])
    covariates: list[str] = []
    categorical: list[str] = []
    for term in (t.strip() for t in m["rhs"].split("+")):
        special = re.fullmatch(r"(factor|strata|cluster)\(([\w.]+)\)", term)
        if special is None:
            covariates.append(term)
        elif special[1] == "factor":
            covariates.append(special[2])
            categorical.append(special[2])
        else:
            kwargs[special[1]] = special[2]
    for key, levels in (xlevels or {}).items():
        col = re.sub(r"^(factor|strata)\((.*)\)$", r"\2", key)
        if key.startswith("strata("):
            continue
        if data[col].dtype == object:  # R factor: keep R's level order
            data[col] = pd.Categorical(data[col], categories=levels)
    kwargs["covariates"] = covariates
    kwargs["categorical"] = categorical
    return data, kwargs


def cox_cases(kind: str = "coxph") -> list[CoxCase]:
    out = []
    for ds in DATASETS:
        ref = load_ref(ds)
        for a in ref["analyses"]:
            if a["type"] != kind:
                continue
            call = a["call"] if kind == "coxph" else a["cox_call"]
            fit_ref = a if kind == "coxph" else None
            xlevels = fit_ref["xlevels"] if fit_ref else None
            data, kwargs = parse_call(call, ds, xlevels)
            out.append(CoxCase(ds, a, data, kwargs))
    return out


def num(v: Any) -> np.ndarray:
    """A JSON number / vector / matrix as a float array (R's NA, Inf strings decoded)."""
    if isinstance(v, dict) and "values" in v:
        v = v["values"]
    conv = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf}

    def dec(x: Any) -> Any:
        if isinstance(x, list):
            return [dec(y) for y in x]
        if isinstance(x, str):
            return conv[x]
        return np.nan if x is None else x

    return np.asarray(dec(v), dtype=float)
