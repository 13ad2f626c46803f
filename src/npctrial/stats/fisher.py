"""Fisher's exact test for 2 x 2 and r x c tables (R ``fisher.test``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import stats as _st
from scipy.special import gammaln

from npctrial.errors import ValidationError
from npctrial.stats.contingency import as_count_table
from npctrial.stats.results import TestResult
from npctrial.validation import check_choice, check_conf_level

#: R's relative tolerance: tables with P <= P_obs * (1 + 1e-7) count as "as extreme".
_REL_ERR = 1.0 + 1e-7


@dataclass(frozen=True, kw_only=True)
class FisherResult(TestResult):
    """Fisher's exact test; 2 x 2 tables also carry R's conditional MLE odds ratio and CI."""

    method: str = "Fisher's Exact Test for Count Data"
    statistic_name: str = ""
    statistic: float = float("nan")
    df: float | None = None
    alternative: str


def _compositions(total: int, caps: tuple[int, ...]) -> np.ndarray:
    """All non-negative integer vectors a with sum(a) == total and a <= caps (one per row)."""
    r = len(caps)
    if r == 1:
        return np.array([[total]], dtype=np.int64) if total <= caps[0] else np.empty((0, 1), np.int64)
    grids = np.meshgrid(*[np.arange(min(c, total) + 1) for c in caps[:-1]], indexing="ij")
    head = np.stack([g.ravel() for g in grids], axis=1)
    last = total - head.sum(axis=1)
    ok = (last >= 0) & (last <= caps[-1])
    return np.column_stack([head[ok], last[ok]]).astype(np.int64)


#: Largest grid of remaining row sums for which the exact bounds are tabulated.
_MAX_GRID = 2_000_000


def _exact_bounds(rows: tuple[int, ...], cols: list[int], lf: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Longest and shortest completion weights for every node, by dynamic programming.

    hi[j][s] (lo[j][s]) is the maximum (minimum) over all completions of columns j.. of
    -sum log n_ij!, for remaining row sums s (the last row sum is implied by the column
    totals). Computed backwards over columns; each composition of a column is one shifted
    array operation over the whole grid, so the cost is (#compositions x grid size) in numpy.
    """
    r, ncol = len(rows), len(cols)
    shape = tuple(x + 1 for x in rows[:-1])
    grid = np.indices(shape)
    ssum = grid.sum(axis=0)
    suffix = [sum(cols[j:]) for j in range(ncol + 1)]
    part = -lf[grid].sum(axis=0)
    hi: list[np.ndarray] = [np.empty(0)] * ncol
    lo: list[np.ndarray] = [np.empty(0)] * ncol
    last = suffix[ncol - 1] - ssum
    valid = (last >= 0) & (last <= rows[-1])
    w = part - lf[np.clip(last, 0, None)]
    hi[ncol - 1] = np.where(valid, w, -np.inf)
    lo[ncol - 1] = np.where(valid, w, np.inf)
    for j in range(ncol - 2, -1, -1):
        h_arr = np.full(shape, -np.inf)
        l_arr = np.full(shape, np.inf)
        for a in _compositions(cols[j], rows):
            wa = float(-lf[a].sum())
            src = tuple(slice(int(ai), None) for ai in a[:-1])
            dst = tuple(slice(0, x + 1 - int(ai)) for x, ai in zip(rows[:-1], a[:-1], strict=True))
            hv, lv = h_arr[src], l_arr[src]
            np.maximum(hv, wa + hi[j + 1][dst], out=hv)
            np.minimum(lv, wa + lo[j + 1][dst], out=lv)
        last = suffix[j] - ssum
        valid = (last >= 0) & (last <= rows[-1])
        h_arr[~valid] = -np.inf
        l_arr[~valid] = np.inf
        hi[j], lo[j] = h_arr, l_arr
    del r
    return hi, lo


