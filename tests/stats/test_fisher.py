"""Fisher's exact test against R's documented examples and brute-force enumeration."""

import itertools
import math

import numpy as np
import pytest
from scipy.special import gammaln

from npctrial.stats import fisher_exact


def brute_force_p(table: np.ndarray) -> float:
    """Enumerate every table with the same margins (independent of the implementation)."""
    rows, cols = table.sum(1), table.sum(0)
    n = table.sum()
    r, c = table.shape

    def logp(t: np.ndarray) -> float:
        return float(gammaln(rows + 1).sum() + gammaln(cols + 1).sum() - gammaln(n + 1) - gammaln(t + 1).sum())

    p_obs = logp(table)
    total = 0.0
    free = [range(int(min(rows[i], cols[j])) + 1) for i in range(r - 1) for j in range(c - 1)]
    for cells in itertools.product(*free):
        t = np.zeros((r, c), dtype=int)
        t[: r - 1, : c - 1] = np.array(cells).reshape(r - 1, c - 1)
        t[: r - 1, c - 1] = rows[: r - 1] - t[: r - 1, : c - 1].sum(1)
        t[r - 1, :] = cols - t[: r - 1, :].sum(0)
        if (t < 0).any():
            continue
        lp = logp(t)
        if lp <= p_obs + math.log1p(1e-7):
            total += math.exp(lp)
    return total


def test_job_satisfaction_rxc() -> None:
    # R ?fisher.test: Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4);
    # fisher.test(Job)  # 0.7827 (documented in the example's comment)
    job = np.array([1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11]).reshape(4, 4).T
    assert round(fisher_exact(job).p_value, 4) == 0.7827


def test_tea_tasting() -> None:
    # R ?fisher.test (Agresti 1990 p. 61): TeaTasting, alternative = "greater": p = 0.2429;
    # two-sided p = 0.4857 (= 34/70, hypergeometric).
    tea = np.array([[3, 1], [1, 3]])
    assert round(fisher_exact(tea, alternative="greater").p_value, 4) == 0.2429
    assert fisher_exact(tea).p_value == pytest.approx(34 / 70, rel=1e-12)


def test_convictions() -> None:
    # R ?fisher.test (Fisher 1962, twins): Convictions <- matrix(c(2, 10, 15, 3), nrow = 2)
    # fisher.test(Convictions): p-value = 0.0005367, odds ratio 0.04693661,
    # 95% CI 0.003325764 0.363182271. R finds the conditional MLE and the CI ends with uniroot
    # at its default tolerance (.Machine$double.eps^0.25), so those agree to ~1e-3 relative only;
    # the CI ends are checked exactly below through the defining tail equations.
    conv = np.array([[2, 15], [10, 3]])
    res = fisher_exact(conv)
    assert float(f"{res.p_value:.4g}") == 0.0005367
    assert res.estimate == pytest.approx(0.04693661, rel=1e-4)
    assert res.conf_int is not None
    assert res.conf_int[0] == pytest.approx(0.003325764, rel=5e-3)
    assert res.conf_int[1] == pytest.approx(0.363182271, rel=1e-3)
    # the CI ends solve P(X >= x; psi_L) = 0.025 and P(X <= x; psi_U) = 0.025 under the
    # noncentral hypergeometric distribution of n11 given the margins
    m, n, k, x = 17, 13, 12, 2
    support = np.arange(max(0, k - n), min(k, m) + 1)
    logc = gammaln(m + 1) - gammaln(support + 1) - gammaln(m - support + 1)
    logc += gammaln(n + 1) - gammaln(k - support + 1) - gammaln(n - k + support + 1)

    def pmf(psi: float) -> np.ndarray:
        lw = logc + support * math.log(psi)
        w = np.exp(lw - lw.max())
        return w / w.sum()

    lo, hi = res.conf_int
    assert pmf(lo)[support >= x].sum() == pytest.approx(0.025, rel=1e-6)
    assert pmf(hi)[support <= x].sum() == pytest.approx(0.025, rel=1e-6)


@pytest.mark.parametrize(
    "table",
    [
        [[3, 1, 4], [1, 5, 9]],
        [[2, 7, 1, 8], [2, 8, 1, 8]],
        [[0, 5, 2], [4, 0, 3], [2, 2, 6]],
        [[6, 0], [0, 6]],
        [[10, 3], [2, 15]],
        [[1, 0, 0, 4, 2], [0, 3, 2, 0, 1]],
        [[2, 0, 1, 3], [0, 2, 2, 1], [1, 3, 0, 2]],
    ],
)
def test_matches_brute_force(table: list) -> None:
    t = np.array(table)
    assert fisher_exact(t).p_value == pytest.approx(brute_force_p(t), rel=1e-9)
    assert fisher_exact(t.T).p_value == pytest.approx(brute_force_p(t), rel=1e-9)


def test_clinical_table_size_is_fast_and_exact() -> None:
    # a 2 x 5 table with n = 530, like a clinical Table 1 row block
    t = np.array([[20, 24, 28, 14, 5], [59, 131, 140, 79, 30]])
    res = fisher_exact(t)
    assert 0 < res.p_value <= 1
    assert res.estimate is None
