"""Time-varying covariates: (tstart, tstop] rows from a baseline table and dated changes, as R's
``tmerge``.

``time_varying(base, changes, id=, time=, event=, change_time=, columns=)`` equals R's

    d <- tmerge(base, base, id = id, event = event(time, status))
    d <- tmerge(d, changes, id = id, col1 = tdc(change_time, col1), col2 = tdc(change_time, col2))

(behaviour as documented in R's ``?tmerge`` and the survival "timedep" vignette; checked against
R in ``tests/data/refs/timedep_build.json``):

1. Each subject of ``base`` (one row per id) is followed on (start, time] (start 0, or the
   ``entry`` column); its ``event`` value is carried by the interval that ends at ``time``, the
   other intervals get ``censored`` (0).
2. For each covariate of ``columns``, the dated values of ``changes`` are placed on the subject's
   follow-up: a change strictly inside (start, time) splits the interval there ("within"); one
   at the start ("leading") or before it ("early") sets the value from the start without a new
   split; one at the end ("trailing") or after it ("late") has no interval to act on and is
   ignored; rows whose id is not in ``base`` ("missing_id") and rows with a missing value
   ("missing_value": R's ``na.rm = TRUE``, the previous value carries forward) are ignored.
   Several changes of one subject at the same time: the last row wins (the others are counted
   as "tied", in addition to their place).
3. The splits of all columns are merged; on each interval (a, b] a covariate holds the value of
   the last change at or before a (carried forward), or ``initial[column]`` before the first
   change (R's ``tdcstart``, NA by default).
4. Output: one row per interval, subjects in ``base`` order and intervals in time order, with the
   base columns (except ``time`` and ``event``), ``tstart``/``tstop`` (names configurable), the
   per-interval ``event`` and the covariates. ``counts`` reports, per covariate, how many change
   rows fell in each category of step 2: nothing is left out silently.

Divergences from R: a covariate name that already exists in ``base`` is refused (R would
overwrite it); zero-length follow-up (time <= start) is an error naming the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.columns import frame_numbers
from npctrial.survival.memory_pages import without_huge_page_hint

__all__ = ["TimeVaryingData", "time_varying"]

CATEGORIES = ("within", "leading", "early", "trailing", "late", "tied", "missing_id", "missing_value")


@dataclass(frozen=True)
class TimeVaryingData(FrozenResult):
    """(tstart, tstop] rows and, per covariate, where its dated changes fell (``data``: a copy on
    each access)."""

    _data: pd.DataFrame
    id: str
    start: str
    stop: str
    event: str
    counts: Mapping[str, Mapping[str, int]]

    @property
    def data(self) -> pd.DataFrame:
        """The counting-process rows: feed ``cox_ph(data, stop, event, covariates, entry=start)``."""
        return self._data.copy()

    def to_frame(self) -> pd.DataFrame:
        return self._data.copy()

    def counts_frame(self) -> pd.DataFrame:
        """One row per covariate, one column per category of change row (R's ``tcount``)."""
        return pd.DataFrame({c: dict(v) for c, v in self.counts.items()}).T.reindex(columns=list(CATEGORIES))

    def summary(self) -> str:
        n_subjects = self._data[self.id].nunique()
        lines = [f"{len(self._data)} intervals for {n_subjects} subjects ({self.start}, {self.stop}]"]
        for col, c in self.counts.items():
            ignored = {k: c[k] for k in ("trailing", "late", "tied", "missing_id", "missing_value") if c[k]}
            used = c["within"] + c["leading"] + c["early"]
            text = ", ".join(f"{v} {k}" for k, v in ignored.items()) or "none"
            lines.append(f"  {col}: {used} change(s) used; not used: {text}")
        return "\n".join(lines)


def _base_intervals(base: pd.DataFrame, id: str, time: str, event: str, entry: str | None
                    ) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    for col in (id, event):
        if col not in base.columns:
            raise ValidationError(f"base: column {col!r} not found", field=col)
    ids = base[id]
    if ids.isna().any():
        raise ValidationError(f"base: id column {id!r} has missing values", field=id)
    dup = ids.duplicated()
    if dup.any():
        raise ValidationError(f"base must have one row per subject; id {ids[dup].iloc[0]} repeats "
                              f"(row {base.index[int(np.flatnonzero(dup.to_numpy())[0])]!r})", field=id)
    stop = frame_numbers(base, time, "base")
    start = np.zeros(len(base)) if entry is None else frame_numbers(base, entry, "base")
    bad = ~(start < stop)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"base: follow-up must end after it starts; row {base.index[i]!r} has "
                              f"({start[i]:g}, {stop[i]:g}]", field=time, row=i)
    if base[event].isna().any():
        i = int(np.flatnonzero(base[event].isna().to_numpy())[0])
        raise ValidationError(f"base: {event} is missing at row {base.index[i]!r}", field=event, row=i)
    return start, stop, ids


