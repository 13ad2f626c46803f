"""kaplan_meier against every R survfit analysis in ../shared/refs, plus R's documented edge rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import KaplanMeierResult, SurvivalData, kaplan_meier
from tests.survival._r_refs import analyses, assert_r_equal, inputs, r_array

KM = analyses("kaplan_meier")
CONF_TYPES = ("log", "log-log", "plain")
CASES = [
    pytest.param(ds, a, ct, id=f"{ds}-{a['id']}-{ct}") for ds, a in KM for ct in CONF_TYPES
]
_cache: dict[tuple[str, str, str], KaplanMeierResult] = {}


def fit(ds: str, a: dict[str, Any], conf_type: str) -> KaplanMeierResult:
    key = (ds, a["id"], conf_type)
    if key not in _cache:
        _cache[key] = kaplan_meier(**inputs(ds, a), conf_type=conf_type, conf_level=a["conf.int"])
    return _cache[key]


def test_every_reference_file_has_km_analyses() -> None:
    assert {ds for ds, _ in KM} == {"lung", "veteran", "ovarian", "mgus2", "bladder"}


@pytest.mark.parametrize(("ds", "a", "conf_type"), CASES)
def test_curves_match_r(ds: str, a: dict[str, Any], conf_type: str) -> None:
    res = fit(ds, a, conf_type)
    assert list(res.labels) == [c["stratum"] for c in a["curves"]]
    for ours, ref in zip(res.curves, a["curves"], strict=True):
        where = f"{ds}/{a['id']}/{ref['stratum']}"
        assert ours.n == ref["n"][0]
        for ours_field, r_field in [
            ("time", "time"),
            ("n_risk", "n.risk"),
            ("n_event", "n.event"),
            ("n_censor", "n.censor"),
            ("surv", "surv"),
            ("std_err", "std.err"),
            ("std_err_surv", "std.err.surv"),
            ("cumhaz", "cumhaz"),
            ("std_chaz", "std.chaz"),
        ]:
            assert_r_equal(getattr(ours, ours_field), ref[r_field], f"{where} {r_field}")
        assert_r_equal(ours.lower, ref["conf"][conf_type]["lower"], f"{where} {conf_type} lower")
        assert_r_equal(ours.upper, ref["conf"][conf_type]["upper"], f"{where} {conf_type} upper")


@pytest.mark.parametrize(("ds", "a", "conf_type"), CASES)
def test_summary_table_matches_r(ds: str, a: dict[str, Any], conf_type: str) -> None:
    ref = a["summary_table"][conf_type]
    tab = fit(ds, a, conf_type).summary_table(tau="common")
    expected = r_array(ref)
    cols = ["records", "n_max", "n_start", "events", "rmean", "se_rmean", "median", "lower", "upper"]
    assert ref["colnames"][:4] == ["records", "n.max", "n.start", "events"]
    assert_r_equal(tab[cols].to_numpy(), expected, f"{ds}/{a['id']} summary_table {conf_type}")


@pytest.mark.parametrize(("ds", "a", "conf_type"), CASES)
def test_quantiles_match_r(ds: str, a: dict[str, Any], conf_type: str) -> None:
    ref = a["quantiles"]
    probs = ref["probs"]
    q = fit(ds, a, conf_type).quantile(probs)
    ncurve = len(a["curves"])
    for part in ("quantile", "lower", "upper"):
        ours = q[part].to_numpy().reshape(ncurve, len(probs))
        assert_r_equal(ours, r_array(ref["by_conf_type"][conf_type][part]), f"{ds}/{a['id']} {part}")


@pytest.mark.parametrize(("ds", "a", "conf_type"), CASES)
def test_at_times_match_r(ds: str, a: dict[str, Any], conf_type: str) -> None:
    ref = a["at_times"]
    res = fit(ds, a, conf_type)
    tab = res.at(ref["times"], extend=True)
    for label, r in ref["by_conf_type"][conf_type].items():
        sub = tab[tab["curve"] == label]
        for ours_field, r_field in [
            ("time", "time"),
            ("n_risk", "n.risk"),
            ("n_event", "n.event"),
            ("n_censor", "n.censor"),
            ("surv", "surv"),
            ("std_err", "std.err"),
            ("lower", "lower"),
            ("upper", "upper"),
        ]:
            assert_r_equal(sub[ours_field].to_numpy(), r[r_field], f"{ds}/{a['id']}/{label} at {r_field}")


# ---- hand-written cases from the published rules ----------------------------------------


def test_tiny_vector_statistics_md_section_13() -> None:
    # R survival 3.5-3 tiny vector: KM at 1,2,3,5,8 = .9,.7,.6,.36,.18; median 5, log CI (2, NA)
    t = [1, 2, 2, 3, 4, 5, 5, 7, 8, 9]
    e = [1, 1, 1, 1, 0, 1, 1, 0, 1, 0]
    res = kaplan_meier(t, e)
    c = res.curves[0]
    s = dict(zip(c.time.tolist(), c.surv.tolist(), strict=True))
    for tt, ss in [(1, 0.9), (2, 0.7), (3, 0.6), (5, 0.36), (8, 0.18)]:
        assert s[tt] == pytest.approx(ss, rel=1e-12)
    med, lo, up = c.median()
    assert (med, lo) == (5.0, 2.0) and math.isnan(up)


def test_ties_and_censoring_at_event_time_censored_are_at_risk() -> None:
    # at t=2: 2 events and 1 censoring; n at risk = 4 (censored at 2 still at risk)
    res = kaplan_meier([1, 2, 2, 2, 3], [1, 1, 1, 0, 1])
    c = res.curves[0]
    np.testing.assert_array_equal(c.n_risk, [5, 4, 1])
    np.testing.assert_array_equal(c.n_event, [1, 2, 1])
    np.testing.assert_array_equal(c.n_censor, [0, 1, 0])
    np.testing.assert_allclose(c.surv, [4 / 5, 4 / 5 * 2 / 4, 0.0], rtol=1e-15)
    # Greenwood: 1/(5*4) + 2/(4*2)
    assert c.std_err[1] == pytest.approx(math.sqrt(1 / 20 + 2 / 8), rel=1e-14)


def test_curve_reaching_zero_gives_inf_se_and_na_bounds() -> None:
    # R: n = d at the last time -> std.err Inf, std.err.surv NaN, NA bounds for every type
    for ct in ("log", "log-log", "plain", "logit", "arcsin"):
        c = kaplan_meier([1, 2, 3], [1, 0, 1], conf_type=ct).curves[0]
        assert c.surv[-1] == 0.0
        assert math.isinf(c.std_err[-1])
        assert math.isnan(c.std_err_surv[-1])
        assert math.isnan(c.lower[-1]) and math.isnan(c.upper[-1])


def test_median_exactly_half_takes_midpoint() -> None:
    # four events at 1..4: S = 0.5 exactly on [2, 3): median (2 + 3)/2 = 2.5 by both R rules
    res = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    c = res.curves[0]
    assert c.surv[1] == 0.5
    assert c.median()[0] == 2.5
    assert res.quantile(0.5)["quantile"].iloc[0] == 2.5


def test_curve_ending_flat_at_half_table_rule_vs_quantile_rule() -> None:
    # events at 1, 2; censored at 5 and 8: S = .75, .5, .5, .5 -> ends flat at 0.5
    res = kaplan_meier([1, 2, 5, 8], [1, 1, 0, 0])
    c = res.curves[0]
    assert c.surv[-1] == 0.5
    # summary()$table (minmin): no later drop -> start of the flat, t_a = 2
    assert c.median()[0] == 2.0
    # quantile.survfit (findq): (t_a + t_max)/2 = (2 + 8)/2 = 5
    assert res.quantile(0.5)["quantile"].iloc[0] == 5.0


def test_log_log_band_is_na_where_survival_is_one() -> None:
    # R survfit_confint: log-log uses xx = NA where p is 0 or 1 (censoring before the first
    # event); log and plain give S itself (se = 0).
    for ct, expect_nan in [("log-log", True), ("log", False), ("plain", False)]:
        c = kaplan_meier([1, 2, 3], [0, 1, 1], conf_type=ct).curves[0]
        assert c.surv[0] == 1.0 and c.std_err[0] == 0.0
        if expect_nan:
            assert math.isnan(c.lower[0]) and math.isnan(c.upper[0])
        else:
            assert c.lower[0] == 1.0 and c.upper[0] == 1.0


def test_median_na_when_curve_stays_above_half() -> None:
    c = kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0]).curves[0]
    assert all(math.isnan(x) for x in c.median()[:1])


def test_quantile_of_r_test_suite_case() -> None:
    # survival tests/quantile.R: test1 (NA row dropped), overall curve
    time = [9, 3, 1, 1, 6, 6, 8, 10]
    status = [1, np.nan, 1, 0, 1, 1, 0, 0]
    res = kaplan_meier(time, status, na_action="drop")
    qq = np.array([13 / 14, 6 / 7, 2 / 3, 0.5, 9 / 35, 0.1])
    q = res.quantile(1 - qq)
    np.testing.assert_allclose(q["quantile"].to_numpy(), [1, 3.5, 6, 9, 9.5, np.nan], equal_nan=True)
    np.testing.assert_allclose(q["lower"].to_numpy(), [1, 1, 1, 6, 6, 9])
    assert q["upper"].isna().all()
    assert res.n_dropped == 1


def test_at_before_first_time_and_after_last() -> None:
    res = kaplan_meier([2, 4, 6], [1, 1, 0])
    tab = res.at([1, 4, 10])
    np.testing.assert_array_equal(tab["n_risk"], [3, 2, 0])
    np.testing.assert_array_equal(tab["n_event"], [0, 2, 0])
    np.testing.assert_array_equal(tab["n_censor"], [0, 0, 1])
    np.testing.assert_allclose(tab["surv"], [1.0, 1 / 3, 1 / 3])
    assert kaplan_meier([2, 4, 6], [1, 1, 0]).at([10], extend=False).empty


def test_logit_and_arcsin_bands_follow_published_formulas() -> None:
    from scipy.stats import norm

    c = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 0, 1, 0], conf_type="logit").curves[0]
    z = norm.ppf(0.975)
    s, se = c.surv[0], c.std_err[0]
    se2 = z * se / (1 - s)
    lg = math.log(s / (1 - s))
    assert c.lower[0] == pytest.approx(1 / (1 + math.exp(-(lg - se2))), rel=1e-12)
    assert c.upper[0] == pytest.approx(1 / (1 + math.exp(-(lg + se2))), rel=1e-12)
    a = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 0, 1, 0], conf_type="arcsin").curves[0]
    se2 = 0.5 * z * se * math.sqrt(s / (1 - s))
    assert a.lower[0] == pytest.approx(math.sin(math.asin(math.sqrt(s)) - se2) ** 2, rel=1e-12)
    assert a.upper[0] == pytest.approx(math.sin(min(math.pi / 2, math.asin(math.sqrt(s)) + se2)) ** 2, rel=1e-12)


def test_timefix_merges_nearly_equal_times() -> None:
    c = kaplan_meier([1.0, 1.0 + 1e-12, 2.0], [1, 1, 1]).curves[0]
    np.testing.assert_array_equal(c.time, [1.0, 2.0])
    np.testing.assert_array_equal(c.n_event, [2, 1])
    c2 = kaplan_meier([1.0, 1.0 + 1e-12, 2.0], [1, 1, 1], timefix=False).curves[0]
    assert c2.time.shape[0] == 3


def test_delayed_entry_risk_sets() -> None:
    # at risk at t when entry < t <= time
    c = kaplan_meier([5, 6, 7], [1, 1, 1], entry=[0, 5, 2]).curves[0]
    np.testing.assert_array_equal(c.n_risk, [2, 2, 1])  # at 5: subjects 0 and 2 (entry 5 is not < 5)


def test_weights_are_case_weights() -> None:
    w = kaplan_meier([1, 2, 3], [1, 1, 0], weights=[2, 1, 1]).curves[0]
    r = kaplan_meier([1, 1, 2, 3], [1, 1, 1, 0]).curves[0]
    np.testing.assert_allclose(w.surv, r.surv)
    np.testing.assert_allclose(w.n_risk, r.n_risk)


def test_non_integer_weights_warn_about_r_robust_variance() -> None:
    from npctrial.errors import StatisticalWarning

    with pytest.warns(StatisticalWarning, match="infinitesimal-jackknife"):
        kaplan_meier([1, 2, 3], [1, 1, 0], weights=[0.5, 1, 1])


def test_pandas_series_accepted_and_labels_use_series_name() -> None:
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 1], "arm": ["b", "a", "b", "a"]})
    res = kaplan_meier(df["t"], df["e"], group=df["arm"])
    assert res.labels == ("arm=a", "arm=b")
    assert set(res.to_frame()["curve"]) == {"arm=a", "arm=b"}
    assert "arm=a" in res.summary()


def test_group_and_strata_give_one_curve_per_combination() -> None:
    res = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], group=[1, 1, 2, 2, 1, 2], strata=["x", "y", "x", "y", "x", "x"])
    assert res.labels == ("group=1, strata=x", "group=1, strata=y", "group=2, strata=x", "group=2, strata=y")


def test_accepts_survival_data() -> None:
    d = SurvivalData.from_arrays([3, 1, 2], [1, 1, 0])
    assert kaplan_meier(d).curves[0].time.tolist() == [1, 2, 3]
    with pytest.raises(ValidationError) as exc:
        kaplan_meier(d, group=[1, 2, 1])
    assert exc.value.field == "group"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"conf_type": "wrong"}, "conf_type"),
        ({"conf_level": 1.5}, "conf_level"),
        ({"event": [1, 2, 1]}, "event"),
    ],
)
def test_invalid_arguments_raise(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"time": [1, 2, 3], "event": [1, 0, 1]} | kwargs
    with pytest.raises(ValidationError) as exc:
        kaplan_meier(**args)
    assert exc.value.field == field


def test_result_is_frozen() -> None:
    res = kaplan_meier([1, 2], [1, 1])
    with pytest.raises(AttributeError):
        res.conf_type = "plain"  # type: ignore[misc]
