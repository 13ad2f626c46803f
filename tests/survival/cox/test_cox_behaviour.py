"""cox_ph behaviour: identities of the partial likelihood, validation, warnings, helpers."""

from __future__ import annotations

import itertools
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from npctrial.errors import ConvergenceWarning, StatisticalWarning, ValidationError
from npctrial.survival import compute_concordance, cox_ph, cox_univariate

matplotlib.use("Agg")


def synthetic(n: int = 300, seed: int = 1, strata: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n)
    x3 = rng.uniform(40, 80, size=n)
    lin = 0.5 * x1 - 0.7 * x2 + 0.02 * x3
    t = np.ceil(rng.exponential(1.0 / np.exp(lin - 1.5)) * 5)  # coarse: many ties
    c = np.ceil(rng.exponential(20, size=n))
    time = np.minimum(t, c)
    df = pd.DataFrame({"time": time, "status": (t <= c).astype(int), "x1": x1, "x2": x2, "x3": x3})
    if strata:
        df["s"] = rng.integers(0, 3, size=n)
    return df


# ---------------------------------------------------------------- published tiny vector
def test_statistics_md_tiny_vector() -> None:
    # /work/shared/domain/statistics.md section 13 (R survival 3.5-3), numbers rounded to 7 digits
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5, 5, 7, 8, 9], "e": [1, 1, 1, 1, 0, 1, 1, 0, 1, 0],
                       "x": [1, 2, 1, 2, 1, 2, 1, 2, 2, 1]})
    ef = cox_ph(df, "t", "e", ["x"])
    assert_allclose(ef.coef[0], 0.0500989, rtol=2e-6)
    assert_allclose(ef.se[0], 0.7666778, rtol=2e-6)
    assert_allclose([ef.loglik_null, ef.loglik], [-12.2140408, -12.2119010], rtol=1e-8)
    assert_allclose(ef.score_test.statistic, 0.0042709, rtol=2e-5)
    assert_allclose(ef.wald_test.statistic, 0.0042700, rtol=2e-5)
    br = cox_ph(df, "t", "e", ["x"], ties="breslow")
    assert_allclose(br.coef[0], 0.0686214, rtol=2e-6)
    assert_allclose(br.se[0], 0.7660473, rtol=2e-6)
    assert_allclose([br.loglik_null, br.loglik], [-12.5549674, -12.5509430], rtol=1e-8)
    assert_allclose(br.score_test.statistic, 0.0080274, rtol=2e-5)


# ---------------------------------------------------------------- likelihood identities
@pytest.mark.parametrize(("ties", "strata"), list(itertools.product(["efron", "breslow"], [False, True])))
def test_counting_process_split_gives_the_same_fit(ties: str, strata: bool) -> None:
    """Splitting follow-up (0, t] into (0, u], (u, t] leaves every risk set unchanged."""
    df = synthetic(strata=strata)
    df["entry"] = 0.0
    rng = np.random.default_rng(7)
    split = df[df.time > 2].copy()
    cut = np.floor(rng.uniform(1, split.time))
    first = split.assign(time=cut, status=0)
    second = split.assign(entry=cut)
    long = pd.concat([df[df.time <= 2], first, second], ignore_index=True).sample(frac=1, random_state=3)
    s = "s" if strata else None
    ref = cox_ph(df, "time", "status", ["x1", "x2", "x3"], ties=ties, strata=s)
    got = cox_ph(long, "time", "status", ["x1", "x2", "x3"], ties=ties, strata=s, entry="entry")
    assert_allclose(got.coef, ref.coef, rtol=1e-9)
    assert_allclose(got.var, ref.var, rtol=1e-9)
    assert_allclose(got.loglik, ref.loglik, rtol=1e-12)
    assert_allclose(got.score_test.statistic, ref.score_test.statistic, rtol=1e-9)
    # means differ (more rows), so compare the uncentred baseline hazard at the last time
    assert_allclose(got.baseline_hazard(centered=False).hazard[-1], ref.baseline_hazard(centered=False).hazard[-1],
                    rtol=1e-9)


