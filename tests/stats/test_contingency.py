"""Pearson chi-square: published R output and independent recomputation."""

import warnings

import numpy as np
import pytest

from npctrial.errors import SmallSampleWarning, ValidationError
from npctrial.stats import chi_square_test


def test_agresti_party_identification() -> None:
    # R ?chisq.test example (Agresti 2007, p. 39): gender x party identification;
    # documented output: X-squared = 30.07, df = 2, p-value = 2.954e-07.
    m = [[762, 327, 468], [484, 239, 477]]
    res = chi_square_test(m)
    assert res.df == 2
    assert round(res.statistic, 2) == 30.07
    assert float(f"{res.p_value:.4g}") == 2.954e-07
    assert res.summary().startswith("Pearson's Chi-squared test")


def test_statistic_recomputed_from_definition() -> None:
    t = np.array([[12, 5, 9], [7, 14, 3]])
    e = np.outer(t.sum(1), t.sum(0)) / t.sum()
    x2 = ((t - e) ** 2 / e).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        res = chi_square_test(t)
    assert res.statistic == pytest.approx(x2, rel=1e-12)
    np.testing.assert_allclose(res.expected, e, rtol=1e-12)


def test_yates_only_for_2x2() -> None:
    t = np.array([[20, 10], [8, 22]])
    e = np.outer(t.sum(1), t.sum(0)) / t.sum()
    d = np.abs(t - e)
    yates = ((d - np.minimum(0.5, d)) ** 2 / e).sum()
    res = chi_square_test(t, correction=True)
    assert res.statistic == pytest.approx(yates, rel=1e-12)
    assert "Yates" in res.method


def test_small_expected_warns() -> None:
    with pytest.warns(SmallSampleWarning, match="expected count"):
        chi_square_test([[1, 2], [3, 10]])


@pytest.mark.parametrize(
    "table, match",
    [([[1, -2], [3, 4]], "non-negative"), ([[1, 2.5], [3, 4]], "integer"), ([[1, 2]], "2 rows"),
     ([[0, 0], [3, 4]], "empty row"), ([["a", 2], [3, 4]], "numeric counts"), ([[1, 2], [3]], "numeric counts")],
)
def test_bad_tables(table: list, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        chi_square_test(table)
