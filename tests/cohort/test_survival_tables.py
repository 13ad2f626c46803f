"""Survival table builders against R (survival 3.5-3) references for the lung data."""

import numpy as np
import pandas as pd
import pytest

from npctrial.cohort import (
    competing_risk_analysis,
    compute_median_follow_up,
    cox_table,
    survival_analysis,
)
from tests.rrefs import REFS, load_ref

LUNG = load_ref("lung")


def ref(aid: str) -> dict:
    return next(a for a in LUNG["analyses"] if a["id"] == aid)


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    df = pd.read_csv(REFS / "data" / "lung.csv")
    df["dead"] = (df["status"] == 2).astype(float)
    df["sex_label"] = df["sex"].map({1: "1", 2: "2"})
    return df


def test_km_rates_and_logrank_match_r(lung: pd.DataFrame) -> None:
    an = survival_analysis(lung, name="os", title="OS by sex", time="time", event="dead", group="sex_label",
                           landmarks=[180, 365, 730])
    r = ref("km_by_sex")["at_times"]["by_conf_type"]["log"]
    for level in ("1", "2"):
        rows = an.rates[an.rates.Group == level]
        expected = r[f"sex={level}"]
        assert rows["Survival (%)"].tolist() == [round(100 * s, 1) for s in expected["surv"]]
        assert rows["95% CI"].tolist() == [f"{100 * lo:.1f}-{100 * hi:.1f}"
                                           for lo, hi in zip(expected["lower"], expected["upper"], strict=True)]
    lr = ref("logrank_sex")
    assert an.logrank_chisq == pytest.approx(lr["chisq"], rel=1e-6)
    assert an.logrank_p == pytest.approx(lr["p"], rel=1e-6)


def test_failure_rates_are_one_minus_survival(lung: pd.DataFrame) -> None:
    surv = survival_analysis(lung, name="a", title="a", time="time", event="dead", landmarks=[365])
    fail = survival_analysis(lung, name="b", title="b", time="time", event="dead", landmarks=[365], failure=True)
    assert fail.rates["Cumulative rate (%)"].iloc[0] == pytest.approx(100 - surv.rates["Survival (%)"].iloc[0], abs=0.051)


def test_cox_table_matches_r_coxph(lung: pd.DataFrame) -> None:
    r = ref("cox_efron_factor_ecog")  # coxph(Surv(time, status) ~ age + sex + factor(ph.ecog))
    tab = cox_table(lung, title="t", time="time", event="dead", covariates=["age", "sex", "ph.ecog"],
                    categorical=["ph.ecog"], multivariate=["age", "sex", "ph.ecog"])
    frame = tab.to_frame()
    multi = frame[frame["Term"].map(lambda t: not t.endswith("(reference)"))]
    lows = r["conf_int_exp"]["lower"]
    highs = r["conf_int_exp"]["upper"]
    assert multi["HR (95% CI), multivariate"].tolist() == [
        f"{v:.3f} ({lo:.3f}-{hi:.3f})" for v, lo, hi in zip(r["exp_coef"], lows, highs, strict=True)]
    forest = tab.forest[tab.forest.model == "multivariate"]
    assert forest["hr"].to_numpy() == pytest.approx(r["exp_coef"], rel=1e-9)
    assert frame.loc[frame["Variable"] == "ph.ecog", "Term"].tolist()[0] == "0 (reference)"
    assert tab.n == r["n"] and tab.n_events == r["nevent"]
    # the zph warning follows R's cox.zph global test at 0.05
    zph_p = r["cox_zph"]["p"][-1]
    assert any("GLOBAL" in n for n in tab.notes) == (zph_p < 0.05)


def test_cox_events_per_variable_warning(lung: pd.DataFrame) -> None:
    small = lung.iloc[:40]
    from npctrial.errors import SmallSampleWarning

    with pytest.warns(SmallSampleWarning, match="events per variable"):
        cox_table(small, title="t", time="time", event="dead", covariates=["age", "sex", "ph.ecog", "ph.karno"],
                  multivariate=["age", "sex", "ph.ecog", "ph.karno"])


