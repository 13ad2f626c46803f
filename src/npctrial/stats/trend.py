"""Cochran-Armitage test for trend in proportions (R ``prop.trend.test``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as _st

from npctrial.errors import ValidationError
from npctrial.stats.contingency import as_count_table
from npctrial.stats.results import TestResult


def cochran_armitage_trend(table: object, scores: Sequence[float] | np.ndarray | None = None) -> TestResult:
    """Chi-square test for a linear trend in proportions over ordered groups.

    ``table`` is 2 x k (row 0 = "events", row 1 = "non-events", one column per ordered group)
    or k x 2 (one row per group); ``scores`` default to 1..k.
    Steps: (1) r_j events out of n_j per group, p = R / N; (2) T = sum s_j (r_j - n_j p);
    (3) Var = p (1 - p) [sum n_j s_j^2 - (sum n_j s_j)^2 / N]; (4) X^2 = T^2 / Var on 1 df.
    This is the weighted-regression statistic of R's prop.trend.test (without the N / (N - 1)
    permutation factor). Reference: R stats::prop.trend.test; Armitage, Biometrics 11 (1955).
    """
    obs = as_count_table(table)
    if obs.shape[0] != 2 and obs.shape[1] == 2:
        obs = obs.T
    if obs.shape[0] != 2:
        raise ValidationError(f"table must be 2 x k or k x 2, got shape {obs.shape}", field="table")
    k = obs.shape[1]
    s = np.arange(1.0, k + 1) if scores is None else np.asarray(scores, dtype=float)
    if s.shape != (k,) or not np.isfinite(s).all():
        raise ValidationError(f"scores must be {k} finite numbers, got {scores!r}", field="scores")
    r = obs[0].astype(float)
    n = obs.sum(axis=0).astype(float)
    if (n == 0).any():
        raise ValidationError("every group (column) needs at least one observation", field="table")
    big_n = n.sum()
    p = r.sum() / big_n
    t = float(np.sum(s * (r - n * p)))
    var = p * (1 - p) * (np.sum(n * s**2) - np.sum(n * s) ** 2 / big_n)
    if var <= 0:
        raise ValidationError("trend test undefined: all scores equal or no variation in the outcome", field="table")
    chisq = t * t / var
    return TestResult(
        method="Chi-squared Test for Trend in Proportions",
        statistic_name="X-squared",
        statistic=float(chisq),
        df=1.0,
        p_value=float(_st.chi2.sf(chisq, 1)),
    )
