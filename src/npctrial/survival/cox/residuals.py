"""Cox model residuals as R's ``residuals.coxph`` (martingale, deviance, score, Schoenfeld, dfbeta).

Reference: Therneau & Grambsch (2000), ch. 4; R survival ``coxmart.c``, ``coxscore2.c`` and
``coxscho.c``. With the per-term quantities of :mod:`.engine` (xbar_k, h_k, f_k):

1. Martingale: M_i = delta_i - e^eta_i Lambda_i, Lambda_i the Efron-adjusted cumulative hazard
   (a subject dying in a tied group of d is charged (1 - r/d) of the r-th term, as coxmart.c).
2. Deviance: sign(M) sqrt(-2 [M + delta log(delta - M)]).
3. Score: L_i = delta_i (x_i - m_g) - e^eta_i (x_i Lambda_i - XH_i), m_g = the mean of xbar_k over
   the group's terms, XH the matching cumulative sum of xbar_k h_k (coxscore2.c, O(n p)).
   Without entry times XH, m_g and e2_g are constant within a layout segment (the events or the
   censored rows of one tied time), so the residual is assembled from per-segment vectors.
4. Schoenfeld: x_i - m_g for each event, in (stratum, time) order, deaths first within a time.
5. dfbeta: w_i L_i V (V the model-based variance); the robust variance is D'D with D summed
   within clusters (R ``coxph`` with ``cluster()``; the sums by one sparse indicator product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from npctrial.survival.cox.products import group_sum

if TYPE_CHECKING:
    from scipy import sparse

    from npctrial.survival.cox.engine import CoxState, RiskSetLayout

__all__ = [
    "deviance_residuals",
    "martingale_residuals",
    "schoenfeld_residuals",
    "score_residuals",
]


def martingale_residuals(layout: RiskSetLayout, state: CoxState) -> np.ndarray:
    """Martingale residuals in sorted order."""
    return layout.status_s - state.risk * state.lam


def deviance_residuals(martingale: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Deviance residuals from martingale residuals (any order, aligned with ``status``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.where(status > 0, status * np.log(np.where(status > 0, status - martingale, 1.0)), 0.0)
    return np.sign(martingale) * np.sqrt(np.maximum(-2.0 * (martingale + inner), 0.0))


def group_means(layout: RiskSetLayout, state: CoxState) -> np.ndarray:
    """m_g: the covariate mean used for events of group g (Efron: mean over the tie terms)."""
    return layout.xbar_sums(state, layout.exp_m)


def score_residuals(layout: RiskSetLayout, state: CoxState, x: np.ndarray, *,
                    row_weights: np.ndarray | None = None, col_scale: np.ndarray | None = None,
                    chunk: int = 1 << 12, out: np.ndarray | None = None) -> np.ndarray:
    """Score residuals in sorted order; ``x`` in sorted order, same centring as ``state``.

    Optionally multiplied by ``row_weights`` (R's weighted=TRUE) and divided by ``col_scale``
    (residuals of scaled covariates back on the original scale); written into ``out`` (n x p,
    row-major) when given. Rows are processed in chunks so
    every temporary stays in cache."""
    n, p = x.shape
    xh_g = layout.xbar_sums(state, state.hazard)
    e2_g = layout.xbar_sums(state, state.hazard * layout.exp_frac)
    means_g = group_means(layout, state)
    hc = np.vstack([np.zeros((1, p)), np.cumsum(xh_g, axis=0)])
    if layout.entry_s is None:
        return _score_residuals_by_segment(layout, state, x, hc, e2_g, means_g, row_weights, col_scale,
                                           max(chunk, 1 << 14), out)
    dr = layout.death_rows
    dg = layout.death_group
    upper, lower = layout.row_upper, layout.row_lower
    resid = np.empty((n, p)) if out is None else out
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        xc = x[r0:r1]
        risk = state.risk[r0:r1, None]
        res = hc[upper[r0:r1]] - hc[lower[r0:r1]]
        res -= xc * state.lam[r0:r1, None]
        res *= risk
        k0, k1 = np.searchsorted(dr, [r0, r1])
        if k1 > k0:
            local = dr[k0:k1] - r0
            g = dg[k0:k1]
            res[local] += xc[local] - means_g[g] - risk[local] * e2_g[g]
        if row_weights is not None:
            res *= row_weights[r0:r1, None]
        if col_scale is not None:
            res /= col_scale
        resid[r0:r1] = res
    return resid


def _score_residuals_by_segment(layout: RiskSetLayout, state: CoxState, x: np.ndarray, hc: np.ndarray,
                                e2_g: np.ndarray, means_g: np.ndarray, row_weights: np.ndarray | None,
                                col_scale: np.ndarray | None, chunk: int, out: np.ndarray | None) -> np.ndarray:
    """Score residuals of right-censored data (no entry times), regrouped per layout segment.

    A segment is the event part or the censored part of a block of equal (stratum, time); the
    cumulative sum XH is constant within a block and m_g, e2_g within an event part, so
    L_i = e^eta_i (XH_b - e2_g) - (e^eta_i Lambda_i - delta_i) x_i - m_g, the bracketed vectors per
    segment (e2_g and m_g zero outside event parts): three row operations instead of a dozen."""
    n, p = x.shape
    nseg = len(layout.seg_idx)
    xh_b = hc[layout.block_upper] - hc[layout.block_lower]
    seg_v = xh_b[layout.seg_block]
    seg_m = np.zeros((nseg, p))
    seg_v[layout.grp_seg] -= e2_g
    seg_m[layout.grp_seg] = means_g
    seg_row = np.repeat(np.arange(nseg), layout.seg_len)
    risk = state.risk
    a = risk * state.lam - layout.status_s
    resid = np.empty((n, p)) if out is None else out
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        s = seg_row[r0:r1]
        res = resid[r0:r1]
        np.multiply(seg_v[s], risk[r0:r1, None], out=res)
        res -= x[r0:r1] * a[r0:r1, None]
        res -= seg_m[s]
        if row_weights is not None:
            res *= row_weights[r0:r1, None]
        if col_scale is not None:
            res /= col_scale
    return resid


def schoenfeld_residuals(layout: RiskSetLayout, state: CoxState, x: np.ndarray) -> np.ndarray:
    """Unscaled Schoenfeld residuals, one row per event in (stratum, time) order."""
    dr = layout.death_rows
    return x[dr] - group_means(layout, state)[layout.death_group]


def cluster_indicator(cluster: np.ndarray) -> sparse.csr_matrix:
    """The (rows x clusters) 0/1 matrix of cluster codes 0..k-1, in CSR form without sorting (row i
    holds one 1 in column ``cluster[i]``); build it once to collapse several matrices.
    (scipy.sparse is imported here, on first use: a tenth of a second at start-up otherwise.)"""
    from scipy import sparse

    n = cluster.shape[0]
    return sparse.csr_matrix((np.ones(n), cluster, np.arange(n + 1)), shape=(n, int(cluster.max()) + 1))


def collapse(values: np.ndarray, cluster: np.ndarray | sparse.csr_matrix | None) -> np.ndarray:
    """Sum rows within clusters (codes 0..k-1, or their :func:`cluster_indicator`; R ``rowsum``);
    identity when there is no cluster.

    One pass over the rows: ``values`` is multiplied by the transposed (rows x clusters) indicator
    matrix, built in CSR form without sorting (row i holds one 1 in column ``cluster[i]``). Rows
    are added in row order, as ``np.bincount`` would, but all columns at once (several times faster
    than a column-by-column bincount on a row-major matrix with many clusters)."""
    if cluster is None:
        return values
    from scipy import sparse

    if sparse.issparse(cluster):
        return np.asarray(cluster.T @ np.ascontiguousarray(values))
    n = values.shape[0]
    k = int(cluster.max()) + 1
    if values.ndim == 1 or n < 1024:
        return group_sum(cluster, values, k)
    indicator = sparse.csr_matrix((np.ones(n), cluster, np.arange(n + 1)), shape=(n, k))
    return np.asarray(indicator.T @ np.ascontiguousarray(values))