def test_delayed_entry_removes_subjects_from_early_risk_sets() -> None:
    df = synthetic(80)
    late = df.assign(entry=np.where(np.arange(len(df)) % 2 == 0, 0.0, np.minimum(3.0, df.time - 0.5)))
    fit = cox_ph(late, "time", "status", ["x1"], entry="entry")
    plain = cox_ph(df, "time", "status", ["x1"])
    assert not np.allclose(fit.coef, plain.coef)


def test_integer_case_weights_equal_replicated_rows_breslow() -> None:
    df = synthetic(120)
    w = np.random.default_rng(2).integers(1, 4, size=len(df))
    rep = df.loc[df.index.repeat(w)].reset_index(drop=True)
    wf = cox_ph(df.assign(w=w), "time", "status", ["x1", "x2"], weights="w", ties="breslow")
    rf = cox_ph(rep, "time", "status", ["x1", "x2"], ties="breslow")
    assert_allclose(wf.coef, rf.coef, rtol=1e-9)
    assert_allclose(wf.var, rf.var, rtol=1e-9)
    assert_allclose(wf.loglik, rf.loglik, rtol=1e-12)


def test_offset_at_the_fitted_value_reproduces_the_other_coefficient() -> None:
    df = synthetic()
    full = cox_ph(df, "time", "status", ["x1", "x2"])
    off = cox_ph(df.assign(o=full.coef[0] * df.x1), "time", "status", ["x2"], offset="o")
    assert_allclose(off.coef[0], full.coef[1], rtol=1e-6)


def test_event_coding_1_2_and_explicit_codes_match_0_1() -> None:
    df = synthetic(100)
    ref = cox_ph(df, "time", "status", ["x1"])
    assert_allclose(cox_ph(df.assign(st=df.status + 1), "time", "st", ["x1"]).coef, ref.coef, rtol=1e-12)
    coded = df.assign(st=np.where(df.status == 1, "dead", "alive"))
    assert_allclose(cox_ph(coded, "time", "st", ["x1"], event_codes=("alive", "dead")).coef, ref.coef,
                    rtol=1e-12)


def test_score_residuals_sum_to_the_score_and_martingales_to_zero() -> None:
    df = synthetic(strata=True)
    for ties in ("efron", "breslow"):
        fit = cox_ph(df, "time", "status", ["x1", "x2", "x3"], ties=ties, strata="s")
        assert np.abs(fit.residuals("score").sum(axis=0)).max() < 1e-6
        assert abs(fit.residuals("martingale").sum()) < 1e-8
        assert fit.residuals("dfbeta").shape == (len(df), 3)
        sch = fit.residuals("schoenfeld")
        assert sch.shape == (int(df.status.sum()), 3)
        assert np.abs(sch.sum(axis=0)).max() < 1e-6  # = U(beta-hat) with unit weights


def test_robust_without_cluster_uses_one_cluster_per_row() -> None:
    df = synthetic()
    a = cox_ph(df, "time", "status", ["x1", "x2"], robust=True)
    b = cox_ph(df.assign(id=np.arange(len(df))), "time", "status", ["x1", "x2"], cluster="id")
    assert_allclose(a.robust_se, b.robust_se, rtol=1e-12)
    d = a.residuals("dfbeta")
    assert_allclose(a.var, d.T @ d, rtol=1e-12)


# ------------------------------------------------------------------------- concordance
def _brute_concordance(time: np.ndarray, status: np.ndarray, eta: np.ndarray) -> tuple[float, ...]:
    conc = disc = tx = ty = txy = 0.0
    n = len(time)
    for i in range(n):
        for j in range(n):
            if i == j or status[i] != 1:
                continue
            if time[j] > time[i] or (time[j] == time[i] and status[j] == 0):
                if eta[i] > eta[j]:
                    conc += 1
                elif eta[i] < eta[j]:
                    disc += 1
                else:
                    tx += 1
            elif time[j] == time[i] and status[j] == 1 and i < j:
                if eta[i] == eta[j]:
                    txy += 1
                else:
                    ty += 1
    return conc, disc, tx, ty, txy


