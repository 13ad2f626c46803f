"""Dense ranks of values (0 for the smallest distinct value, 1 for the next, ...) in O(n).

Survival times repeat a lot (whole days, months), so the ranks come from whichever of three
routes is linear for the data at hand (``np.searchsorted`` of a million unsorted keys, the obvious
route, is several times slower than all of them):

1. integer values spanning a range of at most 4 n: a presence table over the range
   (``np.bincount``) and its cumulative sum give the rank of every value by one lookup;
2. otherwise, when the values repeat (at most n / 16 distinct): hashing (``pandas.factorize``,
   sorted distinct values);
3. otherwise one ``argsort``: the ranks are the cumulative count of new values in sorted order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dense_rank", "integer_offsets", "integer_ranks", "ranks_of_offsets"]


def integer_offsets(x: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The check of route 1: (x - base as int64, base) when ``x`` (float) holds integers spanning
    at most 4 n + 1024 (base 0 for counts and days, else the minimum), else None."""
    if len(x) == 0:
        return None
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo > 4 * len(x) + 1024 or abs(lo) > 2**52:
        return None
    base = 0.0 if 0.0 <= lo and hi <= 4 * len(x) + 1024 else lo  # no shift for counts and days
    shifted = x if base == 0.0 else x - base
    ix = shifted.astype(np.int64)
    if not bool((ix == shifted).all()):
        return None
    return ix, base


def integer_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Route 1 alone: (ranks, sorted distinct values) when ``x`` (float) holds integers spanning
    at most 4 n + 1024, else None."""
    found = integer_offsets(x)
    return None if found is None else ranks_of_offsets(*found)


def ranks_of_offsets(ix: np.ndarray, base: float) -> tuple[np.ndarray, np.ndarray]:
    """Route 1 after its check: (ranks, sorted distinct values) of the offsets ``ix`` from ``base``
    (:func:`integer_offsets`), by one lookup in a presence table over their range."""
    present = np.bincount(ix) > 0
    distinct = np.flatnonzero(present).astype(np.float64) + base
    if present.all():  # every value of the range occurs (codes 0/1, ...): the ranks are the values
        return ix, distinct
    return (np.cumsum(present) - 1)[ix], distinct


def dense_rank(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank of each value as int64, the sorted distinct values) of a finite 1-D float array."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64), x.copy()
    table = integer_ranks(x)
    if table is not None:
        return table
    distinct = np.unique(x)
    if 16 * len(distinct) <= len(x):
        import pandas as pd

        codes, uniq = pd.factorize(x, sort=True)
        return codes.astype(np.int64, copy=False), np.asarray(uniq, dtype=np.float64)
    order = np.argsort(x)
    xs = x[order]
    rank = np.empty(len(x), dtype=np.int64)
    rank[order] = np.concatenate([[0], np.cumsum(xs[1:] != xs[:-1])])
    return rank, distinct