def test_compute_median_follow_up_is_reverse_km(lung: pd.DataFrame) -> None:
    med, lo, hi = compute_median_follow_up(lung, "time", "dead")
    # reverse KM by hand: censoring is the event, deaths censor
    t = lung["time"].to_numpy(float)
    c = 1 - lung["dead"].to_numpy(float)
    s = 1.0
    median = None
    for u in np.unique(t):
        at_risk = np.sum(t >= u)
        s *= 1 - np.sum((t == u) & (c == 1)) / at_risk
        if s <= 0.5 and median is None:
            median = u
    assert med == median
    assert (lo, hi) == (t.min(), t.max())


def test_competing_risks_matches_one_minus_km_without_competing_events(lung: pd.DataFrame) -> None:
    df = lung.assign(other=0.0)
    cr = competing_risk_analysis(df, name="c", title="c", time="time", event="dead", competing="other",
                                 group="sex_label", landmarks=[365])
    assert cr.rates["Cumulative incidence (%)"].tolist() == cr.rates["1 - KM (%)"].tolist()
    assert cr.gray_p is not None and 0 < cr.gray_p < 0.05


def test_cox_screen_selects_univariate_p_below_threshold(lung: pd.DataFrame) -> None:
    from npctrial.errors import StatisticalWarning

    # ph.karno is known to violate proportional hazards in the lung data (cox.zph)
    with pytest.warns(StatisticalWarning, match="ph.karno"):
        tab = cox_table(lung, title="t", time="time", event="dead", covariates=["age", "sex", "ph.karno"],
                        screen_p=0.01)
    frame = tab.to_frame()
    chosen = frame[frame["HR (95% CI), multivariate"] != ""]["Variable"].tolist()
    uni_p = {v: p for v, p in zip(frame["Variable"], frame["p value"], strict=True)}
    expected = [v for v, p in uni_p.items() if p.startswith("<") or float(p.rstrip("*")) < 0.01]
    assert chosen == expected
    assert "sex" in chosen and "age" not in chosen


def test_cox_table_numeric_and_ordinal_terms_match_r(lung: pd.DataFrame) -> None:
    r = ref("cox_efron")  # coxph(Surv(time, status) ~ age + sex + ph.ecog), ph.ecog as a score
    tab = cox_table(lung, title="t", time="time", event="dead", covariates=["age", "sex", "ph.ecog"],
                    multivariate=["age", "sex", "ph.ecog"], ordinal=["ph.ecog"])
    frame = tab.to_frame()
    assert [float(x.split()[0]) for x in frame["HR (95% CI), multivariate"]] == [round(v, 3) for v in r["exp_coef"]]
    assert tab.forest[tab.forest.model == "multivariate"]["hr"].to_numpy() == pytest.approx(r["exp_coef"], rel=1e-9)
    assert frame["Term"].tolist() == ["per unit", "per unit", "per step"]


def test_cox_table_reference_level_applies_to_both_models(lung: pd.DataFrame) -> None:
    # R fits factor(ph.ecog) against level 0; with level 1 as reference the contrasts are
    # exp(b_k - b_1) (and exp(-b_1) for level 0): the same model, re-parametrised.
    r = ref("cox_efron_factor_ecog")
    b1, b2, b3 = r["coef"][2:]
    tab = cox_table(lung, title="t", time="time", event="dead", covariates=["age", "sex", "ph.ecog"],
                    categorical=["ph.ecog"], multivariate=["age", "sex", "ph.ecog"], reference={"ph.ecog": "1"})
    frame = tab.to_frame()
    ecog = frame[frame["Variable"] == "ph.ecog"]
    assert ecog["Term"].tolist() == ["1 (reference)", "0 vs 1", "2 vs 1", "3 vs 1"]
    expected = [np.exp(-b1), np.exp(b2 - b1), np.exp(b3 - b1)]
    forest = tab.forest[(tab.forest.model == "multivariate") & (tab.forest.covariate == "ph.ecog")]
    assert forest["hr"].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert ecog["HR (95% CI), multivariate"].tolist()[0] == "1"


