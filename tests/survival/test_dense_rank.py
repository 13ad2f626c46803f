"""dense_rank's three routes (integer table, hashing, argsort) agree with np.unique; the integer
fast paths of Kaplan-Meier, log-rank and factors give what the sorting paths give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from npctrial.survival import kaplan_meier, logrank_test
from npctrial.survival.dense_rank import dense_rank, integer_ranks
from npctrial.survival.factor import Factor

RNG = np.random.default_rng(7)
CASES = {
    "days": np.ceil(RNG.weibull(1.3, 5000) * 365),  # route 1, no shift
    "negative_integers": RNG.integers(-50, 50, 3000).astype(float),  # route 1, shifted
    "wide_integers": RNG.integers(0, 10**9, 500).astype(float),  # range too wide: route 3
    "repeated_floats": RNG.integers(0, 40, 4000) / 7.0,  # route 2
    "continuous": RNG.random(3000),  # route 3
    "single": np.array([3.5]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_dense_rank_matches_numpy_unique(name: str) -> None:
    x = CASES[name]
    rank, distinct = dense_rank(x)
    want_distinct, want_rank = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(distinct, want_distinct)
    np.testing.assert_array_equal(rank, want_rank.ravel())


def test_integer_ranks_refuses_non_integers_and_wide_ranges() -> None:
    assert integer_ranks(np.array([1.0, 2.5, 3.0])) is None
    assert integer_ranks(np.array([0.0, 1e9])) is None
    assert integer_ranks(np.array([0.0, np.inf])) is None
    rank, distinct = integer_ranks(np.array([5.0, 1.0, 5.0, 3.0]))
    assert rank.tolist() == [2, 0, 2, 1] and distinct.tolist() == [1.0, 3.0, 5.0]


def _km_data(n: int = 3000, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    time = np.ceil(rng.weibull(1.2, n) * 200)
    event = rng.binomial(1, 0.7, n)
    group = rng.integers(0, 3, n).astype(float)
    return time, event, group


@pytest.mark.parametrize("grouped", [False, True])
def test_kaplan_meier_on_whole_days_equals_the_sorting_path(grouped: bool) -> None:
    """Shifting every time by 0.25 day keeps every risk set and forces the sorting path."""
    time, event, group = _km_data()
    by_table = kaplan_meier(time, event, group=group if grouped else None)
    by_sort = kaplan_meier(time + 0.25, event, group=group if grouped else None)
    for a, b in zip(by_table.curves, by_sort.curves, strict=True):
        np.testing.assert_array_equal(a.time + 0.25, b.time)
        for field in ("n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_logrank_on_whole_days_equals_the_sorting_path() -> None:
    time, event, group = _km_data(seed=4)
    by_table = logrank_test(time, event, group)
    by_sort = logrank_test(time + 0.25, event, group)
    np.testing.assert_allclose(by_table.obs, by_sort.obs, rtol=0, atol=0)
    np.testing.assert_allclose(by_table.exp, by_sort.exp, rtol=1e-14)
    assert by_table.chisq == pytest.approx(by_sort.chisq, rel=1e-13)


def test_float_factor_levels_and_codes_as_hashing_gives() -> None:
    values = np.array([2.0, 0.0, 2.0, 5.0, 0.0])
    fast = Factor.from_values(values, name="g")
    codes, uniq = pd.factorize(values, sort=True)
    assert fast.levels == tuple(float(u) for u in uniq)
    np.testing.assert_array_equal(fast.codes, codes)


def test_strided_group_column_gives_the_same_test() -> None:
    """A column of a 2-D block (strided memory) is validated like a contiguous copy."""
    time, event, group = _km_data(seed=5)
    block = pd.DataFrame(np.column_stack([group, time, event.astype(float)]), columns=["g", "t", "e"])
    strided = logrank_test(block["t"], block["e"].astype(int), block["g"])
    plain = logrank_test(time, event, np.ascontiguousarray(group))
    assert strided.chisq == plain.chisq
    assert strided.groups == ("g=0", "g=1", "g=2")
