"""Validated count tables and Pearson's chi-square test of independence (R ``chisq.test``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from npctrial.errors import SmallSampleWarning, ValidationError
from npctrial.stats.results import TestResult
from npctrial.validation import check_flag


def as_count_table(table: object, *, name: str = "table", ndim: int = 2) -> np.ndarray:
    """Validate ``table`` as an ``ndim``-dimensional array of non-negative integer counts.

    Raises :class:`ValidationError` naming ``name`` and the first offending cell.
    """
    if isinstance(table, pd.DataFrame):
        table = table.to_numpy()
    try:
        arr = np.asarray(table, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must hold numeric counts: {exc}", field=name) from exc
    if arr.ndim != ndim:
        raise ValidationError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}", field=name)
    if any(s < 2 for s in arr.shape[:2]):
        raise ValidationError(f"{name} needs at least 2 rows and 2 columns, got shape {arr.shape}", field=name)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValidationError(
            f"{name} must hold non-negative integer counts, got {arr[idx]!r} at cell {idx}", field=name
        )
    return arr.astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class ChiSquareResult(TestResult):
    """Pearson chi-square test with the observed and expected counts."""

    observed: np.ndarray
    expected: np.ndarray
    correction: bool

    @property
    def min_expected(self) -> float:
        return float(self.expected.min())


def chi_square_test(table: object, correction: bool = False) -> ChiSquareResult:
    """Pearson's chi-square test of independence for an r x c table, as R ``chisq.test``.

    Steps: (1) E_ij = R_i C_j / N; (2) X^2 = sum (O - E)^2 / E, or with ``correction=True``
    and a 2 x 2 table Yates' sum (|O - E| - min(0.5, |O - E|))^2 / E; (3) p from chi-square with
    (r - 1)(c - 1) df. A :class:`SmallSampleWarning` is issued when any expected count is < 5
    (R: "Chi-squared approximation may be incorrect").
    Reference: R stats::chisq.test; Agresti, Categorical Data Analysis (2002) s. 3.2.
    """
    correction = check_flag(correction, "correction")
    obs = as_count_table(table)
    rows = obs.sum(axis=1)
    cols = obs.sum(axis=0)
    if (rows == 0).any() or (cols == 0).any():
        raise ValidationError("table has an empty row or column (expected count 0)", field="table")
    stat, p, dof, expected = _st.chi2_contingency(obs, correction=correction and obs.shape == (2, 2))
    if (expected < 5).any():
        warnings.warn(
            f"chi-square approximation may be incorrect: smallest expected count is "
            f"{expected.min():.3g} (< 5)",
            SmallSampleWarning,
            stacklevel=2,
        )
    yates = correction and obs.shape == (2, 2)
    method = "Pearson's Chi-squared test" + (" with Yates' continuity correction" if yates else "")
    return ChiSquareResult(
        method=method,
        statistic_name="X-squared",
        statistic=float(stat),
        df=float(dof),
        p_value=float(p),
        observed=obs,
        expected=np.asarray(expected, dtype=float),
        correction=yates,
    )
