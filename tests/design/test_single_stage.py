"""Single-stage designs: A'Hern (2001) table rows, exact minimality, Fleming (1982) formula."""

from __future__ import annotations

import math
from math import comb

import pytest
from scipy import stats

from npctrial.design import ahern_single_stage, fleming_single_stage
from npctrial.errors import ValidationError

# A'Hern RP. Sample size tables for exact single-stage phase II designs. Stat Med
# 2001;20:859-866, Table (alpha = 0.05 one-sided, beta = 0.2): (p0, p1, n, r), success if >= r.
AHERN_2001 = [
    (0.05, 0.20, 27, 4),
    (0.10, 0.30, 25, 6),
    (0.20, 0.40, 35, 12),
]


def _tail(r: int, n: int, p: float) -> float:
    """P(X >= r) by direct summation of binomial terms."""
    return sum(comb(n, x) * p**x * (1 - p) ** (n - x) for x in range(max(r, 0), n + 1))


@pytest.mark.parametrize(("p0", "p1", "n", "r"), AHERN_2001)
def test_reproduces_ahern_2001(p0, p1, n, r):
    d = ahern_single_stage(p0, p1, 0.05, 0.8)
    assert (d.n, d.r) == (n, r)
    assert d.alpha_actual == pytest.approx(_tail(r, n, p0), rel=1e-9)
    assert d.power_actual == pytest.approx(_tail(r, n, p1), rel=1e-9)
    assert d.alpha_actual <= 0.05 and d.power_actual >= 0.8


@pytest.mark.parametrize(("p0", "p1", "alpha", "power"),
                         [(0.05, 0.2, 0.05, 0.8), (0.3, 0.5, 0.05, 0.9), (0.6, 0.8, 0.1, 0.8),
                          (0.1, 0.25, 0.025, 0.8)])
def test_ahern_is_the_smallest_exact_design(p0, p1, alpha, power):
    d = ahern_single_stage(p0, p1, alpha, power)
    for n in range(1, d.n):
        for r in range(n + 2):
            assert not (_tail(r, n, p0) <= alpha and _tail(r, n, p1) >= power), (n, r)
    # the cut-off is the smallest with alpha <= nominal
    assert _tail(d.r - 1, d.n, p0) > alpha


def test_fleming_normal_approximation_by_hand():
    # p0 .05, p1 .20: n = ((1.645 sqrt(.0475) + .8416 sqrt(.16)) / .15)^2 = 21.5 -> 22
    # r = round(22 * .05 + 1.645 sqrt(22 * .05 * .95)) + 1 = round(2.78) + 1 = 4
    za, zb = stats.norm.ppf(0.95), stats.norm.ppf(0.8)
    n_exact = ((za * math.sqrt(0.05 * 0.95) + zb * math.sqrt(0.2 * 0.8)) / 0.15) ** 2
    assert 21 < n_exact < 22
    d = fleming_single_stage(0.05, 0.2, 0.05, 0.8)
    assert (d.n, d.r) == (22, 4)
    assert d.alpha_actual == pytest.approx(_tail(4, 22, 0.05), rel=1e-9)
    assert "Fleming 1982" in d.summary() and d.to_frame().loc[0, "n"] == 22


def test_bad_input():
    with pytest.raises(ValidationError, match="p1 must be greater than p0"):
        ahern_single_stage(0.3, 0.3)
    with pytest.raises(ValidationError, match="power must be in"):
        fleming_single_stage(0.1, 0.3, 0.05, 1.0)
    with pytest.raises(ValidationError, match="n_max"):
        ahern_single_stage(0.1, 0.3, n_max=10)
