"""Runs of tied times from one fast sort, with R's ``timefix`` merge on the sorted values.

Internal module: the O(n log n) counting core of the unweighted Kaplan-Meier and log-rank
paths (weighted data and delayed entry use :mod:`npctrial.survival.risk_sets`).

Algorithm:
  1. pack every row into one ``uint64`` sort key: the IEEE-754 bits of its time shifted left
     one place, with a 0/1 payload (event indicator, group indicator, ...) in the freed lowest
     bit. Times are finite and >= 0 (validated), so their sign bit is 0 and their bits order
     like their values; ``np.sort`` of the keys (a SIMD sort, several times faster than
     ``argsort`` plus gathers) sorts the times and carries the payload along, losslessly;
  2. runs of equal times start where the time part changes (one ``np.not_equal`` pass);
  3. R's ``timefix`` (survival 3.5 ``aeqSurv``): with ``y`` the sorted distinct times of the
     pooled data, consecutive values are tied when ``diff(y) <= tol`` or
     ``diff(y) / mean(|y|) <= tol`` (``tol = sqrt(.Machine$double.eps)``); each chain of tied
     values takes its first value. On sorted data this is a mask over ``np.diff`` of the
     distinct values: no search, no Python loop;
  4. per run: size = difference of start positions, number at risk = n - start, payload total
     = ``np.add.reduceat`` of the sorted payload.
Keys sorting the same multiset of times have identical time parts, so the runs found on one
sorted key apply to every other: per-group counts of the log-rank test come from one sort per
payload and need no search at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Runs",
    "TimefixMap",
    "counts_before",
    "cumulate",
    "find_runs",
    "sort_payload",
    "sort_with_payload",
    "timefix_keep",
    "timefix_map",
]

TIMEFIX_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def _keys(time: np.ndarray, payload: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
    """Step 1: sort keys (time bits << 1 | payload); ``time`` finite and >= 0. ``out`` (a
    ``uint64`` array of the same length) is reused when given: fresh memory is costly at 1e7."""
    bits = np.ascontiguousarray(time, dtype=np.float64).view(np.uint64)
    key = np.left_shift(bits, np.uint64(1), out=out)  # -0.0 becomes +0.0
    if payload is not None:
        key |= np.asarray(payload, dtype=bool).view(np.uint8)
    key.sort()
    return key


def sort_with_payload(time: np.ndarray, payload: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(sorted times, their 0/1 payloads as ``uint64``) from one sort of packed keys."""
    key = _keys(time, payload)
    low = None if payload is None else key & np.uint64(1)
    key >>= np.uint64(1)
    return key.view(np.float64), low


