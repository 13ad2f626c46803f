"""The simulation's vectorised log-rank against R survdiff (refs/*.json) and npctrial.survival."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from npctrial.design._logrank import compute_logrank_batch
from npctrial.survival import logrank_test
from tests.rrefs import REFS, load_ref

# the per-dataset reference files (one R data set each, with survdiff analyses); the other
# files hold model fits (survreg, timedep, cox_parity, ...)
DATASETS = ("bladder", "lung", "mgus2", "ovarian", "veteran")


def _two_group_logrank_refs() -> list[tuple[str, dict]]:
    out = []
    for name in DATASETS:
        ref = load_ref(name)
        for a in ref["analyses"]:
            if a["type"] == "survdiff" and a["rho"] == 0 and not a["stratified"] \
                    and len(a["groups"]) == 2:
                out.append((name, a))
    return out


CASES = _two_group_logrank_refs()


def _data(dataset: str, expr: str) -> pd.DataFrame:
    df = pd.read_csv(REFS / "data" / f"{dataset}.csv")
    m = re.fullmatch(r"subset\((\w+),\s*(\w+)\s*==\s*([\w.]+)\)", expr)
    if m:
        df = df[df[m.group(2)] == float(m.group(3))]
    else:
        assert expr == dataset, expr
    return df


def test_every_dataset_reference_file_has_a_two_group_logrank():
    per_dataset = {p.stem for p in REFS.glob("*.json") if "n_rows" in load_ref(p.stem)}
    assert per_dataset == set(DATASETS)
    assert {name for name, _ in CASES} == set(DATASETS)


@pytest.mark.parametrize(("dataset", "analysis"), CASES, ids=[f"{d}-{a['id']}" for d, a in CASES])
def test_matches_r_survdiff(dataset, analysis):
    m = re.fullmatch(r"Surv\((\w+),\s*(\w+)\)\s*~\s*(\w+)", analysis["formula"])
    tcol, scol, gcol = m.groups()
    df = _data(dataset, analysis["data"]).dropna(subset=[tcol, scol, gcol])
    status = df[scol].to_numpy()
    event = status == 2 if set(np.unique(status)) <= {1, 2} else status == 1  # Surv 1/2 coding
    first = analysis["groups"][0].split("=", 1)[1]
    group1 = (df[gcol].astype(str).str.replace(r"\.0$", "", regex=True) == first).to_numpy()
    assert group1.sum() == analysis["n"][0]
    o_minus_e, v, z = compute_logrank_batch(df[tcol].to_numpy()[None], event[None], group1[None])
    assert o_minus_e[0] == pytest.approx(analysis["obs"][0] - analysis["exp"][0], rel=1e-9)
    assert v[0] == pytest.approx(analysis["var"]["values"][0][0], rel=1e-9)
    assert z[0] ** 2 == pytest.approx(analysis["chisq"], rel=1e-9)


def test_batch_rows_match_npctrial_survival_with_ties():
    rng = np.random.default_rng(12)
    time = np.round(rng.exponential(5.0, (20, 60)))  # many ties
    event = rng.random((20, 60)) < 0.7
    group = rng.random((20, 60)) < 0.5
    _, _, z = compute_logrank_batch(time, event, group)
    for i in range(20):
        res = logrank_test(time[i], event[i].astype(int), np.where(group[i], "a", "b"))
        assert z[i] ** 2 == pytest.approx(res.chisq, rel=1e-9)
