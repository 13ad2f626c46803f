"""Binomial confidence intervals against published values."""

import pytest

from npctrial.errors import ValidationError
from npctrial.stats import proportion_ci

# Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
# methods. Stat Med 1998;17:857-872, Table I: method 3 (Wilson score, no continuity correction)
# and method 5 (Clopper-Pearson exact), to 4 decimals.
NEWCOMBE = [
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize("k, n, wilson, exact", NEWCOMBE)
def test_newcombe_table(k: int, n: int, wilson: tuple, exact: tuple) -> None:
    w = proportion_ci(k, n, method="wilson")
    cp = proportion_ci(k, n, method="clopper-pearson")
    assert tuple(round(x, 4) for x in w.conf_int) == wilson
    assert tuple(round(x, 4) for x in cp.conf_int) == exact


def test_binom_test_example() -> None:
    # R ?binom.test (Conover 1971 p. 97f): binom.test(682, 925, p = 0.75);
    # 95 percent confidence interval: 0.7076683 0.7654066
    res = proportion_ci(682, 925)
    assert res.conf_int[0] == pytest.approx(0.7076683, abs=5e-8)
    assert res.conf_int[1] == pytest.approx(0.7654066, abs=5e-8)
    assert "682/925" in res.summary()
    assert list(res.to_frame().columns)[:3] == ["k", "n", "estimate"]


def test_full_successes() -> None:
    assert proportion_ci(10, 10).conf_int[1] == 1.0


@pytest.mark.parametrize("k, n, method, field", [
    (3, 0, "wilson", "n"), (5, 4, "wilson", "k"), (1, 4, "wald", "method"),
    (1, float("nan"), "wilson", "n"), (1, "10", "wilson", "n"), (0.5, 4, "wilson", "k"), (1, None, "wilson", "n"),
])
def test_bad_arguments(k: int, n: int, method: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        proportion_ci(k, n, method=method)
    assert info.value.field == field


def test_numpy_counts_are_accepted() -> None:
    import numpy as np

    assert proportion_ci(np.int64(3), np.int64(10)).conf_int == proportion_ci(3, 10).conf_int
