"""Translate the R calls stored in tests/data/refs/*.json into cox_ph arguments.

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

import pandas as pd

from tests.rrefs import load_ref, num, read_data

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
    data = read_data(dataset)
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


__all__ = ["CoxCase", "cox_cases", "num", "parse_call"]
