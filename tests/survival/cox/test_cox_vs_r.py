"""cox_ph against R survival 3.5-3: every coxph and coxph_survfit analysis in tests/data/refs."""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from npctrial.survival.cox import CoxResult, cox_ph
from npctrial.survival.cox.design_matrix import level_label
from tests.rrefs import ITERATIVE, assert_r_close
from tests.survival.cox.refcases import CoxCase, cox_cases, num

RTOL = ITERATIVE  # Newton iterations stop at R's tolerance: agreement to ~1e-9 relative

COX = cox_cases("coxph")
SURVFIT = cox_cases("coxph_survfit")


@cache
def fit_for(call: str) -> CoxResult:
    case = next(c for c in COX if c.analysis["call"] == call)
    return cox_ph(case.data, **case.kwargs)


def assert_close(actual: object, expected: object, what: str = "value") -> None:
    assert_r_close(actual, num(expected), RTOL, what, what)


def ids(cases: list[CoxCase]) -> list[str]:
    return [c.id for c in cases]


def test_every_reference_file_contributes() -> None:
    assert {c.dataset for c in COX} == {"lung", "veteran", "ovarian", "bladder", "mgus2"}
    assert len(COX) == 19
    assert len(SURVFIT) == 2


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_counts_and_missing_rows(case: CoxCase) -> None:
    a = case.analysis
    fit = fit_for(a["call"])
    assert fit.n == a["n"]
    assert fit.n_events == a["nevent"]
    assert fit.n_dropped == a["n_missing_dropped"]
    stripped = [t.replace("factor(", "").replace(")", "") for t in a["terms"]]
    assert list(fit.names) == stripped
    for key, levels in (a["xlevels"] or {}).items():
        if key.startswith("strata("):
            continue
        col = key.replace("factor(", "").replace(")", "")
        assert [level_label(v) for v in fit.xlevels[col]] == levels


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_coefficients_and_inference(case: CoxCase) -> None:
    a = case.analysis
    fit = fit_for(a["call"])
    assert_close(fit.coef, a["coef"], "cox coef")
    assert_close(fit.hazard_ratio, a["exp_coef"], "cox hazard_ratio")
    assert_close(fit.se, a["se_coef"], "cox se")
    assert_close(fit.z, a["z"], "cox z")
    assert_close(fit.p, a["p"], "cox p")
    assert_close(fit.var, a["var"], "cox var")
    assert_close(fit.means, a["means"], "cox means")
    assert_close(fit.conf_int[:, 0], a["conf_int_exp"]["lower"], "cox conf_int lower")
    assert_close(fit.conf_int[:, 1], a["conf_int_exp"]["upper"], "cox conf_int upper")
    assert_close(fit.conf_int_coef[:, 0], a["conf_int_coef"]["lower"], "cox conf_int_coef")
    assert_close(fit.conf_int_coef[:, 1], a["conf_int_coef"]["upper"], "cox conf_int_coef")
    assert fit.conf_level == a["conf_int_exp"]["level"]
    if a["robust_variance"]:
        assert_close(fit.robust_se, a["robust_se"], "cox robust_se")
        assert_close(fit.naive_var, a["naive_var"], "cox naive_var")
    else:
        assert fit.robust_se is None and a["robust_se"] is None
        assert fit.naive_var is None and a["naive_var"] is None


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_likelihood_iterations_and_global_tests(case: CoxCase) -> None:
    a = case.analysis
    fit = fit_for(a["call"])
    assert_close([fit.loglik_null, fit.loglik], [a["loglik"]["null"], a["loglik"]["final"]],
                 "cox loglik")
    assert fit.iterations == a["iterations"]
    pairs = [(fit.lr_test, a["lr_test"]), (fit.wald_test, a["wald_test"]), (fit.score_test, a["score_test"])]
    if a["robust_score_test"] is None:
        assert fit.robust_score_test is None
    else:
        pairs.append((fit.robust_score_test, a["robust_score_test"]))
    for mine, ref in pairs:
        assert_close(mine.statistic, ref["test"], "cox test statistic")
        assert mine.df == ref["df"]
        assert_close(mine.p_value, ref["pvalue"], "cox test p")


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_concordance(case: CoxCase) -> None:
    a = case.analysis["concordance"]
    c = fit_for(case.analysis["call"]).concordance
    assert_close([c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy],
                 [a["concordant"], a["discordant"], a["tied.x"], a["tied.y"], a["tied.xy"]], "cox concordance counts")
    assert_close(c.c_index, a["C"], "cox c_index")
    assert_close(c.std_err, a["std"], "cox std_err")


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_cox_zph(case: CoxCase) -> None:
    a = case.analysis["cox_zph"]
    assert a["transform"] == "km"
    z = fit_for(case.analysis["call"]).zph("km")
    assert list(z.table.index) == [r.replace("factor(", "").replace(")", "") for r in a["rows"]]
    assert_close(z.table["chisq"], a["chisq"], "cox zph chisq")
    assert list(z.table["df"]) == a["df"]
    assert_close(z.table["p"], a["p"], "cox zph p")


DETAILS = [c for c in COX if "details" in c.analysis]


@pytest.mark.parametrize("case", DETAILS, ids=ids(DETAILS))
def test_details_residuals_and_baseline(case: CoxCase) -> None:
    det = case.analysis["details"]
    fit = fit_for(case.analysis["call"])
    assert_close(fit.linear_predictors, det["linear_predictors"]["values"], "cox linear_predictors")
    assert_close(fit.residuals("martingale"), det["residuals_martingale"], "cox residuals(martingale)")
    assert_close(fit.residuals("deviance"), det["residuals_deviance"], "cox residuals(deviance)")
    sch = det["residuals_schoenfeld"]
    (key,) = [k for k in sch if k != "note"]
    assert_close(fit.residuals("schoenfeld"), sch[key], "cox residuals(schoenfeld)")
    assert_close(fit.event_times, [float(t) for t in sch[key]["rownames"]], "cox event_times")
    for centered, name in ((True, "basehaz_centered"), (False, "basehaz_uncentered")):
        bh = fit.baseline_hazard(centered=centered)
        assert_close(bh.time, det[name]["time"], "cox time")
        assert_close(bh.hazard, det[name]["hazard"], "cox hazard")


@pytest.mark.parametrize("case", SURVFIT, ids=ids(SURVFIT))
@pytest.mark.parametrize(("conf_type", "key"), [("log", "conf_log"), ("log-log", "conf_loglog")])
def test_survfit_newdata(case: CoxCase, conf_type: str, key: str) -> None:
    a = case.analysis
    fit = fit_for(a["cox_call"])
    pred = fit.predict_survival(pd.DataFrame(a["newdata_values"]), conf_type=conf_type)
    assert_close(pred.time, a["time"], "cox time")
    for curve in pred.curves:
        assert_close(curve.n_risk, a["n.risk"], "cox n_risk")
        assert_close(curve.n_event, a["n.event"], "cox n_event")
    assert_close(pred.surv, a["surv"], "cox surv")
    assert_close(pred.cumhaz, a["cumhaz"], "cox cumhaz")
    assert_close(pred.std_err, a["std.err"], "cox std_err")
    assert_close(pred.lower, a[key]["lower"], "cox lower")
    assert_close(pred.upper, a[key]["upper"], "cox upper")
