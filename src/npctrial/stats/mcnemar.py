"""McNemar's test of marginal homogeneity for paired categorical data (R ``mcnemar.test``)."""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from npctrial.errors import ValidationError
from npctrial.stats.contingency import as_count_table
from npctrial.stats.results import TestResult
from npctrial.validation import check_flag


def mcnemar(table: object, correction: bool = True) -> TestResult:
    """McNemar's chi-square test for an r x r table of paired classifications.

    Steps: (1) for each off-diagonal pair i < j, (n_ij - n_ji)^2 / (n_ij + n_ji); for a 2 x 2
    table with ``correction`` (R's default), (|n_12 - n_21| - 1)^2 / (n_12 + n_21);
    (2) sum them; (3) p from chi-square with r (r - 1) / 2 df.
    Reference: R stats::mcnemar.test; McNemar, Psychometrika 12 (1947) 153-157.
    """
    correction = check_flag(correction, "correction")
    obs = as_count_table(table)
    r = obs.shape[0]
    if obs.shape[1] != r:
        raise ValidationError(f"table must be square, got shape {obs.shape}", field="table")
    upper = obs[np.triu_indices(r, 1)].astype(float)
    lower = obs.T[np.triu_indices(r, 1)].astype(float)
    disc = upper + lower
    if (disc == 0).any():
        raise ValidationError("every pair of off-diagonal cells needs at least one discordant pair", field="table")
    yates = correction and r == 2
    if yates:
        stat = (abs(upper[0] - lower[0]) - 1.0) ** 2 / disc[0]
    else:
        stat = float(np.sum((upper - lower) ** 2 / disc))
    df = r * (r - 1) / 2
    method = "McNemar's Chi-squared test" + (" with continuity correction" if yates else "")
    return TestResult(
        method=method,
        statistic_name="McNemar's chi-squared",
        statistic=float(stat),
        df=float(df),
        p_value=float(_st.chi2.sf(stat, df)),
    )
