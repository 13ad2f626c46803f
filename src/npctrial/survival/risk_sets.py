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

from npctrial.survival.dense_rank import integer_offsets, ranks_of_offsets
from npctrial.survival.sorted_runs import (
    TimefixMap,
    counts_before,
    cumulate,
    find_runs,
    sort_payload,
    sort_with_payload,
    timefix_keep,
)

__all__ = [
    "GroupedRiskTable",
    "fix_times",
    "group_masks",
    "split_by_code",
    "take_rows",
    "timefix_cuts",
    "RiskTable",
    "SortedTimes",
    "apply_timefix",
    "distinct_sorted",
    "events_on_grid",
    "grouped_risk_table",
    "integer_time_table",
    "risk_table",
]

TIMEFIX_TOLERANCE = float(np.sqrt(np.finfo(float).eps))
# 1 + 2 (G - 1) packed sorts beat per-group sorts plus grid searches up to a few groups
PACKED_SORT_MAX_GROUPS = 4


def timefix_cuts(distinct: np.ndarray, *, tolerance: float = TIMEFIX_TOLERANCE) -> np.ndarray | None:
    """Steps 2-3 of :func:`apply_timefix` on sorted distinct times: the representative value of
    each run of tied times, or None when nothing is tied (the usual case)."""
    y = distinct[np.isfinite(distinct)]
    keep = timefix_keep(y, tolerance=tolerance)
    return None if keep is None else y[keep]


