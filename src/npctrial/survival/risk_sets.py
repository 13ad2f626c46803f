"""Risk sets at distinct times: the O(n log n) counting core shared by the estimators.

Internal module. Conventions (R survival):

* a subject censored at ``t`` is at risk at ``t`` (events precede censorings);
* with delayed entry, a subject is at risk at ``t`` when ``entry < t <= time``;
* times that differ by less than R's ``timefix`` tolerance are merged first
  (:func:`apply_timefix`, after ``survival::aeqSurv``).

Algorithm: each column is sorted once (``np.sort``: no permutation is needed for unweighted
data; a single ``argsort`` for weighted data); counts at a grid of distinct times are then
differences of positions found by ``np.searchsorted`` (or a ``bincount`` of grid positions
when the grid is as large as the data), and at-risk counts are reverse cumulative sums. Nothing
is quadratic in ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "GroupedRiskTable",
    "RiskTable",
    "SortedTimes",
    "apply_timefix",
    "distinct_sorted",
    "grouped_risk_table",
    "risk_table",
]

TIMEFIX_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def apply_timefix(
    time: np.ndarray, entry: np.ndarray | None = None, *, tolerance: float = TIMEFIX_TOLERANCE
) -> tuple[np.ndarray, np.ndarray | None]:
    """Merge times equal up to floating-point tolerance, as R's ``aeqSurv`` (``timefix=TRUE``).

    Steps (survival 3.5 ``aeqSurv``):
      1. ``y`` = sorted distinct finite values of all time columns (entry and time together);
      2. consecutive values are tied when ``diff(y) <= tol`` or ``diff(y)/mean(|y|) <= tol``;
      3. each run of tied values is replaced by its first (smallest) value.
    Returns the inputs unchanged (same objects) when nothing is tied.
    """
    allt = time if entry is None else np.concatenate([entry, time])
    y = np.unique(allt)
    if y.shape[0] < 2:
        return time, entry
    dy = np.diff(y)
    scale = float(np.mean(np.abs(y)))
    tied = dy <= tolerance
    if scale > 0:
        tied |= (dy / scale) <= tolerance
    if not tied.any():
        return time, entry
    cuts = y[np.concatenate([[True], ~tied])]

    def fix(x: np.ndarray) -> np.ndarray:
        return cuts[np.searchsorted(cuts, x, side="right") - 1]

    return fix(time), None if entry is None else fix(entry)


def distinct_sorted(sorted_values: np.ndarray) -> np.ndarray:
    """Distinct values of an already sorted array (no re-sort)."""
    if sorted_values.shape[0] == 0:
        return sorted_values
    new = np.empty(sorted_values.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return sorted_values[new]


@dataclass(frozen=True)
class SortedTimes:
    """A sorted column of times with cumulative weights, answering counts at a grid.

    ``cumweight[k]`` is the total weight of the first ``k`` sorted values (None = unit weights,
    then the count is the position itself).
    """

    values: np.ndarray
    cumweight: np.ndarray | None = None

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> SortedTimes:
        if weights is None:
            return cls(np.sort(values))
        order = np.argsort(values, kind="stable")
        cw = np.zeros(values.shape[0] + 1, dtype=np.float64)
        np.cumsum(weights[order], out=cw[1:])
        return cls(values[order], cw)

    @property
    def total(self) -> float:
        return float(self.values.shape[0]) if self.cumweight is None else float(self.cumweight[-1])

    def _cum(self, pos: np.ndarray) -> np.ndarray:
        if self.cumweight is None:
            return pos.astype(np.float64)
        return self.cumweight[pos]

    def count_lt(self, grid: np.ndarray) -> np.ndarray:
        """Weight of values < each grid point."""
        return self._cum(np.searchsorted(self.values, grid, side="left"))

    def count_le(self, grid: np.ndarray) -> np.ndarray:
        """Weight of values <= each grid point."""
        return self._cum(np.searchsorted(self.values, grid, side="right"))

    def count_ge(self, grid: np.ndarray) -> np.ndarray:
        """Weight of values >= each grid point."""
        return self.total - self.count_lt(grid)

    def count_eq(self, grid: np.ndarray) -> np.ndarray:
        """Weight of values equal to each (sorted, distinct) grid point."""
        if self.values.shape[0] == 0:
            return np.zeros(grid.shape[0], dtype=np.float64)
        if grid.shape[0] * 8 < self.values.shape[0] or self.cumweight is not None:
            return self.count_le(grid) - self.count_lt(grid)
        # grid as large as the data: place each value on the grid and bincount
        k = np.searchsorted(grid, self.values, side="left")
        hit = k < grid.shape[0]
        hit[hit] = grid[k[hit]] == self.values[hit]
        return np.bincount(k[hit], minlength=grid.shape[0]).astype(np.float64)


@dataclass(frozen=True)
class RiskTable:
    """Counts at distinct times for one curve (weighted counts when weights are given)."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    n_enter: np.ndarray | None = None


