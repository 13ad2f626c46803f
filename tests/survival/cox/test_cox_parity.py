"""cox_ph on awkward data, against R (tests/data/refs/cox_parity.json): heavily tied deaths
with ties="exact", follow-up time 0, iteration limits, aliased covariates; and logrank_test's
single-group error."""

from __future__ import annotations

import re
import warnings
from decimal import Decimal, localcontext
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ConvergenceWarning, StatisticalWarning, ValidationError
from npctrial.survival import cox_ph, logrank_test
from npctrial.survival.cox.exact import tied_group_terms
from tests.rrefs import ITERATIVE, analysis, assert_r_close, num, read_data

TIES = read_data("cox_ties")


def _lung2() -> pd.DataFrame:
    lung = read_data("lung")
    return lung.assign(age2=2 * lung["age"], ecog_copy=lung["ph.ecog"])


def _fit_quietly(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cox_ph(*args, **kwargs)
    return fit, [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning | StatisticalWarning)]


def _assert_cox(fit, a: dict, *, r_var_valid: bool = True) -> None:
    """Compare with R; ``r_var_valid=False`` where R's var (so se and Wald test) is not the
    inverse information (out of iterations with iter.max > 1)."""
    assert fit.n == a["n"] and fit.n_events == a["nevent"]
    assert [re.sub(r"factor\(([\w.]+)\)", r"\1", t) for t in a["terms"]] == list(fit.names)
    assert_r_close(fit.coef, a["coef"], ITERATIVE, "parity coef")
    keep = np.isfinite(num(a["coef"]))
    if r_var_valid:
        assert_r_close(fit.se[keep], num(a["se_coef"])[keep], ITERATIVE, "parity se")
        assert_r_close(fit.var[np.ix_(keep, keep)], num(a["var"])[np.ix_(keep, keep)], ITERATIVE, "parity var")
    assert_r_close([fit.loglik_null, fit.loglik], [a["loglik"]["null"], a["loglik"]["final"]], ITERATIVE,
                   "parity loglik")
    assert fit.iterations == a["iterations"]
    tests = [(fit.lr_test, a["lr_test"]), (fit.score_test, a["score_test"])]
    for mine, ref in tests + ([(fit.wald_test, a["wald_test"])] if r_var_valid else []):
        assert mine.df == ref["df"]
        assert_r_close(mine.statistic, ref["test"], ITERATIVE, "parity test statistic")
        assert_r_close(mine.p_value, ref["pvalue"], ITERATIVE, "parity test p")


@pytest.mark.parametrize("ties", ["exact", "efron", "breslow"])
def test_hundreds_of_tied_deaths_match_r(ties: str) -> None:
    a = analysis("cox_parity", f"ties_{ties}_1300")
    data = TIES.head(1300)
    assert data.groupby("time")["status"].sum().max() >= 270  # hundreds of tied deaths per time
    fit, msgs = _fit_quietly(data, "time", "status", ["x1", "x2"], ties=ties)
    assert not msgs
    _assert_cox(fit, a)


def _exact_loglik(data: pd.DataFrame, beta: np.ndarray) -> Decimal:
    """The exact partial likelihood in 34-digit decimal arithmetic, by the plain recursion
    e_k <- e_k + r e_{k-1} over every risk set (no logs, no scaling: an independent oracle)."""
    with localcontext() as ctx:
        ctx.prec = 34
        eta = [sum(Decimal(float(v)) * Decimal(float(b)) for v, b in zip(row, beta, strict=True))
               for row in data[["x1", "x2"]].to_numpy()]
        total = Decimal(0)
        times, status = data["time"].to_numpy(), data["status"].to_numpy()
        for t in np.unique(times[status == 1]):
            dead = np.flatnonzero((times == t) & (status == 1))
            e = np.array([Decimal(1)] + [Decimal(0)] * len(dead), dtype=object)
            for i in np.flatnonzero(times >= t):
                e[1:] = e[1:] + eta[i].exp() * e[:-1]  # right-hand side from the old values
            total += sum(eta[i] for i in dead) - e[-1].ln()
        return total


