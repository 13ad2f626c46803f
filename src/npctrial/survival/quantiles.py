"""Quantiles of a step survival curve by R's two rules (median table and ``quantile.survfit``).

Both rules find where a horizontal line at S = 1 - p meets the curve; when the curve is flat
exactly at that level (within ``tol = sqrt(machine eps)``) they take a midpoint:

* :func:`median_table_rule` -- ``survmean``'s ``minmin`` (R ``print``/``summary(fit)$table``):
  first time with y < 0.5 + tol; if that y is 0.5 (within tol) and the curve later drops
  below it, the midpoint of that time and the first time it drops; a curve that ends flat at
  0.5 gives the start of the flat.
* :func:`quantile_rule` -- ``quantile.survfit``'s ``findq``: same midpoint rule, but a curve that
  ends flat at the level gives the midpoint of the start of the flat and the last time.

Applied to the lower and upper bands they give the confidence limits of the quantile
(Brookmeyer-Crowley type; the band's conf_type matters). Source: R survival 3.5
``print.survfit.R`` (survmean/minmin) and ``quantile.survfit.R`` (findq).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TOLERANCE", "median_table_rule", "quantile_rule"]

TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def median_table_rule(y: np.ndarray, x: np.ndarray, level: float = 0.5) -> float:
    """R ``minmin(y, x)``: the time where the curve ``y`` (decreasing, may hold NaN) meets ``level``.

    Steps: 1. keep points with y not NaN and y < level + tol; none -> NaN; 2. if the first kept
    y equals level within tol and a later kept y is smaller, return the mean of its time and the
    time of the first smaller y; 3. else the first kept time.
    """
    keep = ~np.isnan(y) & (y < level + TOLERANCE)
    if not keep.any():
        return float("nan")
    xk, yk = x[keep], y[keep]
    if abs(yk[0] - level) < TOLERANCE:
        lower = np.flatnonzero(yk < yk[0])
        if lower.shape[0]:
            return float((xk[0] + xk[lower[0]]) / 2)
    return float(xk[0])


def _approx_index(knots: np.ndarray, p: float) -> int | None:
    """R ``approx(knots, 1:n, p, method="constant", f=1)`` as a 0-based index (None = NA).

    NaN knots are ignored (``approx`` drops them); the answer is the first knot >= p when p lies
    within [min knot, max knot].
    """
    ok = np.flatnonzero(~np.isnan(knots))
    if ok.shape[0] == 0:
        return None
    kv = knots[ok]
    if p < kv[0] or p > kv[-1]:
        return None
    j = int(np.searchsorted(kv, p, side="left"))
    return int(ok[j])


def quantile_rule(
    time: np.ndarray, surv: np.ndarray, probs: np.ndarray, *, start_time: float = 0.0
) -> np.ndarray:
    """R ``findq(c(start, time), c(0, 1 - surv), probs, tol)`` for one curve (or band).

    Steps (survival 3.5 ``quantile.survfit.R``):
      1. x = (start, time), y = (0, 1 - surv); if max(y) < min(p) every answer is NA;
      2. drop repeated y values (censoring-only rows), remembering the last time ``xmax``;
      3. i1 = first y_i + tol >= p, i2 = first y_i - tol >= p; quantile = (x[i1] + x[i2]) / 2
         (NA when either is NA): a flat exactly at p gives the midpoint of the flat;
      4. p = 0 gives x[0]; when the curve ends at level p (|p - y_last| < tol) the quantile is
         (x[i1] + xmax) / 2.
    """
    x = np.concatenate([[start_time], np.asarray(time, dtype=np.float64)])
    y = np.concatenate([[0.0], 1.0 - np.asarray(surv, dtype=np.float64)])
    probs = np.asarray(probs, dtype=np.float64)
    out = np.full(probs.shape[0], np.nan)
    if np.all(np.isnan(y)) or np.nanmax(y) < probs.min():
        return out
    xmax = x[-1]
    # R duplicated(): first occurrence kept, every NaN after the first dropped. y is
    # non-decreasing apart from NaN, so equal values are adjacent among the non-NaN ones.
    nan = np.isnan(y)
    keep = np.ones(y.shape[0], dtype=bool)
    nan_pos = np.flatnonzero(nan)
    keep[nan_pos[1:]] = False
    nn_pos = np.flatnonzero(~nan)
    ynn = y[nn_pos]
    keep[nn_pos[1:][ynn[1:] == ynn[:-1]]] = False
    x, y = x[keep], y[keep]
    for k, p in enumerate(probs):
        i1 = _approx_index(y + TOLERANCE, p)
        i2 = _approx_index(y - TOLERANCE, p)
        if p == 0:
            out[k] = x[0]
            continue
        q = np.nan
        if i1 is not None and i2 is not None:
            q = (x[i1] + x[i2]) / 2
        if not np.isnan(y[-1]) and abs(p - y[-1]) < TOLERANCE:
            q = (x[i1] + xmax) / 2 if i1 is not None else np.nan
        out[k] = q
    return out
