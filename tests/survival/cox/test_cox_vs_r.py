"""cox_ph against R survival 3.5-3: every coxph and coxph_survfit analysis in ../shared/refs."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from npctrial.survival.cox import CoxResult, cox_ph
from npctrial.survival.cox.design_matrix import level_label
from tests.survival.cox.refcases import CoxCase, cox_cases, num

RTOL = 1e-6
ATOL = 1e-12  # absolute floor for entries that are 0 in R's output

COX = cox_cases("coxph")
SURVFIT = cox_cases("coxph_survfit")


@cache
def fit_for(call: str) -> CoxResult:
    case = next(c for c in COX if c.analysis["call"] == call)
    return cox_ph(case.data, **case.kwargs)


def assert_close(actual: object, expected: object) -> None:
    assert_allclose(np.asarray(actual, dtype=float), num(expected), rtol=RTOL, atol=ATOL)


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
    assert_close(fit.coef, a["coef"])
    assert_close(fit.hazard_ratio, a["exp_coef"])
    assert_close(fit.se, a["se_coef"])
    assert_close(fit.z, a["z"])
    assert_close(fit.p, a["p"])
    assert_close(fit.var, a["var"])
    assert_close(fit.means, a["means"])
    assert_close(fit.conf_int[:, 0], a["conf_int_exp"]["lower"])
    assert_close(fit.conf_int[:, 1], a["conf_int_exp"]["upper"])
    assert_close(fit.conf_int_coef[:, 0], a["conf_int_coef"]["lower"])
    assert_close(fit.conf_int_coef[:, 1], a["conf_int_coef"]["upper"])
    assert fit.conf_level == a["conf_int_exp"]["level"]
    if a["robust_variance"]:
        assert_close(fit.robust_se, a["robust_se"])
        assert_close(fit.naive_var, a["naive_var"])
    else:
        assert fit.robust_se is None and a["robust_se"] is None
        assert fit.naive_var is None and a["naive_var"] is None


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_likelihood_iterations_and_global_tests(case: CoxCase) -> None:
    a = case.analysis
    fit = fit_for(a["call"])
    assert_close([fit.loglik_null, fit.loglik], [a["loglik"]["null"], a["loglik"]["final"]])
    assert fit.iterations == a["iterations"]
    pairs = [(fit.lr_test, a["lr_test"]), (fit.wald_test, a["wald_test"]), (fit.score_test, a["score_test"])]
    if a["robust_score_test"] is None:
        assert fit.robust_score_test is None
    else:
        pairs.append((fit.robust_score_test, a["robust_score_test"]))
    for mine, ref in pairs:
        assert_close(mine.statistic, ref["test"])
        assert mine.df == ref["df"]
        assert_close(mine.p_value, ref["pvalue"])


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_concordance(case: CoxCase) -> None:
    a = case.analysis["concordance"]
    c = fit_for(case.analysis["call"]).concordance
    assert_close([c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy],
          [a["concordant"], a["discordant"], a["tied.x"], a["tied.y"], a["tied.xy"]])
    assert_close(c.c_index, a["C"])
    assert_close(c.std_err, a["std"])


@pytest.mark.parametrize("case", COX, ids=ids(COX))
def test_cox_zph(case: CoxCase) -> None:
    a = case.analysis["cox_zph"]
    assert a["transform"] == "km"
    z = fit_for(case.analysis["call"]).zph("km")
    assert list(z.table.index) == [r.replace("factor(", "").replace(")", "") for r in a["rows"]]
    assert_close(z.table["chisq"], a["chisq"])
    assert list(z.table["df"]) == a["df"]
    assert_close(z.table["p"], a["p"])


DETAILS = [c for c in COX if "details" in c.analysis]


@pytest.mark.parametrize("case", DETAILS, ids=ids(DETAILS))
def test_details_residuals_and_baseline(case: CoxCase) -> None:
    det = case.analysis["details"]
    fit = fit_for(case.analysis["call"])
    assert_close(fit.linear_predictors, det["linear_predictors"]["values"])
    assert_close(fit.residuals("martingale"), det["residuals_martingale"])
    assert_close(fit.residuals("deviance"), det["residuals_deviance"])
    sch = det["residuals_schoenfeld"]
    (key,) = [k for k in sch if k != "note"]
    assert_close(fit.residuals("schoenfeld"), sch[key])
    assert_close(fit.event_times, [float(t) for t in sch[key]["rownames"]])
    for centered, name in ((True, "basehaz_centered"), (False, "basehaz_uncentered")):
        bh = fit.baseline_hazard(centered=centered)
        assert_close(bh.time, det[name]["time"])
        assert_close(bh.hazard, det[name]["hazard"])


@pytest.mark.parametrize("case", SURVFIT, ids=ids(SURVFIT))
@pytest.mark.parametrize(("conf_type", "key"), [("log", "conf_log"), ("log-log", "conf_loglog")])
def test_survfit_newdata(case: CoxCase, conf_type: str, key: str) -> None:
    a = case.analysis
    fit = fit_for(a["cox_call"])
    pred = fit.predict_survival(pd.DataFrame(a["newdata_values"]), conf_type=conf_type)
    assert_close(pred.time, a["time"])
    for curve in pred.curves:
        assert_close(curve.n_risk, a["n.risk"])
        assert_close(curve.n_event, a["n.event"])
    assert_close(pred.surv, a["surv"])
    assert_close(pred.cumhaz, a["cumhaz"])
    assert_close(pred.std_err, a["std.err"])
    assert_close(pred.lower, a[key]["lower"])
    assert_close(pred.upper, a[key]["upper"])
