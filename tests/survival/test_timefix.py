"""R's ``timefix`` (survival 3.5 ``aeqSurv``) on near-equal times, and the packed-sort counts.

Expectations follow the documented rule, not our output: with ``y`` the sorted distinct times
of the pooled data and ``tol = sqrt(.Machine$double.eps)`` (1.49e-8), consecutive values are
tied when ``diff(y) <= tol`` or ``diff(y) / mean(abs(y)) <= tol``; ``cuts = y[c(TRUE, !tied)]``
and every time is replaced by ``cuts[findInterval(time, cuts)]`` -- so a chain of tied values
takes its first value even when its ends are further apart than ``tol``.
"""

from __future__ import annotations

import numpy as np
import pytest

from npctrial.survival import kaplan_meier, logrank_test
from npctrial.survival.risk_sets import _grouped_by_packed_sorts, grouped_risk_table
from npctrial.survival.sorted_runs import find_runs, sort_with_payload, timefix_map

TOL = float(np.sqrt(np.finfo(float).eps))


def test_absolute_rule_chains_consecutive_near_ties() -> None:
    # gaps of 1e-8 <= tol chain 1 .. 1 + 3e-8 (ends 3e-8 > tol apart) into one time, 1
    t = np.array([1.0 + 3e-8, 2.0, 1.0, 1.0 + 1e-8, 1.0 + 2e-8])
    v, ev = sort_with_payload(t, np.ones(5, dtype=bool))
    runs = find_runs(v, timefix=True)
    np.testing.assert_array_equal(runs.time, [1.0, 2.0])
    np.testing.assert_array_equal(runs.size, [4, 1])
    assert ev is not None
    np.testing.assert_array_equal(runs.total(ev), [4, 1])
    c = kaplan_meier(t, [1, 1, 1, 1, 1]).curves[0]
    np.testing.assert_array_equal(c.time, [1.0, 2.0])
    np.testing.assert_array_equal(c.n_risk, [5, 1])
    np.testing.assert_array_equal(c.n_event, [4, 1])
    assert c.surv[0] == pytest.approx(1 / 5, rel=1e-15)
    # without timefix every value is its own time
    assert kaplan_meier(t, [1, 1, 1, 1, 1], timefix=False).curves[0].time.shape == (5,)


def test_gap_just_above_tol_is_not_merged() -> None:
    t = np.array([1.0, 1.0 + 2 * TOL, 3.0])  # 2 tol > tol, and 2 tol / mean(1.67) > tol
    c = kaplan_meier(t, [1, 1, 1]).curves[0]
    np.testing.assert_array_equal(c.time, t)


@pytest.mark.parametrize(("gap", "merged"), [(0.01, True), (0.05, False)])
def test_relative_rule_uses_mean_of_distinct_times(gap: float, merged: bool) -> None:
    # mean(|y|) of the distinct values (1e6, 1e6 + gap, 2e6) = 1.33e6: gap / mean is 7.5e-9
    # (<= tol, merged) for 0.01 and 3.75e-8 (> tol, kept) for 0.05; both gaps exceed tol itself
    # the repeated 2e6 values must not change the mean (it is over distinct values)
    t = np.array([1e6, 1e6 + gap, 2e6, 2e6, 2e6])
    c = kaplan_meier(t, [1, 1, 0, 0, 0]).curves[0]
    expected = [1e6, 2e6] if merged else [1e6, 1e6 + gap, 2e6]
    np.testing.assert_array_equal(c.time, expected)


def test_kaplan_meier_merges_on_the_pooled_times_of_all_curves() -> None:
    # pooled distinct 1, 1 + 1e-8, 1 + 2e-8 form one chain; curve a holds only the ends (2e-8
    # apart, > tol: its own times alone would not be merged) and curve b the middle value
    t = np.array([1.0, 1.0 + 2e-8, 1.0 + 1e-8, 5.0, 5.0])
    e = np.array([1, 1, 1, 0, 1])
    g = np.array(["a", "a", "b", "a", "b"])
    res = kaplan_meier(t, e, group=g)
    a, b = res["group=a"], res["group=b"]
    np.testing.assert_array_equal(a.time, [1.0, 5.0])
    np.testing.assert_array_equal(a.n_event, [2, 0])
    np.testing.assert_array_equal(a.n_risk, [3, 1])
    np.testing.assert_array_equal(b.time, [1.0, 5.0])  # 1 + 1e-8 becomes the chain's first value
    np.testing.assert_array_equal(b.n_event, [1, 1])