def _column_bounds(c: int, caps: np.ndarray, lf: np.ndarray) -> tuple[float, float]:
    """Max and min of -sum log a! over a <= caps with sum a = c.

    Max: the most even split (water-filling); min: the most concentrated split (largest caps
    filled first). Used as relaxed bounds when the exact table would be too large.
    """
    order = np.sort(caps)
    even = np.zeros_like(order)
    left = c
    for i, cap in enumerate(order):
        share = min(int(cap), left // (len(order) - i))
        even[i] = share
        left -= share
    i = len(order) - 1
    while left > 0:
        if even[i] < order[i]:
            even[i] += 1
            left -= 1
        i = (i - 1) % len(order)
    conc = np.zeros_like(order)
    left = c
    for i in range(len(order) - 1, -1, -1):
        conc[i] = min(int(order[i]), left)
        left -= conc[i]
    return float(-lf[even].sum()), float(-lf[conc].sum())


def _rxc_p_value(table: np.ndarray) -> float:
    """Two-sided exact conditional p-value for an r x c table.

    Network-style enumeration (Mehta & Patel, JASA 1983), column by column:
      1. orient the table so rows are the shorter dimension and sort columns by total;
      2. a node is (column index, remaining row sums); the weight of a path is
         -sum log n_ij! over the cells chosen so far; P(table) = K * exp(weight);
      3. for each node the maximum and minimum completion weight (exact, tabulated by
         :func:`_exact_bounds`; per-column relaxation bounds if the grid is huge) and the
         closed-form log of the sum of all completion weights, log M! - sum log R'! - sum log C'!;
      4. past weights arriving at a node are kept as (value, multiplicity); a path whose best
         completion is already <= P_obs (1 + 1e-7) contributes all its completions at once,
         a path whose worst completion exceeds it is dropped, the rest are extended.
    Equal to R's fisher.test (FEXACT) p-value to rounding.
    """
    t = table if table.shape[0] <= table.shape[1] else table.T
    t = t[:, np.argsort(t.sum(axis=0), kind="stable")]
    rows = tuple(int(x) for x in t.sum(axis=1))
    cols = [int(x) for x in t.sum(axis=0)]
    n = int(t.sum())
    lf = gammaln(np.arange(n + 2) + 1.0)
    ncol = len(cols)
    const = lf[list(rows)].sum() + lf[cols].sum() - lf[n]
    w_obs = -lf[t].sum()
    thr = w_obs + np.log(_REL_ERR)
    suffix = [int(sum(cols[j:])) for j in range(ncol + 1)]

    @cache
    def comps(j: int, state: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        a = _compositions(cols[j], state)
        return a, -lf[a].sum(axis=1)

    exact = _exact_bounds(rows, cols, lf) if np.prod([r + 1 for r in rows[:-1]]) <= _MAX_GRID else None

    @cache
    def bounds(j: int, state: tuple[int, ...]) -> tuple[float, float]:
        if exact is not None:
            idx = state[:-1]
            return float(exact[0][j][idx]), float(exact[1][j][idx])
        if j == ncol - 1:
            w_last = float(-lf[list(state)].sum())
            return w_last, w_last
        # relaxed (per-column) bounds for very large grids: valid, cheap, weaker
        caps = np.asarray(state)
        hi = lo = 0.0
        for c in cols[j:]:
            h, low = _column_bounds(c, caps, lf)
            hi += h
            lo += low
        return min(hi, log_total(j, state)), lo

    def log_total(j: int, state: tuple[int, ...]) -> float:
        return float(lf[suffix[j]] - lf[list(state)].sum() - lf[cols[j:]].sum())

    radix = np.cumprod([1] + [r + 1 for r in rows[:-1]]).astype(np.int64)
    p = 0.0
    stage: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {
        rows: (np.zeros(1), np.ones(1))
    }
    for j in range(ncol):
        keys_parts: list[np.ndarray] = []
        vals_parts: list[np.ndarray] = []
        cnts_parts: list[np.ndarray] = []
        for state, (vals, cnts) in stage.items():
            hi, lo = bounds(j, state)
            all_in = vals + hi <= thr
            if all_in.any():
                p += float(np.sum(cnts[all_in] * np.exp(vals[all_in] + log_total(j, state) + const)))
            keep = ~all_in & (vals + lo <= thr)
            if j == ncol - 1 or not keep.any():
                continue
            v, c = vals[keep], cnts[keep]
            a, w = comps(j, state)
            if j == ncol - 2:
                # the last column is forced: finish these paths here, without grouping
                total = (w - lf[np.asarray(state) - a].sum(axis=1))[:, None] + v[None, :]
                hit = total <= thr
                p += float(np.sum(np.where(hit, np.exp(total + const), 0.0) * c[None, :]))
                continue
            key = (np.asarray(state) - a) @ radix
            keys_parts.append(np.repeat(key, len(v)))
            vals_parts.append((w[:, None] + v[None, :]).ravel())
            cnts_parts.append(np.tile(c, len(w)))
        if j >= ncol - 2 or not keys_parts:
            break
        keys = np.concatenate(keys_parts)
        vals = np.concatenate(vals_parts)
        cnts = np.concatenate(cnts_parts)
        order = np.lexsort((np.round(vals, 9), keys))
        keys, vals, cnts = keys[order], vals[order], cnts[order]
        rv = np.round(vals, 9)
        new_group = np.ones(len(keys), dtype=bool)
        new_group[1:] = (keys[1:] != keys[:-1]) | (rv[1:] != rv[:-1])
        gid = np.cumsum(new_group) - 1
        g_keys = keys[new_group]
        g_vals = vals[new_group]
        g_cnts = np.bincount(gid, weights=cnts)
        bounds_idx = np.flatnonzero(np.r_[True, g_keys[1:] != g_keys[:-1], True])
        stage = {}
        for s0, s1 in zip(bounds_idx[:-1], bounds_idx[1:], strict=True):
            k = int(g_keys[s0])
            state = tuple(int(k // int(radix[i]) % (rows[i] + 1)) for i in range(len(rows)))
            stage[state] = (g_vals[s0:s1], g_cnts[s0:s1])
    return min(1.0, p)


def fisher_exact(
    table: object, *, alternative: str = "two-sided", conf_level: float = 0.95
) -> FisherResult:
    """Fisher's exact test of independence, as R ``fisher.test``.

    2 x 2: p from the hypergeometric distribution of n_11 given the margins (two-sided: sum of
    P <= P_obs (1 + 1e-7)); ``alternative`` "less"/"greater" are one-sided; the estimate is the
    conditional maximum-likelihood odds ratio with its exact CI (R's, via
    ``scipy.stats.contingency.odds_ratio(kind="conditional")``).
    r x c: the exact conditional two-sided p-value (see :func:`_rxc_p_value`); no estimate.
    Reference: R stats::fisher.test; Mehta & Patel, JASA 78 (1983) 427-434.
    """
    obs = as_count_table(table)
    check_choice(alternative, ("two-sided", "less", "greater"), "alternative")
    conf_level = check_conf_level(conf_level)
    if obs.sum() == 0:
        raise ValidationError("table has no observations", field="table")
    if obs.shape != (2, 2):
        if alternative != "two-sided":
            raise ValidationError("alternative must be 'two-sided' for r x c tables", field="alternative")
        return FisherResult(p_value=_rxc_p_value(obs), conf_level=conf_level, alternative=alternative)
    if alternative == "two-sided":
        p = _rxc_p_value(obs)
    else:
        m = int(obs[0].sum())
        nn = int(obs[1].sum())
        k = int(obs[:, 0].sum())
        dist = _st.hypergeom(m + nn, m, k)
        p = float(dist.cdf(obs[0, 0]) if alternative == "less" else dist.sf(obs[0, 0] - 1))
    orr = _st.contingency.odds_ratio(obs, kind="conditional")
    ci = orr.confidence_interval(confidence_level=conf_level, alternative=alternative)
    return FisherResult(
        p_value=float(p),
        estimate_name="odds ratio",
        estimate=float(orr.statistic),
        conf_int=(float(ci.low), float(ci.high)),
        conf_level=conf_level,
        alternative=alternative,
    )
