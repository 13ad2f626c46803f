"""survreg (AFT: weibull, exponential, lognormal, loglogistic) against R's survreg on lung and
veteran (tests/data/refs/survreg.json, survreg_predict.json)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ConvergenceWarning, ValidationError
from npctrial.survival import SurvregResult, survreg
from tests.rrefs import ITERATIVE, analyses, assert_r_close, num, read_data

FITS = analyses("survreg", "survreg")
PREDICTIONS = {a["id"]: a for a in analyses("survreg_predict", "survreg_predict")}
CELLTYPES = ["squamous", "smallcell", "adeno", "large"]


def _fit(a: dict) -> SurvregResult:
    if a["id"].startswith("lung"):
        assert "Surv(time, status) ~ age + sex + ph.ecog" in a["call"]
        return survreg(read_data("lung"), "time", "status", ["age", "sex", "ph.ecog"], dist=a["dist"])
    assert "Surv(time, status) ~ trt + karno + factor(celltype)" in a["call"]
    vet = read_data("veteran")
    vet["celltype"] = pd.Categorical(vet["celltype"], categories=CELLTYPES)
    return survreg(vet, "time", "status", ["trt", "karno", "celltype"], categorical=["celltype"], dist=a["dist"])


def _names(r_names) -> list[str]:
    return [re.sub(r"factor\((\w+)\)", r"\1", n) for n in r_names]


@pytest.mark.parametrize("a", FITS, ids=[a["id"] for a in FITS])
def test_fit_matches_r(a: dict) -> None:
    fit = _fit(a)
    assert list(fit.names) == _names(a["coef"])
    assert list(fit.parameter_names) == _names(a["se"]) == _names(a["var"]["rownames"])
    assert_r_close(fit.coef, list(a["coef"].values()), ITERATIVE, "survreg coef")
    assert_r_close(fit.scale, a["scale"], ITERATIVE, "survreg scale")
    assert_r_close(fit.se, list(a["se"].values()), ITERATIVE, "survreg se")
    k = len(fit.parameter_names)
    assert_r_close(fit.var, num(a["var"]["values"]).reshape(k, k), ITERATIVE, "survreg var")
    if a["log_scale_se"] == "NA":
        assert fit.fixed_scale and fit.scale == 1.0
    else:
        assert_r_close(fit.se[-1], a["log_scale_se"], ITERATIVE, "survreg log_scale_se")
    assert_r_close([fit.loglik_null, fit.loglik], a["loglik"], ITERATIVE, "survreg loglik")
    assert fit.iterations == a["iterations"] and fit.converged
    assert fit.n == a["n"]


@pytest.mark.parametrize("a", FITS, ids=[a["id"] for a in FITS])
def test_predictions_summary_table_and_chisq_match_r(a: dict) -> None:
    ref = PREDICTIONS[a["id"]]
    fit = _fit(a)
    if a["id"].startswith("lung"):
        new = pd.DataFrame({"age": [50, 65, 80], "sex": [1, 2, 1], "ph.ecog": [0, 1, 3]})
    else:
        new = pd.DataFrame({"trt": [1, 2, 2], "karno": [30, 60, 90], "celltype": ["squamous", "adeno", "large"]})
    assert num(ref["predict_quantile"]["p"]).tolist() == [0.1, 0.25, 0.5, 0.75, 0.9]
    q, q_se = fit.predict(new, type="quantile", p=[0.1, 0.25, 0.5, 0.75, 0.9], se_fit=True)
    assert_r_close(q, ref["predict_quantile"]["fit"], ITERATIVE, "survreg quantile")
    assert_r_close(q_se, ref["predict_quantile"]["se_fit"], ITERATIVE, "survreg quantile se")
    lp, lp_se = fit.predict(new, type="lp", se_fit=True)
    assert_r_close(lp, ref["predict_lp"]["fit"], ITERATIVE, "survreg lp")
    assert_r_close(lp_se, ref["predict_lp"]["se_fit"], ITERATIVE, "survreg lp se")
    assert_r_close(fit.predict(new, type="response"), ref["predict_response"], ITERATIVE, "survreg response")
    surv = fit.predict_survival(new, num(ref["survival"]["times"]))
    assert_r_close(surv.to_numpy(), ref["survival"]["values"], ITERATIVE, "survreg survival")
    table = fit.to_frame()
    assert list(table.index) == _names(ref["summary_table"]["rownames"])
    assert_r_close(table.iloc[:, :4].to_numpy(), ref["summary_table"]["values"], ITERATIVE, "survreg table")
    chisq, df, p = fit.lr_test
    assert df == ref["chisq"]["df"]
    assert_r_close([chisq, p], [ref["chisq"]["value"], ref["chisq"]["p"]], ITERATIVE, "survreg chisq")
    assert_r_close(fit.linear_predictors, ref["linear_predictors"], ITERATIVE, "survreg linear_predictors")


def test_summary_is_laid_out_like_r() -> None:
    fit = _fit(FITS[0])
    text = fit.summary()
    assert text.splitlines()[0].split() == ["Value", "Std.", "Error", "z", "p"]
    for part in ("(Intercept)", "Log(scale)", "Scale= 0.731", "Weibull distribution",
                 "Loglik(model)= -1132.4   Loglik(intercept only)= -1147.4",
                 "Chisq= 29.98 on 3 degrees of freedom", "Number of Newton-Raphson Iterations: 5",
                 "n=227 (1 observation deleted due to missingness)"):
        assert part in text, part
    exp = _fit(next(a for a in FITS if a["dist"] == "exponential"))
    assert "Scale fixed at 1" in exp.summary() and "Log(scale)" not in exp.summary()
    assert np.allclose(fit.time_ratio, np.exp(fit.coef))


def test_invalid_inputs() -> None:
    lung = read_data("lung")
    with pytest.raises(ValidationError, match="time must be > 0 for a log-time model") as err:
        survreg(lung.assign(time=lung["time"].where(lung.index != 3, 0)), "time", "status", ["age"])
    assert err.value.row == 3
    with pytest.raises(ValidationError) as err:
        survreg(lung, "time", "status", ["age"], dist="gompertz")
    assert err.value.field == "dist"
    with pytest.raises(ValidationError, match="age2 are constant or collinear"):
        survreg(lung.assign(age2=2 * lung["age"]), "time", "status", ["age", "age2"])
    fit = survreg(lung, "time", "status", ["age"])
    with pytest.raises(ValidationError, match="newdata lacks covariate column 'age'"):
        fit.predict(pd.DataFrame({"sex": [1]}))
    with pytest.raises(ValidationError, match="times must be finite and > 0"):
        fit.predict_survival(pd.DataFrame({"age": [60]}), [0, 10])


def test_iteration_limit_warns_and_intercept_only_model() -> None:
    lung = read_data("lung")
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = survreg(lung, "time", "status", ["age", "sex"], max_iter=2)
    assert not fit.converged and fit.iterations == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        null = survreg(lung.dropna(subset=["ph.ecog"]), "time", "status")
    assert null.names == ("(Intercept)",) and null.loglik == null.loglik_null
    assert_r_close(null.loglik, FITS[0]["loglik"][0], ITERATIVE, "survreg loglik")  # R's loglik[1]
