"""Cochran-Mantel-Haenszel test and common odds ratio for stratified tables (R ``mantelhaen.test``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from npctrial.errors import ValidationError
from npctrial.stats.contingency import as_count_table
from npctrial.stats.results import TestResult
from npctrial.validation import check_conf_level, check_flag


@dataclass(frozen=True, kw_only=True)
class MantelHaenszelResult(TestResult):
    """CMH test; for 2 x 2 x K tables ``estimate`` is the Mantel-Haenszel common odds ratio."""

    n_strata: int


def mantel_haenszel(
    tables: object, *, correction: bool = True, conf_level: float = 0.95
) -> MantelHaenszelResult:
    """Cochran-Mantel-Haenszel test of conditional independence in an I x J x K array.

    2 x 2 x K (R's default path): (1) a_k = n_11k, E_k = n_1.k n_.1k / n_k,
    V_k = n_1.k n_2.k n_.1k n_.2k / (n_k^2 (n_k - 1)); (2) X^2 = (|sum(a - E)| - 1/2)^2 / sum V
    (the 1/2 only with ``correction`` and |sum(a - E)| >= 1/2); (3) common OR
    sum(a d / n) / sum(b c / n) with the Robins-Breslow-Greenland variance of its log for the CI.
    I x J x K: the generalized statistic n' V^-1 n on (I-1)(J-1) df over the first (I-1)(J-1)
    cells. Reference: R stats::mantelhaen.test; Mantel & Haenszel, JNCI 22 (1959);
    Robins, Breslow & Greenland, Biometrics 42 (1986).
    """
    x = as_count_table(tables, name="tables", ndim=3).astype(float)
    correction = check_flag(correction, "correction")
    conf_level = check_conf_level(conf_level)
    n_k = x.sum(axis=(0, 1))
    if (n_k < 2).any():
        raise ValidationError("every stratum needs at least 2 observations", field="tables")
    big_i, big_j, k = x.shape
    if (big_i, big_j) == (2, 2):
        r1, r2 = x[0].sum(axis=0), x[1].sum(axis=0)
        c1, c2 = x[:, 0].sum(axis=0), x[:, 1].sum(axis=0)
        delta = float(np.sum(x[0, 0] - r1 * c1 / n_k))
        yates = 0.5 if correction and abs(delta) >= 0.5 else 0.0
        var = float(np.sum(r1 * r2 * c1 * c2 / (n_k**2 * (n_k - 1))))
        stat = (abs(delta) - yates) ** 2 / var
        a, b, c, d = x[0, 0], x[0, 1], x[1, 0], x[1, 1]
        s_diag = float(np.sum(a * d / n_k))
        s_off = float(np.sum(b * c / n_k))
        est = s_diag / s_off if s_off > 0 else float("inf")
        sd = np.sqrt(
            np.sum((a + d) * a * d / n_k**2) / (2 * s_diag**2)
            + np.sum(((a + d) * b * c + (b + c) * a * d) / n_k**2) / (2 * s_diag * s_off)
            + np.sum((b + c) * b * c / n_k**2) / (2 * s_off**2)
        )
        z = float(_st.norm.ppf(1 - (1 - conf_level) / 2))
        ci = (float(est * np.exp(-z * sd)), float(est * np.exp(z * sd)))
        return MantelHaenszelResult(
            method="Mantel-Haenszel chi-squared test" + (" with continuity correction" if yates else ""),
            statistic_name="Mantel-Haenszel X-squared",
            statistic=float(stat),
            df=1.0,
            p_value=float(_st.chi2.sf(stat, 1)),
            estimate_name="common odds ratio",
            estimate=float(est),
            conf_int=ci,
            conf_level=conf_level,
            n_strata=k,
        )
    df = (big_i - 1) * (big_j - 1)
    dev = np.zeros(df)
    v = np.zeros((df, df))
    for s in range(k):
        f = x[:, :, s]
        nt = f.sum()
        rs = f.sum(axis=1)[:-1]
        cs = f.sum(axis=0)[:-1]
        dev += f[:-1, :-1].ravel(order="F") - np.outer(rs, cs).ravel(order="F") / nt
        v += np.kron(np.diag(nt * cs) - np.outer(cs, cs), np.diag(nt * rs) - np.outer(rs, rs)) / (
            nt**2 * (nt - 1)
        )
    stat = float(dev @ np.linalg.lstsq(v, dev, rcond=None)[0])
    return MantelHaenszelResult(
        method="Cochran-Mantel-Haenszel test",
        statistic_name="Cochran-Mantel-Haenszel M^2",
        statistic=stat,
        df=float(df),
        p_value=float(_st.chi2.sf(stat, df)),
        conf_level=conf_level,
        n_strata=k,
    )