def risk_table(
    time: np.ndarray,
    status: np.ndarray,
    *,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    grid: np.ndarray | None = None,
) -> RiskTable:
    """n at risk, events and censorings at each distinct time of one curve.

    Steps:
      1. sort the times (and the event times) once; the grid is every distinct time (R's
         ``survfit`` rows) unless given;
      2. ``n_event``/``n_censor`` = counts of event/censoring times equal to each grid time;
      3. ``n_risk(t)`` = #(time >= t) - #(entry >= t) (the second term only with delayed entry).
    ``time`` should already have been through :func:`apply_timefix`.
    """
    status = np.asarray(status, dtype=bool)
    w_all = weights
    w_ev = None if weights is None else weights[status]
    all_sorted = SortedTimes.of(time, w_all)
    ev_sorted = SortedTimes.of(time[status], w_ev)
    if grid is None:
        grid = distinct_sorted(all_sorted.values)
    n_at = all_sorted.count_eq(grid)
    n_event = ev_sorted.count_eq(grid)
    n_risk = all_sorted.count_ge(grid)
    n_enter = None
    if entry is not None:
        ent_sorted = SortedTimes.of(entry, weights)
        n_risk = n_risk - ent_sorted.count_ge(grid)
        n_enter = ent_sorted.count_eq(grid)
    return RiskTable(
        time=grid, n_risk=n_risk, n_event=n_event, n_censor=n_at - n_event, n_enter=n_enter
    )


@dataclass(frozen=True)
class GroupedRiskTable:
    """Counts per group (rows) on a common grid of times (columns)."""

    time: np.ndarray
    n_risk: np.ndarray  # (G, J)
    n_event: np.ndarray  # (G, J)


def grouped_risk_table(
    time: np.ndarray,
    status: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    event_times_only: bool = True,
) -> GroupedRiskTable:
    """Per-group n at risk and events on the pooled grid of distinct (event) times.

    The grid is the sorted distinct event times over all groups (``event_times_only``) or all
    distinct times. Each group's column is sorted once and counted with ``searchsorted``.
    """
    status = np.asarray(status, dtype=bool)
    ev_times = time[status]
    grid = distinct_sorted(np.sort(ev_times if event_times_only else time))
    n_risk = np.zeros((n_groups, grid.shape[0]))
    n_event = np.zeros((n_groups, grid.shape[0]))
    if n_groups == 1:
        rt = risk_table(time, status, entry=entry, weights=weights, grid=grid)
        n_risk[0], n_event[0] = rt.n_risk, rt.n_event
        return GroupedRiskTable(grid, n_risk, n_event)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    for g in range(n_groups):
        idx = order[bounds[g] : bounds[g + 1]]
        if idx.shape[0] == 0:
            continue
        rt = risk_table(
            time[idx],
            status[idx],
            entry=None if entry is None else entry[idx],
            weights=None if weights is None else weights[idx],
            grid=grid,
        )
        n_risk[g], n_event[g] = rt.n_risk, rt.n_event
    return GroupedRiskTable(grid, n_risk, n_event)
