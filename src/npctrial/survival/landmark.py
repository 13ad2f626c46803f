"""Landmark data sets: condition on being event-free and under observation at a time L.

A landmark analysis (Anderson, Cain & Gelber, J Clin Oncol 1983; van Houwelingen, Scand J Stat
2007) compares groups defined by what is known at a fixed time L (e.g. response to induction
chemotherapy by week 12) among the patients still event-free and followed at L, with time
counted from L. It removes the immortal-time bias of classifying patients by something that
happens during follow-up (Suissa, Am J Epidemiol 2008).

:func:`landmark` builds that data set from one row per subject, or from (entry, stop] rows with
``id`` (e.g. the output of :func:`~npctrial.survival.time_varying`):

1. A subject is in the landmark cohort when it is observed at L and has had no event by L:
   a row with entry <= L < stop (entry 0 when there is no ``entry``), and no event in a row
   ending at or before L. Follow-up ending exactly at L (event or censoring) is not "after L":
   the subject is excluded.
2. Rows ending at or before L are removed; the row holding L starts at L.
3. The origin moves to L: ``duration`` (and ``entry``) become time since L.
4. Covariates measured after L are not known at L. ``measured_at={"ebv": "ebv_day"}`` names the
   column holding when each value was measured (same time scale); values measured after L (or
   with no measurement time) are set to missing (``after="mask"``, the default) or the whole
   column is removed (``after="drop"``). Either way the result lists what was changed.
5. Nothing is left out silently: ``excluded`` counts the subjects removed, by reason, and
   ``masked`` the covariate values removed, by column.

R has no single function for this; it equals ``subset(data, time > L)`` with ``time - L`` for
one-row data (R's survSplit then subset for (start, stop] rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.columns import frame_numbers
from npctrial.survival.cox.design_matrix import event_indicator
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.validation import check_choice, check_positive

__all__ = ["LandmarkData", "landmark"]

REASONS = ("event at or before the landmark", "follow-up ended at or before the landmark",
           "not under observation at the landmark (entered later, or a gap)")


@dataclass(frozen=True)
class LandmarkData(FrozenResult):
    """The landmark data set and what was removed to build it (``data``: a copy on each access;
    ``excluded``/``masked``: read-only mappings)."""

    _data: pd.DataFrame
    at: float
    duration: str
    event: str
    n_subjects_before: int
    n_subjects: int
    excluded: Mapping[str, int]
    masked: Mapping[str, int]
    dropped_columns: tuple[str, ...]

    @property
    def data(self) -> pd.DataFrame:
        """The landmark data set (time since the landmark in ``duration``), a copy."""
        return self._data.copy()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the landmark data (time since the landmark in ``duration``)."""
        return self._data.copy()

    def summary(self) -> str:
        """What the landmark kept and removed, one line each."""
        lines = [f"Landmark at {self.at:g}: {self.n_subjects} of {self.n_subjects_before} subjects "
                 f"event-free and under observation; time is counted from the landmark."]
        lines += [f"  excluded, {reason}: {n}" for reason, n in self.excluded.items() if n]
        lines += [f"  {col}: {n} value(s) measured after the landmark set to missing"
                  for col, n in self.masked.items() if n]
        if self.dropped_columns:
            lines.append(f"  covariates measured after the landmark removed: {', '.join(self.dropped_columns)}")
        return "\n".join(lines)


def _subjects(frame: pd.DataFrame, id: str | None) -> np.ndarray:
    if id is None:
        return np.arange(len(frame))
    if id not in frame.columns:
        raise ValidationError(f"column {id!r} not found in data", field="id")
    if frame[id].isna().any():
        raise ValidationError(f"id column {id!r} has missing values", field="id")
    return pd.factorize(frame[id])[0]


def _mask_after(frame: pd.DataFrame, at: float, measured_at: Mapping[str, str], after: str
                ) -> tuple[pd.DataFrame, dict[str, int], tuple[str, ...]]:
    masked: dict[str, int] = {}
    dropped: list[str] = []
    for col, when_col in measured_at.items():
        if col not in frame.columns:
            raise ValidationError(f"measured_at: covariate column {col!r} not found in data", field="measured_at")
        if when_col not in frame.columns:
            raise ValidationError(f"measured_at: time column {when_col!r} not found in data", field="measured_at")
        try:
            when = frame[when_col].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"measured_at: {when_col!r} must be numeric times", field=when_col) from exc
        late = ~(when <= at) & frame[col].notna().to_numpy()  # NaN measurement time: not known at L
        masked[col] = int(late.sum())
        if after == "drop" and late.any():
            dropped.append(col)
        elif late.any():
            frame[col] = frame[col].where(~late)
    if dropped:
        frame = frame.drop(columns=dropped)
    return frame, masked, tuple(dropped)


@without_huge_page_hint
def landmark(
    data: pd.DataFrame,
    duration: str,
    event: str,
    at: float,
    *,
    entry: str | None = None,
    id: str | None = None,
    measured_at: Mapping[str, str] | None = None,
    after: Literal["mask", "drop"] = "mask",
    event_codes: tuple[Any, Any] | None = None,
) -> LandmarkData:
    """The landmark data set at time ``at`` (steps in the module docstring).

    ``data`` holds one row per subject (``duration``, ``event``: 0/1, or 1/2 as R's Surv, or
    ``event_codes=(censored, event)``), or several (``entry``, ``duration``] rows per subject
    identified by ``id``. Returns a :class:`LandmarkData`: ``data`` with time since the landmark,
    ``excluded`` (subjects removed, by reason), ``masked``/``dropped_columns`` (covariates measured
    after the landmark). Feed ``result.data`` to :func:`kaplan_meier`, :func:`logrank_test` or
    :func:`cox_ph` (with ``entry=`` when the rows are (entry, stop] intervals).
    """
    if not isinstance(data, pd.DataFrame):
        raise ValidationError(f"data must be a pandas DataFrame, got {type(data).__name__}", field="data")
    at = check_positive(at, "at", allow_zero=True)
    check_choice(after, ("mask", "drop"), "after")
    stop = frame_numbers(data, duration)
    start = np.zeros(len(data)) if entry is None else frame_numbers(data, entry)
    status = event_indicator(data[event], event, event_codes) if event in data.columns else None
    if status is None:
        raise ValidationError(f"column {event!r} not found in data", field=event)
    subject = _subjects(data, id)
    n_before = int(subject.max()) + 1 if len(subject) else 0
    covers = (start <= at) & (at < stop)
    early_event = np.bincount(subject, weights=(status == 1) & (stop <= at), minlength=n_before) > 0
    observed = np.bincount(subject, weights=covers, minlength=n_before) > 0
    last_stop = np.full(n_before, -np.inf)
    np.maximum.at(last_stop, subject, stop)
    ended = ~observed & ~early_event & (last_stop <= at)
    keep_subject = observed & ~early_event
    counts = (early_event.sum(), ended.sum(), (~observed & ~early_event & ~ended).sum())
    excluded = dict(zip(REASONS, (int(c) for c in counts), strict=True))
    rows = keep_subject[subject] & (stop > at)
    frame = data.loc[rows].copy()
    frame[duration] = stop[rows] - at
    if entry is not None:
        frame[entry] = np.maximum(start[rows], at) - at
    frame, masked, dropped = _mask_after(frame, at, dict(measured_at or {}), after)
    return LandmarkData(
        _data=frame, at=at, duration=duration, event=event, n_subjects_before=n_before,
        n_subjects=int(keep_subject.sum()), excluded=MappingProxyType(excluded),
        masked=MappingProxyType(masked), dropped_columns=dropped,
    )
