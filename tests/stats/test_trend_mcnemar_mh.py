"""Cochran-Armitage trend, McNemar and Mantel-Haenszel against published R output."""

import numpy as np
import pytest

from npctrial.errors import ValidationError
from npctrial.stats import cochran_armitage_trend, mantel_haenszel, mcnemar


def test_prop_trend_smokers() -> None:
    # R ?prop.trend.test example: smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82)
    # R output (posted on R-help by R. Barradas, 8 Sep 2023):
    # X-squared = 8.2249, df = 1, p-value = 0.004132
    smokers = np.array([83, 90, 129, 70])
    patients = np.array([86, 93, 136, 82])
    res = cochran_armitage_trend(np.vstack([smokers, patients - smokers]))
    assert round(res.statistic, 4) == 8.2249
    assert float(f"{res.p_value:.4g}") == 0.004132


def test_prop_trend_equals_weighted_regression() -> None:
    # R computes it as anova(lm(freq ~ score, weights = n / p / (1 - p)))["score", "Sum Sq"]
    x = np.array([5, 7, 6, 7, 8, 10])
    n = np.array([22, 35, 42, 48, 54, 150])
    s = np.array([0.0, 1, 2, 3, 4, 7])
    p = x.sum() / n.sum()
    w = n / p / (1 - p)
    freq = x / n
    design = np.column_stack([np.ones_like(s), s])
    beta = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w * freq))
    fitted = design @ beta
    ss_score = np.sum(w * (fitted - np.sum(w * freq) / w.sum()) ** 2)
    res = cochran_armitage_trend(np.vstack([x, n - x]).T, scores=s)
    assert res.statistic == pytest.approx(ss_score, rel=1e-10)


def test_mcnemar_presidential_approval() -> None:
    # Agresti (1990) p. 350 / R ?mcnemar.test: Performance <- matrix(c(794, 86, 150, 570), nrow = 2)
    # Penn State STAT 504: mcnemar.test(Performance, correct = FALSE):
    # McNemar's chi-squared = 17.3559, df = 1, p-value = 3.099e-05
    perf = np.array([[794, 150], [86, 570]])
    res = mcnemar(perf, correction=False)
    assert round(res.statistic, 4) == 17.3559
    assert float(f"{res.p_value:.4g}") == 3.099e-05
    corrected = mcnemar(perf)
    assert corrected.statistic == pytest.approx((64 - 1) ** 2 / 236, rel=1e-12)


def test_mcnemar_rxr() -> None:
    t = np.array([[10, 4, 1], [2, 12, 6], [3, 1, 9]])
    expected = (4 - 2) ** 2 / 6 + (1 - 3) ** 2 / 4 + (6 - 1) ** 2 / 7
    res = mcnemar(t)
    assert res.statistic == pytest.approx(expected, rel=1e-12)
    assert res.df == 3


def rabbits() -> np.ndarray:
    # R ?mantelhaen.test, Agresti (1990) pp. 231-237, penicillin and rabbits; array(..., dim = c(2, 2, 5))
    values = [0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0, 2, 5, 0, 0]
    return np.array(values).reshape(5, 2, 2).transpose(2, 1, 0)


def test_mantelhaen_rabbits() -> None:
    # R output: Mantel-Haenszel X-squared = 3.9286, df = 1, p-value = 0.04747;
    # 95 percent confidence interval: 1.026713 47.725133; common odds ratio 7
    res = mantel_haenszel(rabbits())
    assert round(res.statistic, 4) == 3.9286
    assert float(f"{res.p_value:.4g}") == 0.04747
    assert res.estimate == pytest.approx(7.0, rel=1e-12)
    assert res.conf_int is not None
    assert res.conf_int[0] == pytest.approx(1.026713, rel=1e-6)
    assert res.conf_int[1] == pytest.approx(47.725133, rel=1e-7)


def test_generalized_cmh_reduces_to_mh_and_chisq() -> None:
    # with one 2 x 2 stratum the uncorrected MH statistic is Pearson's X^2 (N - 1) / N,
    # and a 3 x 2 x K table goes through the generalized path
    t = np.array([[12, 5], [7, 14]])
    n = t.sum()
    e = np.outer(t.sum(1), t.sum(0)) / n
    x2 = ((t - e) ** 2 / e).sum()
    res = mantel_haenszel(t[:, :, None], correction=False)
    assert res.statistic == pytest.approx(x2 * (n - 1) / n, rel=1e-12)
    t3 = np.array([[12, 5], [7, 14], [4, 9]])
    res3 = mantel_haenszel(t3[:, :, None])
    e3 = np.outer(t3.sum(1), t3.sum(0)) / t3.sum()
    x23 = ((t3 - e3) ** 2 / e3).sum()
    assert res3.statistic == pytest.approx(x23 * (t3.sum() - 1) / t3.sum(), rel=1e-10)
    assert res3.df == 2


def test_mh_rejects_2d() -> None:
    with pytest.raises(ValidationError, match="3-dimensional"):
        mantel_haenszel([[1, 2], [3, 4]])