def test_logrank_near_ties_equal_exact_ties() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(1, 40, 300).astype(float)
    e = (rng.random(300) < 0.7).astype(int)
    g = rng.integers(0, 2, 300)
    noisy = t * (1 + rng.uniform(-3e-9, 3e-9, 300))  # relative noise far below tol
    exact = logrank_test(t, e, g)
    near = logrank_test(noisy, e, g)
    np.testing.assert_allclose(near.obs, exact.obs, rtol=1e-15)
    np.testing.assert_allclose(near.exp, exact.exp, rtol=1e-13)
    np.testing.assert_allclose(near.var, exact.var, rtol=1e-13)
    assert near.chisq == pytest.approx(exact.chisq, rel=1e-12)
    assert logrank_test(noisy, e, g, timefix=False).chisq != pytest.approx(exact.chisq, rel=1e-6)


def test_stratified_logrank_merges_over_all_strata() -> None:
    # stratum s1 holds 1 and 1 + 2e-8 (not tied alone); s2 holds 1 + 1e-8, chaining all three:
    # in s1 the two events are then tied at one time (exp = 2 * n_k / n there)
    t = np.array([1.0, 1.0 + 2e-8, 3.0, 3.0, 1.0 + 1e-8, 2.0])
    e = np.array([1, 1, 0, 0, 1, 0])
    g = np.array([0, 1, 0, 1, 0, 1])
    s = np.array([1, 1, 1, 1, 2, 2])
    res = logrank_test(t, e, g, strata=s)
    assert res.exp_by_stratum is not None
    # s1: one time, 4 at risk (2 per group), 2 events -> E = (1, 1); s2: 2 at risk, 1 event
    np.testing.assert_allclose(res.exp_by_stratum[:, 0], [1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(res.exp_by_stratum[:, 1], [0.5, 0.5], rtol=1e-15)
    # V in s1 = d (n - d)/(n - 1) * (n0/n)(1 - n0/n) = 2 * 2/3 * 1/4 = 1/3; s2: 1/4
    assert res.var[0, 0] == pytest.approx(1 / 3 + 1 / 4, rel=1e-14)


def test_timefix_map_moves_only_chained_values() -> None:
    y = np.array([0.5, 1.0, 1.0 + 1e-8, 1.0 + 2e-8, 7.0])
    m = timefix_map(y)
    assert m is not None
    np.testing.assert_array_equal(m.moved, [1.0 + 1e-8, 1.0 + 2e-8])
    np.testing.assert_array_equal(m.target, [1.0, 1.0])
    np.testing.assert_array_equal(m.apply_to_distinct(np.array([0.5, 1.0 + 2e-8, 7.0])), [0.5, 1.0, 7.0])
    assert timefix_map(np.array([1.0, 2.0, 3.0])) is None


def _near_tied_times(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.weibull(1.5, n) * 1000
    t[: n // 10] = np.round(t[: n // 10])  # exact ties
    t[n // 10 : n // 5] = np.round(t[n // 10 : n // 5]) * (1 + 1e-12)  # near ties
    t[-5:] = 0.0
    return t, rng.random(n) < 0.7, rng.integers(0, 3, n)


@pytest.mark.parametrize("timefix", [True, False])
def test_packed_sort_counts_equal_per_group_search_counts(timefix: bool) -> None:
    t, s, g = _near_tied_times(20_000, 11)
    packed = _grouped_by_packed_sorts(t, s, g, 3, timefix=timefix, fix=None, event_times_only=True)
    # the per-group sort-and-search path (used beyond PACKED_SORT_MAX_GROUPS), via 6 codes
    # of which 3 are empty
    searched = grouped_risk_table(t, s, g * 2, 6, timefix=timefix)
    np.testing.assert_array_equal(packed.time, searched.time)
    np.testing.assert_array_equal(packed.n_risk, searched.n_risk[::2])
    np.testing.assert_array_equal(packed.n_event, searched.n_event[::2])


def test_unweighted_kaplan_meier_equals_unit_weight_path_with_near_ties() -> None:
    t, s, g = _near_tied_times(20_000, 12)
    plain = kaplan_meier(t, s.astype(int), group=g)
    unit = kaplan_meier(t, s.astype(int), group=g, weights=np.ones(t.shape[0]))
    for a, b in zip(plain.curves, unit.curves, strict=True):
        for field in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
