"""fine_gray against cmprsk::crr (mgus2 and the simulated cases of cmprsk.json) and
survival::finegray + coxph."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ConvergenceWarning, ValidationError
from npctrial.survival.fine_gray import fine_gray
from tests.rrefs import ITERATIVE, load_ref, read_data
from tests.survival._competing_refs import analyses, assert_close, dataset, ids, num

CRR = analyses("crr")
FINEGRAY = analyses("finegray_coxph")
# crr is iterative (Newton, gtol 1e-6) but deterministic: the same iterations from 0 land on the
# same estimate, so agreement is far below the iterative-fit tolerance.
RTOL = ITERATIVE


def test_references_present() -> None:
    assert CRR and FINEGRAY


def _covariates(a: dict) -> list[str]:
    m = re.search(r"cov1 = cbind\(([^)]*)\)", a["call"]) if "call" in a else None
    if m is not None:
        return [part.split("=")[0].strip() for part in m.group(1).split(",")]
    return list(a["terms"])


@pytest.mark.parametrize(("name", "a"), CRR, ids=ids(CRR))
def test_crr_matches_r(name: str, a: dict) -> None:
    df = dataset(name, a)
    covs = _covariates(a)
    assert covs == a["terms"]
    assert "cencode = 0" in a["call"]
    res = fine_gray(df, "etime", "event", covs, cause=a["failcode"], censor_code=0)
    assert list(res.terms) == a["terms"]
    assert res.converged is a["converged"]
    assert res.n == a["n"] and res.n_missing == a["n_missing"]
    assert_close(res.coef, a["coef"], RTOL, "coef")
    assert_close(res.hazard_ratio, a["exp_coef"], RTOL, "exp(coef)")
    assert_close(res.se, a["se_coef"], RTOL, "se")
    assert_close(res.z, a["z"], RTOL, "z")
    assert_close(res.p, a["p"], RTOL, "p")
    assert a["conf_int_exp"]["level"] == res.conf_level
    assert_close(res.conf_int[:, 0], a["conf_int_exp"]["lower"], RTOL, "lower CI")
    assert_close(res.conf_int[:, 1], a["conf_int_exp"]["upper"], RTOL, "upper CI")
    assert_close(res.var, num(a["var"]["values"]), RTOL, "var")
    assert_close(res.loglik, a["loglik"], RTOL, "loglik")
    assert_close(res.loglik_null, a["loglik_null"], RTOL, "loglik_null")
    assert_close(res.lr_stat, a["lr_stat"], RTOL, "lr_stat")
    frame = res.to_frame()
    assert list(frame.index) == a["terms"]
    assert "Pseudo Log-likelihood" in res.summary()


@pytest.mark.parametrize(("name", "a"), FINEGRAY, ids=ids(FINEGRAY))
def test_agrees_with_finegray_coxph_to_about_three_digits(name: str, a: dict) -> None:
    """survival::finegray + weighted coxph fits the same model differently: it expands the data
    into (start, stop] pieces with censoring weights that are constant between censoring times
    and uses Efron ties, so its coefficients agree with crr only to ~3 digits; its robust SE
    treats the weights as known (no term for estimating G), so the SEs agree only roughly."""
    df = dataset(name, a)
    etype = re.search(r'etype = "(\w+)"', a["call_finegray"]).group(1)
    cause = {"pcm": 1, "death": 2}[etype]
    res = fine_gray(df, "etime", "event", list(a["terms"]), cause=cause)
    assert_close(res.coef, a["coef"], 1e-2, "finegray+coxph coef")
    assert_close(res.hazard_ratio, a["exp_coef"], 2e-3, "finegray+coxph exp(coef)")
    assert_close(res.se, a["robust_se"], 0.15, "finegray+coxph robust_se")
    assert np.all(np.sign(res.z) == np.sign(num(a["z"])))


# --------------------------------------------------------------------------------------------
# simulated data (cmprsk.json): three causes, ties and zeros, a three-level factor, edge codings
# --------------------------------------------------------------------------------------------

CRR_DATA = read_data("cr_crr")
EDGE = read_data("cr_crr_edge")
SIM = {a["id"]: a for a in load_ref("cmprsk")["analyses"] if a["type"] == "crr"}


def _assert_crr(res, a: dict) -> None:
    assert list(res.terms) == a["terms"]
    assert res.converged is a["converged"] and res.n == a["n"] and res.n_missing == a["n_missing"]
    assert_close(res.coef, a["coef"], RTOL, "coef")
    assert_close(res.se, a["se_coef"], RTOL, "se")
    assert_close(res.var, num(a["var"]), RTOL, "var")
    assert_close(res.loglik, a["loglik"], RTOL, "loglik")
    assert_close(res.loglik_null, a["loglik_null"], RTOL, "loglik_null")
    assert_close(res.baseline_time, a["uftime"], 0.0, "uftime")
    assert_close(res.baseline_jump, a["bfitj"], RTOL, "bfitj")


@pytest.mark.parametrize("cause", [1, 2, 3])
def test_matches_crr_three_causes_ties_and_factor(cause: int) -> None:
    a = SIM[f"crr_cause{cause}"]
    assert "model.matrix(~ age + male + arm" in a["call"] and f"failcode = {cause}" in a["call"]
    data = CRR_DATA.assign(arm=pd.Categorical(CRR_DATA["arm"], categories=["ctl", "exp", "high"]))
    res = fine_gray(data, "time", "status", ["age", "male", "arm"], cause=cause, categorical=["arm"])
    assert res.terms == ("age", "male", "armexp", "armhigh")
    _assert_crr(res, a)


def test_prediction_is_predict_crr() -> None:
    a = SIM["crr_cause1"]
    pred_ref = a["predict"]
    res = fine_gray(CRR_DATA, "time", "status", ["age", "male", "arm"], cause=1, categorical=["arm"])
    new = pd.DataFrame({"age": [50.0, 70.0], "male": [0.0, 1.0], "arm": ["ctl", "exp"]},
                       index=pred_ref["newcov"]["rownames"])
    assert num(pred_ref["newcov"]).tolist() == [[50, 0, 0, 0], [70, 1, 1, 0]]
    pred = res.predict_cumulative_incidence(new)
    assert list(pred.columns) == ["young", "old"]
    assert_close(pred.index.to_numpy(), pred_ref["time"], 0.0, "predict time")
    assert_close(pred.to_numpy(), num(pred_ref["cif"]), RTOL, "predict cif")
    assert np.all(np.diff(pred.to_numpy(), axis=0) >= 0)


def _synthetic(seed: int, n: int) -> pd.DataFrame:
    """Tied, zero-including data for behaviour checks that need no R value."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    arm = rng.choice(["ctl", "exp", "high"], n)
    lp = 0.03 * (age - 60) + 0.5 * (arm == "exp")
    return pd.DataFrame(
        {
            "time": np.round(rng.exponential(10 * np.exp(-lp))),
            "status": rng.choice([0, 1, 2, 3], n, p=[0.3, 0.35, 0.2, 0.15]),
            "age": age,
            "male": rng.integers(0, 2, n).astype(float),
            "arm": arm,
        }
    )