@pytest.mark.parametrize("build", [
    lambda df: survival_analysis(df, name="os", title="t", time="time", event="dead", group="arm"),
    lambda df: competing_risk_analysis(df, name="c", title="t", time="time", event="dead", competing="arm"),
    lambda df: cox_table(df, title="t", time="time", event="dead", covariates=["age", "arm"]),
])
def test_missing_column_is_named(lung: pd.DataFrame, build) -> None:
    from npctrial.errors import ValidationError

    with pytest.raises(ValidationError, match="'arm'") as info:
        build(lung)
    assert info.value.field == "arm"


def test_notes_state_the_tests(lung: pd.DataFrame) -> None:
    an = survival_analysis(lung, name="os", title="OS", time="time", event="dead", group="sex_label")
    lr = ref("logrank_sex")
    assert an.notes[0] == f"Log-rank test: chi-square = {lr['chisq']:.3f}, df = 1, p = {lr['p']:.3f}."
    assert an.summary().splitlines()[0] == "OS" and an.notes[0] in an.summary()


def test_pairwise_logrank_table_is_holm_over_two_group_tests(lung: pd.DataFrame) -> None:
    from npctrial.survival import logrank_test

    df = lung.dropna(subset=["ph.ecog"])
    df = df[df["ph.ecog"] < 3].assign(ecog=lambda d: d["ph.ecog"].astype(int).astype(str))
    an = survival_analysis(df, name="os", title="t", time="time", event="dead", group="ecog", pairwise=True)
    assert an.pairwise is not None
    pairs = [("0", "1"), ("0", "2"), ("1", "2")]
    raw = []
    for a, b in pairs:
        sub = df[df["ecog"].isin([a, b])]
        lr = logrank_test(sub["time"].to_numpy(float), sub["dead"].to_numpy(float), sub["ecog"].to_numpy())
        raw.append((float(lr.chisq), float(lr.p)))
    # Holm (1979): sort p ascending, multiply the i-th smallest by (m - i), keep monotone, cap at 1
    order = np.argsort([p for _, p in raw])
    holm = np.empty(3)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[i][1]))
        holm[i] = running

    def printed(p: float) -> str:
        return "<0.001" if p < 0.001 else f"{p:.3f}"

    assert an.pairwise[["Group 1", "Group 2"]].values.tolist() == [list(p) for p in pairs]
    assert an.pairwise["Chi-square"].tolist() == [f"{c:.3f}" for c, _ in raw]
    assert an.pairwise["p value"].tolist() == [printed(p) for _, p in raw]
    assert an.pairwise["p value (Holm)"].tolist() == [printed(p) for p in holm]


def test_competing_risk_notes_name_the_competing_event_and_the_rows_left_out() -> None:
    pbc = pd.read_csv(REFS / "data" / "pbc.csv")
    pbc = pbc.assign(transplant=(pbc["status"] == 1).astype(float), death=(pbc["status"] == 2).astype(float))
    pbc.loc[pbc.index[:4], "transplant"] = np.nan
    cr = competing_risk_analysis(pbc, name="cif", title="t", time="time", event="death", competing="transplant",
                                 competing_label="Liver transplant", landmarks=[1000])
    assert cr.notes[0] == ("Cumulative incidence: Aalen-Johansen with Liver transplant as competing risk; 1 - KM "
                           "censors it and overestimates the incidence.")
    assert cr.notes[-1] == "4 rows with missing values excluded."
    from npctrial.cohort.report_language import _translate
    from npctrial.i18n import translator

    zh = translator("zh")
    assert _translate(zh, cr.notes[0]).startswith("累积发生率：以Liver transplant为竞争风险")
    assert _translate(zh, cr.notes[-1]) == "4 行因数据缺失被排除。"