def test_exact_ties_beyond_rs_overflow_are_the_maximum_of_the_exact_likelihood() -> None:
    a = analysis("cox_parity", "ties_exact_1500")
    assert a["loglik"]["final"] == "-Inf" and a["coef"] == ["NA", "NA"]  # R overflows here
    fit, msgs = _fit_quietly(TIES, "time", "status", ["x1", "x2"], ties="exact")
    assert not msgs and fit.converged and np.all(np.isfinite(fit.coef))
    centred = TIES.assign(x1=TIES["x1"] - fit.means[0], x2=TIES["x2"] - fit.means[1])
    at_fit = _exact_loglik(centred, fit.coef)
    assert abs(float(at_fit) - fit.loglik) <= 1e-12 * abs(fit.loglik)
    # a maximum: the derivative along a direction (central difference of the exact likelihood)
    # is 0 to within what the convergence tolerance leaves, and both sides are lower
    step = 1e-3 * np.sqrt(np.diag(fit.var)) * np.array([1.0, -0.7])
    up, down = _exact_loglik(centred, fit.coef + step), _exact_loglik(centred, fit.coef - step)
    assert up < at_fit and down < at_fit
    assert abs(float(up - down)) < 1e-3 * float(2 * at_fit - up - down)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_tied_group_terms_equal_the_sum_over_subsets_even_where_exp_overflows(d: int) -> None:
    rng = np.random.default_rng(d)
    x = rng.normal(size=(9, 2))
    eta = 700.0 + 50 * rng.normal(size=9)  # exp(eta) overflows a double
    logf, g, h = tied_group_terms(eta, x, d)
    with localcontext() as ctx:
        ctx.prec = 60
        weights, sums = [], []
        for s in combinations(range(9), d):
            weights.append(sum(Decimal(eta[i]) for i in s).exp())
            sums.append(x[list(s)].sum(axis=0))
        total = sum(weights)
        p = np.array([float(w / total) for w in weights])
        expected_log = float(total.ln())
    sums = np.array(sums)
    assert logf == pytest.approx(expected_log, rel=1e-14)
    np.testing.assert_allclose(g, p @ sums, rtol=1e-12)
    np.testing.assert_allclose(h, (sums * p[:, None]).T @ sums, rtol=1e-12)


def test_follow_up_time_zero_is_accepted_as_r() -> None:
    a = analysis("cox_parity", "time_zero_flchain")
    flchain = read_data("flchain")
    assert (flchain["futime"] == 0).sum() == 3
    fit, msgs = _fit_quietly(flchain, "futime", "death", ["age", "sex"])
    assert not msgs
    _assert_cox(fit, a)
    with pytest.raises(ValidationError, match="futime must be >= 0, got -1.0") as err:
        cox_ph(flchain.assign(futime=flchain["futime"].where(flchain.index != 5, -1)), "futime", "death", ["age"])
    assert err.value.row == 5


@pytest.mark.parametrize(("case", "covariates", "categorical", "aliased"), [
    ("aliased_numeric", ["age", "sex", "age2"], [], ("age2",)),
    ("aliased_factor", ["age", "ph.ecog", "ecog_copy"], ["ph.ecog"], ("ecog_copy",)),
])
def test_aliased_covariates_are_na_and_the_rest_is_fitted_as_r(case, covariates, categorical, aliased) -> None:
    a = analysis("cox_parity", case)
    fit, msgs = _fit_quietly(_lung2(), "time", "status", covariates, categorical=categorical)
    assert fit.aliased == aliased
    assert len(msgs) == 1 and f"{aliased[0]} are constant or collinear" in msgs[0]
    _assert_cox(fit, a)
    assert_r_close(fit.means, a["means"], ITERATIVE, "parity means")
    assert np.isnan(fit.var[-1]).all() and num(a["var"])[-1].tolist() == [0.0] * len(fit.names)  # R: zeros


ITER_CASES = [f"iter_max_{k}_{t}" for t in ("efron", "breslow", "exact") for k in (1, 2, 3)]


@pytest.mark.parametrize("case", ITER_CASES)
def test_iteration_limit_returns_rs_iterate(case: str) -> None:
    a = analysis("cox_parity", case)
    k, ties = int(case.split("_")[2]), case.split("_")[3]
    fit, msgs = _fit_quietly(read_data("lung"), "time", "status", ["age", "sex", "ph.ecog"], ties=ties,
                             max_iter=k)
    r_warned = any("Ran out of iterations" in w for w in (a["warnings"] or []))
    _assert_cox(fit, a, r_var_valid=not r_warned)
    # R's var after running out of iterations comes from an unfactored information matrix;
    # ours is the inverse information at the returned coef, as R's refit with iter.max = 0
    assert_r_close(fit.var, a["var_at_coef"], ITERATIVE, "parity var at coef")
    assert r_warned == any("did not converge" in m for m in msgs)
    assert fit.converged == (not r_warned and k > 1)


def test_single_group_log_rank_raises_as_r() -> None:
    a = analysis("cox_parity", "survdiff_single_group")
    lung = read_data("lung")
    with pytest.raises(ValidationError, match=re.escape(a["message"])):
        logrank_test(lung["time"], lung["status"], np.ones(len(lung)), status_coding="r")
