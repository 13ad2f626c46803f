"""Tables as a journal expects, checked against R (tests/cohort/data/refs.json, from make_refs.R):
continuous factors as median (IQR) with Wilcoxon / Kruskal-Wallis, Unknown rows with their
denominators, univariate Cox on available cases and multivariate on complete cases, medians with
95 % CI and the numbers at risk and events at each landmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from npctrial.cohort import association_table, cox_table, survival_analysis
from npctrial.cohort.table_one import UNKNOWN
from npctrial.cohort.tables import p_statement
from tests.rrefs import REFS

R = json.loads((Path(__file__).parent / "data" / "refs.json").read_text())


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    df = pd.read_csv(REFS / "data" / "lung.csv")
    df["dead"] = (df["status"] == 2).astype(float)
    df["sex"] = df["sex"].astype(str)
    return df


def test_continuous_rows_median_iqr_and_wilcoxon_match_r(lung: pd.DataFrame) -> None:
    tab = association_table(lung, "dead", ["age", "wt.loss", "meal.cal"], continuous=["age", "wt.loss", "meal.cal"],
                            positive_label="Dead", negative_label="Alive")
    for var in ("age", "wt.loss", "meal.cal"):
        ref = R[f"wilcox_{var}"]
        row = next(r for r in tab.rows if r.variable == var and r.level == "median (IQR)")
        assert row.p_value == pytest.approx(ref["p"], rel=1e-9)
        assert row.test == "Wilcoxon rank-sum test"
        q1, med, q3 = ref["q_dead"]
        assert row.summary[0] == f"{med:.4g} ({q1:.4g}-{q3:.4g})"
        unknown = [r for r in tab.rows if r.variable == var and r.level == UNKNOWN]
        missing = (ref["n_missing_dead"], ref["n_missing_alive"])
        assert (unknown[0].counts if unknown else (0, 0)) == missing


def test_kruskal_wallis_for_more_than_two_groups_matches_r(lung: pd.DataFrame) -> None:
    df = lung.dropna(subset=["ph.ecog"]).assign(ecog=lambda d: d["ph.ecog"].astype(int).astype(str))
    groups = [(lv, f"ECOG {lv}") for lv in ("0", "1", "2", "3")]
    tab = association_table(df, "ecog", ["age"], groups=groups, continuous=["age"])
    assert tab.p_values()["age"] == pytest.approx(R["kruskal_age_by_ecog"]["p"], rel=1e-9)
    assert tab.tests()["age"] == "Kruskal-Wallis test"
    assert tab.group_labels == ("ECOG 0", "ECOG 1", "ECOG 2", "ECOG 3")


def test_exact_wilcoxon_for_small_groups_without_ties() -> None:
    ref = R["wilcox_exact"]
    df = pd.DataFrame({"x": ref["x"] + ref["y"], "g": [1.0] * len(ref["x"]) + [0.0] * len(ref["y"])})
    tab = association_table(df, "g", ["x"], continuous=["x"])
    assert tab.p_values()["x"] == pytest.approx(ref["p"], rel=1e-12)


def test_unknown_row_denominators_are_every_patient_of_the_group() -> None:
    # 10 events: grade A 4, B 4, missing 2; 10 non-events: A 1, B 9
    df = pd.DataFrame({"event": [1.0] * 10 + [0.0] * 10,
                       "grade": ["A"] * 4 + ["B"] * 4 + [None] * 2 + ["A"] + ["B"] * 9})
    frame = association_table(df, "event", ["grade"]).to_frame()
    rows = frame.set_index("Level")
    assert rows.loc[UNKNOWN, "Yes"] == 2 and rows.loc[UNKNOWN, "No"] == 0
    assert rows.loc["A", "Yes (col %)"] == 40.0 and rows.loc[UNKNOWN, "Yes (col %)"] == 20.0
    assert rows.loc[["A", "B", UNKNOWN], "Yes (col %)"].sum() == pytest.approx(100.0)
    from scipy.stats import fisher_exact

    assert frame.loc[1, "p value"].rstrip("*\u2020") == f"{fisher_exact([[4, 1], [4, 9]]).pvalue:.3f}"


def test_patients_with_unknown_outcome_are_left_out_and_counted_in_a_note() -> None:
    df = pd.DataFrame({"event": [1.0, 0.0, None, 1.0], "g": ["a", "b", "a", "b"]})
    tab = association_table(df, "event", ["g"])
    assert tab.group_totals == (2, 1)
    assert any("1 patient(s) with an unknown event are not in this table." == n for n in tab.footnotes)


def test_univariate_cox_on_available_cases_and_multivariate_on_complete_cases(lung: pd.DataFrame) -> None:
    tab = cox_table(lung, title="t", time="time", event="dead", covariates=["age", "wt.loss", "meal.cal"],
                    multivariate=["age", "wt.loss", "meal.cal"])
    frame = tab.to_frame().set_index("Variable")
    for var in ("age", "wt.loss", "meal.cal"):
        ref = R[f"cox_{var}"]
        assert frame.loc[var, "N"] == ref["n"] and frame.loc[var, "Events"] == ref["nevent"]
        assert frame.loc[var, "HR (95% CI)"].startswith(f"{ref['hr']:.3f} (")
    assert (tab.n, tab.n_events) == (R["cox_multi"]["n"], R["cox_multi"]["nevent"])
    multi = tab.forest[tab.forest.model == "multivariate"]
    assert multi["hr"].to_numpy() == pytest.approx(R["cox_multi"]["hr"], rel=1e-9)
    assert tab.zph is not None
    assert tab.zph["p value"].tolist() == [f"{p:.3f}" if p >= 0.001 else "<0.001" for p in R["cox_multi"]["zph_p"]]
    assert "each covariate on the patients with it known" in tab.notes[0]
    assert f"on the {R['cox_multi']['n']} complete cases" in tab.notes[0]


def test_reference_level_rows_follow_the_declared_levels(lung: pd.DataFrame) -> None:
    tab = cox_table(lung, title="t", time="time", event="dead", covariates=["sex"], categorical=["sex"],
                    levels={"sex": ["2", "1"]})
    frame = tab.to_frame()
    assert frame["Term"].tolist() == ["2 (reference)", "1 vs 2"]
    hr_1_vs_2 = float(frame.loc[1, "HR (95% CI)"].split()[0])
    assert hr_1_vs_2 == pytest.approx(1 / 0.588, abs=0.01)  # R: exp(coef) of sex2 vs sex1 is 0.588


def test_median_with_ci_and_numbers_at_risk_match_r(lung: pd.DataFrame) -> None:
    an = survival_analysis(lung, name="os", title="OS", time="time", event="dead", group="sex",
                           landmarks=[180, 365, 730], unit="days")
    ref = R["km_median_by_sex"]
    assert an.medians["Median (days)"].tolist() == [f"{m:.1f}" for m in ref["median"]]
    assert an.medians["95% CI"].tolist() == [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(ref["lower"], ref["upper"],
                                                                                     strict=True)]
    at = R["km_at_by_sex"]
    assert an.rates["At risk"].tolist() == at["n_risk"]
    events = np.array(at["n_event"], dtype=int).reshape(2, 3).cumsum(axis=1).ravel().tolist()
    assert an.rates["Events so far"].tolist() == events
    assert an.rates["Time"].tolist() == ["180", "365", "730"] * 2  # no ".0"
    assert "p = " in an.notes[0] and "= <" not in an.notes[0]


@pytest.mark.parametrize("p, text", [(0.0004, "p < 0.001"), (0.0349, "p = 0.035"), (None, "p not available")])
def test_p_statement_never_says_p_equals_less_than(p: float | None, text: str) -> None:
    assert p_statement(p) == text
