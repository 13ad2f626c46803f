"""Weighted dominance sums over a sequence, vectorised bit by bit (O(n log D) numpy work).

For items 0..n-1 in a fixed *sweep order*, each with an integer value v (the bits from
``low_bits`` up are a group prefix, e.g. the stratum: pairs across groups never count) and
weights a, b, :func:`earlier_sums` returns

    above_i = sum of a_j over the items j before i (same group) with v_j > v_i
    below_i = sum of b_j over the items j before i (same group) with v_j < v_i

Algorithm (the counting pass of a wavelet tree, i.e. a most-significant-bit-first radix
partition; Navarro 2014, "Wavelet trees for all", J. Discrete Algorithms 25:2-20):

1. The items come sorted by group (every group contiguous), each group in sweep order.
2. For each bit L of the value, from bit ``low_bits - 1`` down to bit 0, the items that agree on
   every bit above L form contiguous runs, each in sweep order. Within a run an item whose bit L
   is 0 is below every earlier item whose bit L is 1, and an item whose bit L is 1 is above every
   earlier item whose bit L is 0: segmented cumulative sums of a [bit 1] and of b [bit 0] are added
   to ``above`` of the bit-0 items and to ``below`` of the bit-1 items. A pair is counted at the
   first bit where the two values differ, so exactly once.
3. A stable partition of the whole sequence by bit L (bit-0 items first) keeps every run of the
   next level (items agreeing above L - 1) contiguous and in sweep order.

Each level is a few linear passes and one stable partition, so the work is O(n log D) for values
below D (R's ``concordance`` walks a balanced binary tree item by item for the same counts).
Sums are exact while they stay below 2^53 (integer weights).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["earlier_sums"]


def _segmented_cumsum(y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum of ``y`` restarted at each index in ``starts`` (starts[0] == 0),
    in place: each run's total is subtracted at the start of the next run, then one cumsum."""
    if len(starts) > 1:
        totals = np.add.reduceat(y, starts)
        y[starts[1:]] -= totals[:-1]
    return y.cumsum(out=y)


def earlier_sums(value: np.ndarray, a: np.ndarray | None, b: np.ndarray, low_bits: int,
                 index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``above`` and ``below`` (module docstring) of the items in sweep order, returned scattered to
    ``index`` (item k lands at ``index[k]``; outputs have ``index.max() + 1`` entries).

    ``a=None`` means a_j = 1; a boolean ``b`` means b_j = 1 where it is true (unweighted data carry
    one byte per item instead of eight through the partitions)."""
    n = value.shape[0]
    size = int(index.max()) + 1 if n else 0
    out_above, out_below = np.zeros(size), np.zeros(size)
    if n == 0 or low_bits == 0:
        return out_above, out_below
    v = value.astype(np.int32 if int(value.max()) < 2**31 else np.int64)
    pos = index.astype(np.int32 if size < 2**31 else np.int64)
    carried: dict[str, Any] = {"v": v, "pos": pos, "above": np.zeros(n), "below": np.zeros(n),
               "b": b.astype(bool) if b.dtype == bool else b.astype(np.float64)}
    if a is not None:
        carried["a"] = a.astype(np.float64)
    spare = {k: np.empty_like(x) for k, x in carried.items()}
    y = np.empty(n)
    bit = np.empty(n, dtype=bool)
    nbit = np.empty(n, dtype=bool)
    new_run = np.ones(n, dtype=bool)
    for level in range(low_bits - 1, -1, -1):
        v = carried["v"]
        prefix = v >> (level + 1)
        np.not_equal(prefix[1:], prefix[:-1], out=new_run[1:])
        starts = new_run.nonzero()[0]
        np.not_equal((v >> level) & 1, 0, out=bit)
        np.logical_not(bit, out=nbit)
        # step 2: above += (sum of a over earlier bit-1 items of the run) for the bit-0 items
        if "a" in carried:
            np.multiply(carried["a"], bit, out=y)
        else:
            y[:] = bit
        _segmented_cumsum(y, starts)
        y *= nbit  # bit-1 items take nothing from this level
        carried["above"] += y
        # ... below += (sum of b over earlier bit-0 items of the run) for the bit-1 items
        bw = carried["b"]
        if bw.dtype == bool:
            np.greater(bw, bit, out=y)  # b & ~bit as 0/1
        else:
            np.multiply(bw, nbit, out=y)
        _segmented_cumsum(y, starts)
        y *= bit
        carried["below"] += y
        # step 3: stable partition by the bit
        perm = bit.argsort(kind="stable")
        for key, arr in carried.items():
            arr.take(perm, out=spare[key])
        carried, spare = spare, carried
    out_above[carried["pos"]] = carried["above"]
    out_below[carried["pos"]] = carried["below"]
    return out_above, out_below