def _place_changes(changes: pd.DataFrame, column: str, id: str, change_time: str, pos: pd.Series,
                   start: np.ndarray, stop: np.ndarray) -> tuple[pd.DataFrame, dict[str, int]]:
    """The change rows of one covariate that act on the follow-up (subject position, time,
    value) and the count of every category (module docstring, step 2)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    known = changes[id].isin(pos.index).to_numpy()
    counts["missing_id"] = int((~known).sum())
    has_value = changes[column].notna().to_numpy()
    counts["missing_value"] = int((known & ~has_value).sum())
    rows = changes.loc[known & has_value]
    subj = pos.loc[rows[id]].to_numpy()
    t = frame_numbers(rows, change_time, "changes")
    a, b = start[subj], stop[subj]
    kind = np.select([t < a, t == a, t < b, t == b], ["early", "leading", "within", "trailing"], "late")
    for k in CATEGORIES[:5]:
        counts[k] = int((kind == k).sum())
    placed = pd.DataFrame({"subject": subj, "t": t, "time": np.maximum(t, a), "value": rows[column].to_numpy(),
                           "kind": kind})
    placed = placed[~np.isin(kind, ("trailing", "late"))].sort_values(["subject", "t"], kind="stable")
    counts["tied"] = int(placed.duplicated(["subject", "t"], keep="last").sum())
    # the last change at each time wins; early changes all sit at the start: the latest one wins
    return placed[~placed.duplicated(["subject", "time"], keep="last").to_numpy()], counts


def _intervals(start: np.ndarray, stop: np.ndarray, splits: list[pd.DataFrame]) -> pd.DataFrame:
    cuts = pd.concat([p.loc[p["kind"] == "within", ["subject", "time"]] for p in splits] or
                     [pd.DataFrame({"subject": [], "time": []})])
    cuts = cuts.drop_duplicates().sort_values(["subject", "time"])
    bounds = pd.concat([pd.DataFrame({"subject": np.arange(len(start)), "time": start}), cuts,
                        pd.DataFrame({"subject": np.arange(len(start)), "time": stop})])
    bounds = bounds.sort_values(["subject", "time"], kind="stable").drop_duplicates()
    subj = bounds["subject"].to_numpy(dtype=np.int64)
    times = bounds["time"].to_numpy(dtype=float)
    same = subj[1:] == subj[:-1]
    return pd.DataFrame({"subject": subj[:-1][same], "tstart": times[:-1][same], "tstop": times[1:][same]})


@without_huge_page_hint
def time_varying(
    base: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    id: str,
    time: str,
    event: str,
    change_time: str,
    columns: Sequence[str],
    entry: str | None = None,
    initial: Mapping[str, Any] | None = None,
    censored: Any = 0,
    start_name: str = "tstart",
    stop_name: str = "tstop",
) -> TimeVaryingData:
    """(tstart, tstop] rows with time-dependent covariates, as R's ``tmerge`` (module docstring).

    ``base``: one row per subject with ``id``, follow-up ``time`` (from 0, or from ``entry``),
    ``event`` and baseline covariates. ``changes``: rows of ``id``, ``change_time`` (same time
    scale) and the new values of ``columns``. ``initial`` gives each covariate's value before its
    first change (default missing, as R). Returns a :class:`TimeVaryingData`; use
    ``cox_ph(result.data, stop_name, event, covariates, entry=start_name)``.
    """
    for frame, what in ((base, "base"), (changes, "changes")):
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}", field=what)
    columns = [columns] if isinstance(columns, str) else list(columns)
    initial = dict(initial or {})
    for c in columns:
        if c not in changes.columns:
            raise ValidationError(f"changes: column {c!r} not found", field="columns")
        if c in base.columns or c in (start_name, stop_name):
            raise ValidationError(f"covariate {c!r} is already a column of base: rename one of them", field="columns")
    for c in initial:
        if c not in columns:
            raise ValidationError(f"initial value given for {c!r}, which is not in columns", field="initial")
    if id not in changes.columns:
        raise ValidationError(f"changes: column {id!r} not found", field=id)
    start, stop, ids = _base_intervals(base, id, time, event, entry)
    pos = pd.Series(np.arange(len(base)), index=pd.Index(ids.to_numpy()))
    placed, counts = {}, {}
    for c in columns:
        placed[c], counts[c] = _place_changes(changes, c, id, change_time, pos, start, stop)
    rows = _intervals(start, stop, list(placed.values()))
    out = base.drop(columns=[time, event] + ([entry] if entry else [])).iloc[rows["subject"]].reset_index(drop=True)
    out[start_name] = rows["tstart"].to_numpy()
    out[stop_name] = rows["tstop"].to_numpy()
    last = rows["tstop"].to_numpy() == stop[rows["subject"]]
    out[event] = np.where(last, base[event].to_numpy()[rows["subject"]], censored)
    for c in columns:
        out[c] = _carry_forward(rows, placed[c], initial.get(c))
    return TimeVaryingData(_data=out, id=id, start=start_name, stop=stop_name, event=event,
                           counts={c: dict(v) for c, v in counts.items()})


def _carry_forward(rows: pd.DataFrame, placed: pd.DataFrame, initial: Any) -> pd.Series:
    """The value in force on each interval: the last change at or before its start."""
    left = rows[["subject", "tstart"]].reset_index().sort_values("tstart", kind="stable")
    right = placed[["subject", "time", "value"]].sort_values("time", kind="stable")
    merged = pd.merge_asof(left, right, left_on="tstart", right_on="time", by="subject", direction="backward")
    values = merged.set_index("index")["value"].reindex(range(len(rows)))
    if initial is not None:
        values = values.where(values.notna(), initial)
    return values.reset_index(drop=True)