def test_concordance_counts_match_a_brute_force_pair_loop() -> None:
    rng = np.random.default_rng(5)
    time = rng.integers(1, 15, size=60).astype(float)
    status = rng.binomial(1, 0.7, size=60)
    eta = rng.integers(0, 5, size=60).astype(float)
    c = compute_concordance(time, status, eta)
    want = _brute_concordance(time, status, eta)
    assert (c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy) == want
    assert c.c_index == pytest.approx((want[0] + want[2] / 2) / (want[0] + want[1] + want[2]))


def test_concordance_entry_before_every_event_changes_nothing_with_weights_and_strata() -> None:
    """Entry times before every event: the (entry, stop] path must subtract no pair."""
    rng = np.random.default_rng(11)
    n = 400
    time = rng.integers(1, 40, size=n).astype(float)
    status = rng.binomial(1, 0.6, size=n)
    eta = rng.integers(0, 12, size=n).astype(float)
    w = rng.uniform(0.5, 2.0, size=n)
    strata = rng.integers(0, 3, size=n)
    cluster = rng.integers(0, 50, size=n)
    merge = compute_concordance(time, status, eta, weights=w, strata=strata, cluster=cluster)
    pairwise = compute_concordance(time, status, eta, weights=w, strata=strata, cluster=cluster,
                                   entry=np.full(n, -1.0))
    for name in ("concordant", "discordant", "tied_x", "tied_y", "tied_xy", "c_index", "std_err"):
        assert getattr(merge, name) == pytest.approx(getattr(pairwise, name), rel=1e-12), name


# -------------------------------------------------------------- validation and warnings
def test_missing_rows_are_dropped_and_counted_per_column() -> None:
    df = synthetic(50)
    df.loc[[1, 2], "x1"] = np.nan
    df.loc[[2, 5], "x2"] = np.nan
    fit = cox_ph(df, "time", "status", ["x1", "x2"])
    assert fit.n == 47 and fit.n_dropped == 3
    assert fit.dropped_by_column == {"x1": 2, "x2": 2}
    assert "3 observations deleted due to missingness" in fit.summary()


def test_constant_and_collinear_covariates_are_aliased_as_r() -> None:
    # R coxph (singular.ok = TRUE): NA for the aliased term, the rest fitted; we warn naming it
    df = synthetic(60).assign(k=1.0)
    ref = cox_ph(df, "time", "status", ["x1"])
    for value in (1.0, 0.1):  # also for a value that is not representable exactly
        with pytest.warns(StatisticalWarning, match="covariate\\(s\\) k are constant or collinear"):
            fit = cox_ph(df.assign(k=value), "time", "status", ["x1", "k"])
        assert fit.names == ("x1", "k") and fit.aliased == ("k",)
        assert np.isnan(fit.coef[1]) and np.isnan(fit.se[1]) and np.isnan(fit.var[1]).all()
        assert fit.coef[0] == ref.coef[0] and fit.var[0, 0] == ref.var[0, 0]
        assert fit.lr_test.df == 1
    df["x4"] = df.x1 + 2 * df.x3
    with pytest.warns(StatisticalWarning, match="x4 are constant or collinear"):
        fit = cox_ph(df, "time", "status", ["x1", "x3", "x4"])
    assert fit.aliased == ("x4",)
    frame = fit.to_frame()
    assert np.isnan(frame.loc["x4"].to_numpy(dtype=float)).all()
    assert frame.loc["x1"].notna().all()
    text = fit.summary()
    assert "Aliased (NA, constant or collinear): x4" in text and " NA " in text
    assert fit.residuals("score").shape == (60, 3) and np.isnan(fit.residuals("score")[:, 2]).all()
    assert list(fit.zph().table.index) == ["x1", "x3", "GLOBAL"]
    new = pd.DataFrame({"x1": [0.0], "x3": [60.0], "x4": [120.0]})
    twin = cox_ph(df, "time", "status", ["x1", "x3"])
    assert_allclose(fit.predict_survival(new).surv, twin.predict_survival(new).surv, rtol=1e-13)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ties": "average"}, "ties must be one of"),
        ({"covariates": ["nope"]}, "column 'nope' not found"),
        ({"categorical": ["x9"]}, "not among the covariates"),
        ({"max_iter": -1}, "max_iter"),
        ({"weights": "neg"}, "neg must be > 0"),
    ],
)
def test_bad_arguments_raise_validation_errors(kwargs: dict, match: str) -> None:
    df = synthetic(40).assign(neg=-1.0)
    args = {"covariates": ["x1"], **kwargs}
    with pytest.raises(ValidationError, match=match):
        cox_ph(df, "time", "status", **args)