def fix_times(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Replace each time by the representative of its tied run (monotone: keeps sorted order)."""
    return cuts[np.searchsorted(cuts, x, side="right") - 1]


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
    cuts = timefix_cuts(np.unique(allt), tolerance=tolerance)
    if cuts is None:
        return time, entry
    return fix_times(time, cuts), None if entry is None else fix_times(entry, cuts)


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
    def of(
        cls,
        values: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        presorted: bool = False,
        cuts: np.ndarray | None = None,
    ) -> SortedTimes:
        """Sort ``values`` (carrying ``weights``); ``cuts`` (from :func:`timefix_cuts`) are
        applied after sorting: the timefix map is monotone, and placing sorted values on the
        cuts is much faster than placing unsorted ones."""
        if weights is None:
            v = values if presorted else np.sort(values)
            return cls(v if cuts is None else fix_times(v, cuts))
        order = np.argsort(values, kind="stable")
        cw = np.zeros(values.shape[0] + 1, dtype=np.float64)
        np.cumsum(weights[order], out=cw[1:])
        v = values[order]
        return cls(v if cuts is None else fix_times(v, cuts), cw)

    @property
    def total(self) -> float:
        return float(self.values.shape[0]) if self.cumweight is None else float(self.cumweight[-1])

    def _cum(self, pos: np.ndarray) -> np.ndarray:
        if self.cumweight is None:
            return pos.astype(np.float64)
        return self.cumweight[pos]

    def distinct_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(distinct values, weight equal to each, weight >= each) in one linear pass."""
        v = self.values
        if v.shape[0] == 0:
            empty = np.zeros(0)
            return v, empty, empty
        new = np.empty(v.shape[0], dtype=bool)
        new[0] = True
        np.not_equal(v[1:], v[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        cum = self._cum(np.append(starts, v.shape[0]))
        return v[starts], np.diff(cum), self.total - cum[:-1]

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


def events_on_grid(
    grid: np.ndarray,
    time: np.ndarray,
    status: np.ndarray,
    n_at: np.ndarray | None = None,
    cuts: np.ndarray | None = None,
) -> np.ndarray:
    """Unweighted event counts at each (sorted, distinct) grid time.

    The smaller of the event and censoring subsets is extracted with ``np.compress`` (several
    times faster than boolean indexing), sorted (timefix ``cuts`` applied after sorting) and
    counted with :meth:`SortedTimes.count_eq`; when it is the censoring subset, events =
    ``n_at`` (all rows at the grid time) - censored.
    """
    n_events = int(np.count_nonzero(status))
    if n_at is not None and 2 * n_events > status.shape[0]:
        censored = SortedTimes.of(np.compress(~status, time), cuts=cuts).count_eq(grid)
        return n_at - censored
    return SortedTimes.of(np.compress(status, time), cuts=cuts).count_eq(grid)


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
    sorted_time: np.ndarray | None = None,
    cuts: np.ndarray | None = None,
) -> RiskTable:
    """n at risk, events and censorings at each distinct time of one curve.

    Steps:
      1. sort the times (and the event or censoring times) once, merging R ``timefix`` ties
         given by ``cuts`` after sorting; the grid is every distinct time (R's ``survfit`` rows)
         unless given;
      2. ``n_event``/``n_censor`` = counts of event/censoring times equal to each grid time;
      3. ``n_risk(t)`` = #(time >= t) - #(entry >= t) (the second term only with delayed entry).
    ``sorted_time`` (unweighted data only) is ``np.sort(time)`` (before timefix) when the caller
    already has it.
    """
    status = np.asarray(status, dtype=bool)
    if sorted_time is not None and weights is None:
        all_sorted = SortedTimes.of(sorted_time, presorted=True, cuts=cuts)
    else:
        all_sorted = SortedTimes.of(time, weights, cuts=cuts)
    if grid is None:
        grid, n_at, n_ge = all_sorted.distinct_counts()
    else:
        n_at, n_ge = all_sorted.count_eq(grid), all_sorted.count_ge(grid)
    if weights is None:
        n_event = events_on_grid(grid, time, status, n_at, cuts)
    else:
        n_event = SortedTimes.of(time[status], weights[status], cuts=cuts).count_eq(grid)
    n_risk = n_ge
    n_enter = None
    if entry is not None:
        ent_sorted = SortedTimes.of(entry, weights, cuts=cuts)
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


def split_by_code(codes: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Row indices of each code 0..n_groups-1 (one pass per group: cheap for few groups)."""
    if n_groups == 1:
        return [np.arange(codes.shape[0])]
    if n_groups <= 32:
        return [np.flatnonzero(codes == k) for k in range(n_groups)]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(n_groups)]


def group_masks(codes: np.ndarray, n_groups: int) -> list[np.ndarray | None]:
    """Boolean row mask per code (None = every row) for use with :func:`take_rows`."""
    if n_groups == 1:
        return [None]
    return [codes == k for k in range(n_groups)]


def take_rows(values: np.ndarray | None, mask: np.ndarray | None) -> np.ndarray | None:
    """``values[mask]`` via ``np.compress`` (much faster than boolean indexing); None passes."""
    if values is None or mask is None:
        return values
    return np.compress(mask, values)


def grouped_risk_table(
    time: np.ndarray,
    status: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    timefix: bool = False,
    fix: TimefixMap | None = None,
    event_times_only: bool = True,
) -> GroupedRiskTable:
    """Per-group n at risk and events on the pooled grid of distinct (event) times.

    ``timefix`` merges R ``aeqSurv`` ties among these times; ``fix`` applies a merge computed
    on pooled data these times are part of (e.g. all strata). Up to
    ``PACKED_SORT_MAX_GROUPS`` groups (or with ``fix``), the counts come from
    :func:`_grouped_by_packed_sorts`; otherwise:

    Steps: 1. sort all times once, and the times of groups 0..G-2 (the last group's counts are
    the totals minus the others: exact for counts, and one subset fewer to extract and sort);
    2. with ``timefix``, check the distinct times for R ``aeqSurv`` ties and merge them (a
    monotone map, so sorted arrays stay sorted); 3. events per group on the grid of all distinct
    times, restricted to times with an event (or kept whole); 4. at-risk counts by
    ``searchsorted`` on the grid.
    """
    status = np.asarray(status, dtype=bool)
    if fix is None:
        table = _grouped_by_integer_times(time, status, codes, n_groups, timefix=timefix,
                                          event_times_only=event_times_only)
        if table is not None:
            return table
    if n_groups <= PACKED_SORT_MAX_GROUPS or fix is not None:
        return _grouped_by_packed_sorts(
            time, status, codes, n_groups, timefix=timefix, fix=fix, event_times_only=event_times_only
        )
    masks = group_masks(codes, n_groups)[: n_groups - 1] if n_groups > 1 else []
    t_g: list[np.ndarray] = [time] + [take_rows(time, m) for m in masks]  # type: ignore[misc]
    s_g: list[np.ndarray] = [status] + [take_rows(status, m) for m in masks]  # type: ignore[misc]
    sorted_g = [np.sort(t) for t in t_g]  # [all rows, group 0, ..., group G-2]
    full = distinct_sorted(sorted_g[0])
    cuts = timefix_cuts(full) if timefix else None
    if cuts is not None:
        sorted_g = [fix_times(x, cuts) for x in sorted_g]  # sorted stays sorted
        full = distinct_sorted(sorted_g[0])
    ev = np.zeros((len(t_g), full.shape[0]))
    for g in range(len(t_g)):
        if t_g[g].shape[0]:
            n_at = (
                SortedTimes(sorted_g[0]).distinct_counts()[1]
                if g == 0
                else SortedTimes(sorted_g[g]).count_eq(full)
            )
            ev[g] = events_on_grid(full, t_g[g], s_g[g], n_at, cuts)
    if event_times_only:
        keep = ev[0] > 0
        grid, ev = full[keep], ev[:, keep]
    else:
        grid = full
    risk = np.zeros((len(t_g), grid.shape[0]))
    for g in range(len(t_g)):
        if sorted_g[g].shape[0]:
            risk[g] = SortedTimes(sorted_g[g]).count_ge(grid)
    n_event = np.empty((n_groups, grid.shape[0]))
    n_risk = np.empty((n_groups, grid.shape[0]))
    n_event[: n_groups - 1], n_risk[: n_groups - 1] = ev[1:], risk[1:]
    n_event[n_groups - 1] = ev[0] - ev[1:].sum(axis=0)
    n_risk[n_groups - 1] = risk[0] - risk[1:].sum(axis=0)
    return GroupedRiskTable(grid, n_risk, n_event)


def integer_time_table(time: np.ndarray, status: np.ndarray, codes: np.ndarray | None, n_groups: int,
                       *, timefix: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(distinct times, rows per (group, time), events per (group, time)) with no sort, when the
    times are whole numbers over a range of at most ~4 n (days, months: the usual case).

    Steps: 1. the times as integer offsets from a base
    (:func:`~npctrial.survival.dense_rank.integer_offsets`); 2. count rows and events per
    (group, offset) with ``np.bincount`` over the whole range when groups x range is at most
    4 n + 1024 bins, else per (group, rank) after ranking the times by one lookup in a presence
    table (:func:`~npctrial.survival.dense_rank.ranks_of_offsets`); 3. keep the offsets that occur.
    None when the times do not qualify, or when R's ``timefix`` would merge two of the distinct
    times (whole numbers are never that close below ~6.7e7); the callers then sort."""
    found = integer_offsets(time)
    if found is None:
        return None
    ix, base = found
    groups = 1 if codes is None or n_groups == 1 else n_groups
    span = int(ix.max()) + 1
    if groups * span > 4 * len(ix) + 1024:
        return _ranked_time_table(ix, base, status, codes, n_groups, timefix=timefix)
    key = ix if codes is None or groups == 1 else codes * span + ix
    rows = np.bincount(key, minlength=groups * span).reshape(groups, span)
    present = np.flatnonzero(rows[0] if groups == 1 else rows.sum(axis=0))
    distinct = present.astype(np.float64) + base
    if timefix and timefix_keep(distinct) is not None:
        return None
    events = np.bincount(key, weights=status, minlength=groups * span).reshape(groups, span)
    if len(present) < span:
        rows, events = rows[:, present], events[:, present]
    return distinct, rows, events


def _ranked_time_table(ix: np.ndarray, base: float, status: np.ndarray, codes: np.ndarray | None, n_groups: int,
                       *, timefix: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`integer_time_table` counted per (group, rank of the time offsets ``ix``): many
    groups, wide range."""
    rank, distinct = ranks_of_offsets(ix, base)
    if timefix and timefix_keep(distinct) is not None:
        return None
    m = distinct.shape[0]
    key = rank if codes is None or n_groups == 1 else codes * m + rank
    rows = np.bincount(key, minlength=n_groups * m).reshape(n_groups, m)
    events = np.bincount(key, weights=status, minlength=n_groups * m).reshape(n_groups, m)
    return distinct, rows, events


def _grouped_by_integer_times(time: np.ndarray, status: np.ndarray, codes: np.ndarray, n_groups: int,
                              *, timefix: bool, event_times_only: bool) -> GroupedRiskTable | None:
    """:func:`grouped_risk_table` from :func:`integer_time_table` (at risk: reverse cumulative
    sums of the rows per time), or None when that does not apply."""
    table = integer_time_table(time, status, codes, n_groups, timefix=timefix)
    if table is None:
        return None
    grid, rows, events = table
    n_risk = np.cumsum(rows[:, ::-1], axis=1)[:, ::-1].astype(np.float64)
    n_event = events.astype(np.float64)
    if event_times_only:
        keep = n_event.sum(axis=0) > 0
        grid, n_risk, n_event = grid[keep], n_risk[:, keep], n_event[:, keep]
    return GroupedRiskTable(grid, np.ascontiguousarray(n_risk), np.ascontiguousarray(n_event))


def _grouped_by_packed_sorts(
    time: np.ndarray,
    status: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    timefix: bool,
    fix: TimefixMap | None,
    event_times_only: bool,
) -> GroupedRiskTable:
    """:func:`grouped_risk_table` from packed sorts (:mod:`~npctrial.survival.sorted_runs`).

    Steps: 1. sort (time, event) keys once: the runs of equal (timefix-merged) times and the
    pooled events per run; keep the runs with an event (or all); 2. for groups 0..G-2 sort
    (time, in group) and (time, event in group) keys: the same multiset of times, so the same
    run boundaries give each group's at-risk and event counts as differences of in-place
    cumulative sums, with no search; 3. the last group is the total minus the others (exact
    for counts).
    """
    v, ev = sort_with_payload(time, status)
    runs = find_runs(v, timefix=timefix and fix is None, fix=fix)
    assert ev is not None
    del v
    bounds = np.append(runs.starts, runs.n)
    d = np.diff(counts_before(cumulate(ev), bounds))
    buf = ev  # reused for every further sort
    if event_times_only:
        keep = np.flatnonzero(d > 0)
        lo, hi, grid, d = runs.starts[keep], bounds[keep + 1], runs.time[keep], d[keep]
    else:
        lo, hi, grid = runs.starts, bounds[1:], runs.time
    del bounds, runs
    n_event = np.empty((n_groups, grid.shape[0]))
    n_risk = np.empty_like(n_event)
    for k in range(n_groups - 1):
        in_k = codes == k
        n_risk[k] = np.count_nonzero(in_k) - counts_before(cumulate(sort_payload(time, in_k, buf)), lo)
        in_k &= status
        ek = cumulate(sort_payload(time, in_k, buf))
        n_event[k] = counts_before(ek, hi) - counts_before(ek, lo)
    n_risk[n_groups - 1] = (time.shape[0] - lo) - n_risk[: n_groups - 1].sum(axis=0)
    n_event[n_groups - 1] = d - n_event[: n_groups - 1].sum(axis=0)
    return GroupedRiskTable(grid, n_risk, n_event)