def sort_payload(time: np.ndarray, payload: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The 0/1 payloads (``uint64``) in the sorted order of ``time`` (ties in any order),
    written into ``out`` when given."""
    key = _keys(time, payload, out)
    key &= np.uint64(1)
    return key


def timefix_keep(distinct: np.ndarray, *, tolerance: float = TIMEFIX_TOLERANCE) -> np.ndarray | None:
    """Step 3 on sorted distinct finite values: True where a value starts a chain of tied
    values (R ``aeqSurv``), or None when nothing is tied (the usual case)."""
    if distinct.shape[0] < 2:
        return None
    dy = np.diff(distinct)
    scale = float(np.mean(distinct if distinct[0] >= 0 else np.abs(distinct)))
    # candidates: a superset of the tied gaps (margin for rounding), usually few; R's two
    # tests are then applied exactly to them only
    bound = max(tolerance, tolerance * scale) * (1 + 1e-12)
    cand = np.flatnonzero(dy <= bound)
    if cand.shape[0] == 0:
        return None
    g = dy[cand]
    tied = g <= tolerance
    if scale > 0:
        tied |= (g / scale) <= tolerance
    if not tied.any():
        return None
    keep = np.ones(distinct.shape[0], dtype=bool)
    keep[cand[tied] + 1] = False
    return keep


@dataclass(frozen=True)
class TimefixMap:
    """R's ``timefix`` merge computed on pooled data, for applying to parts of it: the sorted
    distinct values that move (``moved``) and the first value of their chain (``target``)."""

    moved: np.ndarray
    target: np.ndarray

    def apply_to_distinct(self, distinct: np.ndarray) -> np.ndarray:
        """The merged values of sorted distinct ``distinct`` (a subset of the pooled values);
        O(m log J) for m moved values, so cheap when few values are tied."""
        pos = np.searchsorted(distinct, self.moved)
        inside = pos < distinct.shape[0]
        hit = np.zeros(self.moved.shape[0], dtype=bool)
        hit[inside] = distinct[pos[inside]] == self.moved[inside]
        out = distinct.copy()
        out[pos[hit]] = self.target[hit]
        return out


def timefix_map(distinct: np.ndarray, *, tolerance: float = TIMEFIX_TOLERANCE) -> TimefixMap | None:
    """The :class:`TimefixMap` of the sorted distinct pooled values, None when nothing is tied."""
    keep = timefix_keep(distinct, tolerance=tolerance)
    if keep is None:
        return None
    chain = np.cumsum(keep) - 1
    first = distinct[keep][chain]
    return TimefixMap(moved=distinct[~keep], target=first[~keep])


@dataclass(frozen=True)
class Runs:
    """Runs of equal (merged) times in a sorted array of ``n`` times.

    ``starts`` are the positions where runs start and ``time`` their (merged) times.
    """

    starts: np.ndarray
    time: np.ndarray
    n: int

    # each result is one new float64 array (fresh memory is costly at 1e7 rows)
    @property
    def size(self) -> np.ndarray:
        """Number of rows in each run (float64)."""
        out = np.empty(self.starts.shape[0])
        if out.shape[0]:
            np.subtract(self.starts[1:], self.starts[:-1], out=out[:-1], dtype=np.float64)
            out[-1] = self.n - self.starts[-1]
        return out

    @property
    def at_risk(self) -> np.ndarray:
        """Rows with time >= each run's time (float64)."""
        return np.subtract(float(self.n), self.starts, dtype=np.float64)

    def total(self, sorted_payload: np.ndarray) -> np.ndarray:
        """Sum of a payload sorted by the same multiset of times, per run (float64)."""
        if self.starts.shape[0] == 0:
            return np.zeros(0)
        return np.add.reduceat(sorted_payload, self.starts, dtype=np.float64)


def cumulate(sorted_payload: np.ndarray) -> np.ndarray:
    """Cumulative sums of a sorted payload, in place (no new array of size n)."""
    return np.cumsum(sorted_payload, out=sorted_payload)


def counts_before(cum: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sum of the first ``p`` payload values for each position ``p`` (float64), from
    :func:`cumulate`'s output."""
    if cum.shape[0] == 0:
        return np.zeros(positions.shape[0])
    out = cum.take(positions - 1).astype(np.float64)
    out[positions == 0] = 0.0
    return out


def find_runs(sorted_time: np.ndarray, *, timefix: bool = False, fix: TimefixMap | None = None) -> Runs:
    """Steps 2-3: runs of ``sorted_time``; ``timefix=True`` merges by R's rule on these values
    (the pooled data), ``fix`` applies a merge computed on pooled data these are part of."""
    n = sorted_time.shape[0]
    if n == 0:
        return Runs(np.zeros(0, dtype=np.int64), sorted_time, 0)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_time[1:], sorted_time[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    y = sorted_time[starts]
    if timefix:
        keep = timefix_keep(y)
        if keep is not None:
            starts, y = starts[keep], y[keep]
    elif fix is not None:
        y = fix.apply_to_distinct(y)
        keep = np.empty(y.shape[0], dtype=bool)
        keep[0] = True
        np.not_equal(y[1:], y[:-1], out=keep[1:])
        starts, y = starts[keep], y[keep]
    return Runs(starts, y, n)