def test_exact_ties_refuse_score_based_output_as_r_does() -> None:
    df = synthetic(80)
    fit = cox_ph(df, "time", "status", ["x1"], ties="exact")
    assert fit.residuals("martingale").shape == (80,)
    for kind in ("score", "schoenfeld", "dfbeta", "scaled_schoenfeld"):
        with pytest.raises(ValidationError, match="not available for ties='exact'"):
            fit.residuals(kind)
    with pytest.raises(ValidationError, match="robust"):
        cox_ph(df, "time", "status", ["x1"], ties="exact", robust=True)


def test_bad_status_values_name_the_row() -> None:
    df = synthetic(30)
    df.loc[4, "status"] = 3
    with pytest.raises(ValidationError, match="status") as err:
        cox_ph(df, "time", "status", ["x1"])
    assert err.value.row == 4


def test_monotone_likelihood_warns_naming_the_covariate() -> None:
    df = synthetic(60)
    df["sep"] = (df.time <= df.time.median()).astype(float)  # every early death has sep = 1
    df.loc[df.sep == 0, "status"] = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cox_ph(df, "time", "status", ["x1", "sep"])
    msgs = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert msgs and "sep" in msgs[0] and "x1" not in msgs[0].split("covariate(s)")[1].split(";")[0]
    assert np.all(np.isfinite(fit.coef))


def test_iteration_limit_warns_from_two_iterations_as_r() -> None:
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = cox_ph(synthetic(), "time", "status", ["x1", "x2"], max_iter=2)
    assert not fit.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # R: one step on request, no complaint
        one = cox_ph(synthetic(), "time", "status", ["x1", "x2"], max_iter=1)
    assert not one.converged


# ------------------------------------------------------------------- categorical terms
def test_indicator_columns_summing_to_one_are_collinear() -> None:
    df = synthetic(90)
    g = np.arange(len(df)) % 3
    df = df.assign(a=(g == 0) * 1.0, b=(g == 1) * 1.0, c=(g == 2) * 1.0)
    for kwargs in ({}, {"weights": "w"}):
        with pytest.warns(StatisticalWarning, match="c are constant or collinear"):
            fit = cox_ph(df.assign(w=1.5), "time", "status", ["a", "b", "c"], **kwargs)
        assert fit.aliased == ("c",) and np.isfinite(fit.coef[:2]).all()


def test_treatment_contrasts_reference_level_and_names() -> None:
    df = synthetic(200)
    df["grade"] = np.random.default_rng(3).choice(["G1", "G2", "G3"], size=len(df))
    fit = cox_ph(df, "time", "status", ["x1", "grade"])
    assert fit.names == ("x1", "gradeG2", "gradeG3")
    assert fit.terms == {"x1": (0,), "grade": (1, 2)}
    ref3 = cox_ph(df, "time", "status", ["x1", "grade"], reference={"grade": "G3"})
    assert ref3.names == ("x1", "gradeG1", "gradeG2")
    # HR(G2 vs G1) = HR(G2 vs G3) / HR(G1 vs G3)
    assert_allclose(fit.coef[1], ref3.coef[2] - ref3.coef[1], rtol=1e-7)
    assert_allclose(fit.loglik, ref3.loglik, rtol=1e-12)
    assert list(fit.zph().table.index) == ["x1", "grade", "GLOBAL"]
    assert fit.zph().table.loc["grade", "df"] == 2


