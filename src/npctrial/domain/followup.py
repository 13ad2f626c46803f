"""Follow-up visit schedules from protocol data, and overdue visits.

Conventions (shared/domain/risk-and-followup.md §2; configurable per protocol):
target date = anchor date + ``round(month * month_days)`` days (month_days = 30.4375 by
default); each visit has a window [target - before, target + after]; windows never overlap.

Algorithm (:func:`follow_up_schedule`)
1. For each period of the plan, planned months are ``from_month + k * interval_months``
   (k = 1, 2, ...) up to ``to_month`` inclusive, or up to the horizon for an open-ended period.
2. Target dates in days from the anchor; windows from the period's before/after days.
3. Where two neighbouring windows would overlap or touch, both are cut at the midpoint between
   the targets (the earlier window ends the day before the midpoint, the later one starts on it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from npctrial.domain._inputs import check_date
from npctrial.domain.protocol import FollowUpPlan, Protocol
from npctrial.errors import ProtocolError, ValidationError
from npctrial.messages import message

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FOLLOW_UP_STOPS", "FollowUpSchedule", "Visit", "assign_visits", "follow_up_schedule", "follow_up_stop",
           "overdue_visits", "visit_statuses"]

#: Events after which no follow-up visit is expected (death; withdrawal of consent to follow-up).
FOLLOW_UP_STOPS = ("death", "withdrawal")


@dataclass(frozen=True)
class Visit:
    """A planned follow-up visit."""

    number: int
    month: float
    target: dt.date
    window_start: dt.date
    window_end: dt.date

    @property
    def label(self) -> str:
        return f"M{self.month:g}"

    def contains(self, day: dt.date) -> bool:
        return self.window_start <= day <= self.window_end


@dataclass(frozen=True)
class FollowUpSchedule:
    """Planned visits from an anchor date."""

    anchor: str
    anchor_date: dt.date
    visits: tuple[Visit, ...]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # imported when used: the CLI and the EDC start without pandas

        return pd.DataFrame(
            {
                "visit": [v.number for v in self.visits],
                "label": [v.label for v in self.visits],
                "month": [v.month for v in self.visits],
                "target": [v.target for v in self.visits],
                "window_start": [v.window_start for v in self.visits],
                "window_end": [v.window_end for v in self.visits],
            }
        )

    def summary(self) -> str:
        lines = [
            f"Follow-up from {self.anchor} {self.anchor_date.isoformat()}: {len(self.visits)} visits"
        ]
        for v in self.visits:
            lines.append(
                f"  {v.number:>3} {v.label:<5} {v.target.isoformat()}  "
                f"[{v.window_start.isoformat()} .. {v.window_end.isoformat()}]"
            )
        return "\n".join(lines)


def follow_up_schedule(
    rt_end: dt.date | str, protocol: Protocol | FollowUpPlan, *, horizon_months: float | None = None
) -> FollowUpSchedule:
    """Visits after ``rt_end`` (the anchor date) per the protocol's follow-up plan (steps 1-3)."""
    anchor_date = check_date(rt_end, "rt_end")
    plan = protocol.follow_up if isinstance(protocol, Protocol) else protocol
    if not isinstance(plan, FollowUpPlan):
        pid = protocol.id if isinstance(protocol, Protocol) else "?"
        raise ProtocolError(message("protocol.no_follow_up", "protocol %(protocol)s defines no follow-up plan",
                                    protocol=repr(pid)), field="follow_up")
    horizon = plan.horizon_months if horizon_months is None else float(horizon_months)
    if horizon <= 0:
        raise ValidationError(message("number.not_positive", "%(field)s must be > 0, got %(value)s",
                                      field="horizon_months", value=repr(horizon_months)), field="horizon_months")

    planned: list[tuple[float, int, int]] = []
    for period in plan.periods:
        end = horizon if period.to_month is None else min(period.to_month, horizon)
        k = 1
        while (month := period.from_month + k * period.interval_months) <= end + 1e-9:
            planned.append((month, period.window_before_days, period.window_after_days))
            k += 1

    starts: list[dt.date] = []
    ends: list[dt.date] = []
    targets: list[dt.date] = []
    for month, before, after in planned:
        target = anchor_date + dt.timedelta(days=round(month * plan.month_days))
        targets.append(target)
        starts.append(target - dt.timedelta(days=before))
        ends.append(target + dt.timedelta(days=after))
    for i in range(1, len(targets)):
        if ends[i - 1] >= starts[i]:
            mid = targets[i - 1] + dt.timedelta(days=(targets[i] - targets[i - 1]).days // 2)
            ends[i - 1] = min(ends[i - 1], mid - dt.timedelta(days=1))
            starts[i] = max(starts[i], mid)
    visits = tuple(
        Visit(i + 1, month, targets[i], starts[i], ends[i])
        for i, (month, _, _) in enumerate(planned)
    )
    return FollowUpSchedule(plan.anchor, anchor_date, visits)


def assign_visits(
    schedule: FollowUpSchedule, done: Iterable[dt.date | str]
) -> dict[dt.date, Visit | None]:
    """Map each actual visit date to the planned visit whose window holds it (None = unscheduled)."""
    out: dict[dt.date, Visit | None] = {}
    for raw in done:
        day = check_date(raw, "done")
        out[day] = next((v for v in schedule.visits if v.contains(day)), None)
    return out


def follow_up_stop(events: Iterable[tuple[str, dt.date | str]]) -> dt.date | None:
    """The date follow-up ends: the first death or withdrawal among ``(kind, date)`` events, else None."""
    dates = [check_date(day, "event date") for kind, day in events if kind in FOLLOW_UP_STOPS]
    return min(dates) if dates else None


def _expected(visit: Visit, stopped_on: dt.date | None) -> bool:
    """A visit is expected unless follow-up stopped before its window closed (death, withdrawal)."""
    return stopped_on is None or visit.window_end < stopped_on


def overdue_visits(
    schedule: FollowUpSchedule, done: Iterable[dt.date | str], today: dt.date | str,
    *, stopped_on: dt.date | str | None = None,
) -> tuple[Visit, ...]:
    """Expected visits whose window closed before ``today`` with no actual visit inside it.

    ``stopped_on`` (death or withdrawal) ends the expected visits: one whose window had not
    closed by then is not overdue, it is no longer expected.
    """
    today_d = check_date(today, "today")
    stop = None if stopped_on is None else check_date(stopped_on, "stopped_on")
    covered = {v.number for v in assign_visits(schedule, done).values() if v is not None}
    return tuple(v for v in schedule.visits
                 if v.window_end < today_d and v.number not in covered and _expected(v, stop))


def visit_statuses(
    schedule: FollowUpSchedule, done: Iterable[dt.date | str], today: dt.date | str,
    *, stopped_on: dt.date | str | None = None,
) -> tuple[tuple[Visit, str, dt.date | None], ...]:
    """Each planned visit with its status and the date it was done.

    Status: ``done`` (an actual visit in its window), ``stopped`` (follow-up ended by death or
    withdrawal before the window closed), ``overdue`` (window closed, no visit), ``due``
    (today in the window) or ``planned``.
    """
    today_d = check_date(today, "today")
    stop = None if stopped_on is None else check_date(stopped_on, "stopped_on")
    assigned = {v.number: day for day, v in assign_visits(schedule, done).items() if v is not None}
    out = []
    for v in schedule.visits:
        if v.number in assigned:
            status = "done"
        elif not _expected(v, stop):
            status = "stopped"
        elif v.window_end < today_d:
            status = "overdue"
        elif v.window_start <= today_d:
            status = "due"
        else:
            status = "planned"
        out.append((v, status, assigned.get(v.number)))
    return tuple(out)