def test_categorical_uses_treatment_contrasts() -> None:
    df = _synthetic(6, 80)
    df["sex"] = np.where(df["male"] == 1.0, "M", "F")
    a = fine_gray(df, "time", "status", ["age", "male"])
    b = fine_gray(df, "time", "status", ["age", "sex"], categorical=["sex"])
    assert b.terms == ("age", "sexM")
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-12)
    np.testing.assert_allclose(b.var, a.var, rtol=1e-10)


def test_missing_rows_dropped_like_na_omit() -> None:
    df = _synthetic(8, 80)
    holed = df.copy()
    holed.loc[[3, 10, 20], "age"] = np.nan
    holed.loc[5, "time"] = np.nan
    res = fine_gray(holed, "time", "status", ["age", "male"])
    ref = fine_gray(df.drop(index=[3, 5, 10, 20]), "time", "status", ["age", "male"])
    assert res.n_missing == 4 and res.n == len(df) - 4
    np.testing.assert_allclose(res.coef, ref.coef, rtol=1e-13)
    assert "4 cases omitted" in res.summary()


def test_non_convergence_warns() -> None:
    df = _synthetic(9, 60)
    with pytest.warns(ConvergenceWarning):
        res = fine_gray(df, "time", "status", ["age"], max_iter=0)
    assert not res.converged and res.iterations == 0


def test_validation_errors_name_the_problem() -> None:
    df = _synthetic(10, 40)
    with pytest.raises(ValidationError, match="no column 'bmi'"):
        fine_gray(df, "time", "status", ["bmi"])
    with pytest.raises(ValidationError, match="constant"):
        fine_gray(df.assign(one=1.0), "time", "status", ["age", "one"])
    with pytest.raises(ValidationError, match="collinear"):
        fine_gray(df.assign(age2=2 * df["age"]), "time", "status", ["age", "age2"])
    with pytest.raises(ValidationError, match="cause 7"):
        fine_gray(df, "time", "status", ["age"], cause=7)
    with pytest.raises(ValidationError, match="row 2"):
        fine_gray(df.assign(time=np.r_[1.0, 2.0, -1.0, df["time"].to_numpy()[3:]]), "time", "status", ["age"])
    with pytest.raises(ValidationError, match="numeric"):
        fine_gray(df, "time", "status", ["arm"])
    res = fine_gray(df, "time", "status", ["arm"], categorical=["arm"])
    with pytest.raises(ValidationError, match="fitted levels"):
        res.predict_cumulative_incidence(pd.DataFrame({"arm": ["other"]}))


@pytest.mark.parametrize("case", ["no_competing", "no_censoring", "only_the_cause", "events_at_zero"])
def test_edge_cases_match_crr(case: str) -> None:
    a = SIM[f"crr_edge_{case}"]
    tcol = "t_events_at_zero" if case == "events_at_zero" else "t"
    assert f"crr({tcol}, ev_{case}, cbind(age = age, z = z)" in a["call"]
    res = fine_gray(EDGE, tcol, f"ev_{case}", ["age", "z"])
    _assert_crr(res, a)


def test_labelled_status_column() -> None:
    df = _synthetic(15, 70)
    df["label"] = df["status"].map({0: "censored", 1: "relapse", 2: "death", 3: "other"})
    coded = fine_gray(df, "time", "status", ["age", "male"], cause=2)
    text = fine_gray(df, "time", "label", ["age", "male"], cause="death", censor_code="censored")
    np.testing.assert_array_equal(text.coef, coded.coef)
    np.testing.assert_array_equal(text.var, coded.var)