def test_cox_univariate_rows_are_single_covariate_fits() -> None:
    df = synthetic(200)
    df["grade"] = np.random.default_rng(3).choice(["G1", "G2", "G3"], size=len(df))
    df.loc[[0, 1, 2], "x3"] = np.nan
    table = cox_univariate(df, "time", "status", ["x1", "x3", "grade"])
    assert list(table.term) == ["x1", "x3", "gradeG2", "gradeG3"]
    single = cox_ph(df, "time", "status", ["x3"])
    row = table[table.term == "x3"].iloc[0]
    assert row.n == 197 and row.hazard_ratio == pytest.approx(single.hazard_ratio[0], rel=1e-12)
    assert row.lower == pytest.approx(single.conf_int[0, 0], rel=1e-12)
    assert row.p == pytest.approx(single.p[0], rel=1e-12)
    assert set(table[table.covariate == "grade"].reference) == {"G1"}


# ----------------------------------------------------------------------------- output
def test_summary_frame_prediction_and_plot() -> None:
    df = synthetic()
    fit = cox_ph(df, "time", "status", ["x1", "x2"])
    text = fit.summary()
    for part in ("n= 300", "exp(coef)", "Concordance=", "Likelihood ratio test=", "Score (logrank) test ="):
        assert part in text
    frame = fit.to_frame()
    assert list(frame.index) == ["x1", "x2"] and "exp(coef)" in frame.columns
    # survival predicted at the means equals exp(-centred baseline hazard)
    at_means = pd.DataFrame({"x1": [fit.means[0]], "x2": [fit.means[1]]})
    pred = fit.predict_survival(at_means)
    assert_allclose(pred.cumhaz[:, 0], fit.baseline_hazard().hazard, rtol=1e-12)
    assert np.all(pred.lower[:, 0] <= pred.surv[:, 0]) and np.all(pred.surv[:, 0] <= pred.upper[:, 0])
    ax = fit.plot_zph("x1")
    assert ax.get_ylabel() == "Beta(t) for x1"
    with pytest.raises(ValidationError):
        fit.residuals("pearson")


def test_stratified_prediction_uses_the_row_stratum_baseline() -> None:
    df = synthetic(strata=True)
    fit = cox_ph(df, "time", "status", ["x1", "x2"], strata="s")
    base = fit.baseline_hazard().to_frame()
    new = pd.DataFrame({"x1": [fit.means[0]] * 3, "x2": [fit.means[1]] * 3, "s": [2, 0, 1]})
    pred = fit.predict_survival(new)
    for curve, s in zip(pred.curves, [2, 0, 1], strict=True):
        stratum = base[base.strata == s]
        assert_allclose(curve.time, stratum.time, rtol=0)
        assert_allclose(curve.cumhaz, stratum.hazard, rtol=1e-12)
        assert curve.stratum == s
    with pytest.raises(ValidationError, match="strata column"):
        fit.predict_survival(new.drop(columns="s"))
    with pytest.raises(ValidationError, match="not among"):
        fit.predict_survival(new.assign(s=7))


def test_times_equal_up_to_rounding_are_merged_as_r_timefix() -> None:
    df = synthetic()
    wobbly = df.assign(time=df.time * (1 + 1e-13 * np.random.default_rng(4).uniform(-1, 1, len(df))))
    assert wobbly.time.nunique() > df.time.nunique()
    ref = cox_ph(df, "time", "status", ["x1", "x2"])
    got = cox_ph(wobbly, "time", "status", ["x1", "x2"])
    assert_allclose(got.coef, ref.coef, rtol=1e-10)
    assert_allclose(got.loglik, ref.loglik, rtol=1e-12)
    assert got.concordance.tied_y == ref.concordance.tied_y
