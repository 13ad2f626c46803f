"""A vectorised two-group log-rank statistic for many simulated trials at once.

Algorithm (Mantel 1966; the R ``survdiff`` rho = 0 statistic, statistics.md section 4), per row:

1. Sort by time; tied times form groups (``start`` = index of a tie group's first member).
2. At each distinct time: ``n`` at risk = N - start, ``n1`` = group-1 patients not yet passed,
   ``d`` and ``d1`` = events in the tie group (cumulative sums differenced at group bounds).
3. ``O1 - E1 = sum(d1 - d n1/n)``, ``V = sum d (n1/n)(1 - n1/n)(n - d)/(n - 1)`` (n > 1).
4. ``Z = (O1 - E1)/sqrt(V)`` (0 if V = 0). Negative Z: fewer events in group 1 than expected.

Used by the simulation of survival designs; the public ``npctrial.survival.logrank_test``
handles data validation, strata and weights for a single data set.

Times are compared exactly. R (``aeqSurv``, ``timefix = TRUE``) and ``npctrial.survival`` treat
times within about 1.5e-8 relative of each other as tied; simulated continuous times that close
(rare) therefore give a slightly different statistic there, which does not matter for power.
"""

from __future__ import annotations

import numpy as np


def compute_logrank_batch(time: np.ndarray, event: np.ndarray, group1: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(O1 - E1, V, Z) per row of ``time``/``event``/``group1`` (2-D arrays, same shape)."""
    time = np.atleast_2d(np.asarray(time, dtype=float))
    event = np.atleast_2d(np.asarray(event, dtype=bool))
    group1 = np.atleast_2d(np.asarray(group1, dtype=bool))
    s, n_total = time.shape
    order = np.argsort(time, axis=1, kind="stable")
    t = np.take_along_axis(time, order, axis=1)
    e = np.take_along_axis(event, order, axis=1).astype(float)
    g = np.take_along_axis(group1, order, axis=1).astype(float)
    idx = np.broadcast_to(np.arange(n_total), (s, n_total))
    new = np.ones((s, n_total), dtype=bool)
    new[:, 1:] = t[:, 1:] != t[:, :-1]
    last = np.ones((s, n_total), dtype=bool)
    last[:, :-1] = new[:, 1:]
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
    zero = np.zeros((s, 1))
    ce = np.concatenate([zero, np.cumsum(e, axis=1)], axis=1)       # ce[:, k] = sum e[:, :k]
    ce1 = np.concatenate([zero, np.cumsum(e * g, axis=1)], axis=1)
    cg = np.concatenate([zero, np.cumsum(g, axis=1)], axis=1)
    rows = np.arange(s)[:, None]
    d = ce[rows, idx + 1] - ce[rows, start]
    d1 = ce1[rows, idx + 1] - ce1[rows, start]
    n = (n_total - start).astype(float)
    n1 = cg[:, -1:] - cg[rows, start]
    use = last & (d > 0)
    frac = np.divide(n1, n, out=np.zeros_like(n), where=n > 0)
    o_minus_e = np.where(use, d1 - d * frac, 0.0).sum(axis=1)
    var_terms = d * frac * (1 - frac) * np.divide(n - d, n - 1, out=np.zeros_like(n), where=n > 1)
    v = np.where(use, var_terms, 0.0).sum(axis=1)
    z = np.divide(o_minus_e, np.sqrt(v), out=np.zeros_like(v), where=v > 0)
    return o_minus_e, v, z
