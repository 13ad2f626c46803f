"""Planning one subject's events from the protocol's schedule of assessments.

Algorithms
1. :func:`expand_events`: the declared events in order, repeats expanded, then the follow-up
   visits of the protocol's ``follow_up`` plan up to ``horizon_months`` (offsets in days from
   the follow-up anchor, windows as :func:`npctrial.domain.followup.follow_up_schedule` cuts them).
2. :func:`plan_events`: from the anchor dates known for a subject, each event's target and
   window dates (None while its anchor date is unknown, e.g. before radiotherapy starts).
3. :func:`assign_event`: the event a dated record of ``form`` belongs to: among the events
   that expect the form and whose window holds the date, the one with the nearest target
   (the earlier on a tie); None (unscheduled) when no window holds it
   (shared/domain/risk-and-followup.md §2: "assigned to the target whose window contains it,
   nearest target if two qualify"). A form only one event collects (baseline, the radiotherapy
   course) belongs to that event whatever its date: the date is then out of window.
4. :func:`classify_timing`: done / overdue (window closed, nothing recorded) / due (today in
   the window) / upcoming (window opens within ``upcoming_days``) / planned / unscheduled
   (anchor date unknown).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from npctrial.domain.followup import follow_up_schedule
from npctrial.domain.localised_text import map_versions
from npctrial.domain.protocol import Protocol
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["EventDefinition", "PlannedEvent", "Timing", "assign_event", "classify_timing",
           "expand_events", "plan_events"]

Timing = Literal["done", "overdue", "due", "upcoming", "planned", "unscheduled", "stopped"]


@dataclass(frozen=True)
class EventDefinition:
    """One event of the expanded schedule (no dates): offsets in days from its anchor."""

    id: str
    label: str
    short: str
    anchor: str
    day: int
    window_before: int
    window_after: int
    forms: tuple[str, ...]
    follow_up: bool = False
    occurrence: int = 0  # k of a repeated event (CCRT week k), 0 for a single event

    def expects(self, form: str) -> bool:
        return form in self.forms


@dataclass(frozen=True)
class PlannedEvent:
    """An event of one subject: target and window dates (None while the anchor is unknown)."""

    event: EventDefinition
    target: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None

    @property
    def id(self) -> str:
        return self.event.id

    def contains(self, day: dt.date) -> bool:
        return (self.window_start is not None and self.window_end is not None
                and self.window_start <= day <= self.window_end)


def _follow_up_id(month: float) -> str:
    return "fu_m" + f"{month:g}".replace(".", "_")


def expand_events(protocol: Protocol, horizon_months: float | None = None) -> tuple[EventDefinition, ...]:
    """Step 1: every event of the protocol's schedule, follow-up visits included."""
    schedule = protocol.schedule
    if schedule is None:
        return ()
    out: list[EventDefinition] = []
    for ev in schedule.events:
        for k in range(1, ev.repeat + 1):
            step = (k - 1) * (ev.every_days or 0)
            out.append(EventDefinition(
                id=f"{ev.id}{k}" if ev.repeat > 1 else ev.id,
                label=_filled(ev.label, "{n}", str(k)),
                short=_filled(ev.short or ev.label, "{n}", str(k)),
                anchor=ev.anchor, day=ev.day + step,
                window_before=ev.window_before, window_after=ev.window_after, forms=ev.forms,
                occurrence=k if ev.repeat > 1 else 0))
    plan = protocol.follow_up
    if schedule.follow_up_forms and plan is not None:
        origin = dt.date(2000, 1, 1)  # offsets only: any anchor date gives the same days
        visits = follow_up_schedule(origin, plan, horizon_months=horizon_months).visits
        anchor = "rt_end" if plan.anchor in ("rt_end", "ccrt_end") else "enrolment"
        for v in visits:
            day = (v.target - origin).days
            out.append(EventDefinition(
                id=_follow_up_id(v.month),
                label=_filled(schedule.follow_up_label, "{label}", v.label),
                short=v.label, anchor=anchor, day=day, window_before=(v.target - v.window_start).days,
                window_after=(v.window_end - v.target).days, forms=schedule.follow_up_forms,
                follow_up=True))
    return tuple(out)


def _filled(text: str, placeholder: str, value: str) -> str:
    """``text`` with ``placeholder`` replaced by ``value`` in every language version."""
    return map_versions(text, lambda t: t.replace(placeholder, value))


def plan_events(
    events: tuple[EventDefinition, ...], anchors: Mapping[str, dt.date | None]
) -> tuple[PlannedEvent, ...]:
    """Step 2: target and window dates of each event from the subject's anchor dates."""
    out = []
    for ev in events:
        base = anchors.get(ev.anchor)
        if base is None:
            out.append(PlannedEvent(ev, None, None, None))
            continue
        target = base + dt.timedelta(days=ev.day)
        out.append(PlannedEvent(ev, target, target - dt.timedelta(days=ev.window_before),
                                target + dt.timedelta(days=ev.window_after)))
    return tuple(out)


def assign_event(planned: tuple[PlannedEvent, ...], form: str, day: dt.date) -> str | None:
    """Step 3: the id of the event a record of ``form`` dated ``day`` belongs to (None = unscheduled)."""
    if not isinstance(day, dt.date):
        raise ValidationError(message("schedule.record_date_not_date", "the record date must be a date, got %(value)s",
                                      value=repr(day)), field="date")
    best: tuple[int, int, str] | None = None
    expecting = [p for p in planned if p.event.expects(form)]
    for order, p in enumerate(expecting):
        if p.contains(day) and p.target is not None:
            key = (abs((day - p.target).days), order, p.id)
            if best is None or key < best:
                best = key
    if best is None and len(expecting) == 1:
        return expecting[0].id  # the one event collecting the form (its date is out of window)
    return None if best is None else best[2]


def classify_timing(
    event: PlannedEvent, done: bool, today: dt.date, *, upcoming_days: int = 14,
    stopped_on: dt.date | None = None,
) -> Timing:
    """Step 4: where the event stands on ``today``; ``stopped`` when follow-up ended (death,
    withdrawal: :func:`npctrial.domain.followup.follow_up_stop`) before its window closed."""
    if done:
        return "done"
    if event.window_start is None or event.window_end is None:
        return "unscheduled"
    if stopped_on is not None and event.window_end >= stopped_on:
        return "stopped"
    if event.window_end < today:
        return "overdue"
    if event.window_start <= today:
        return "due"
    if (event.window_start - today).days <= upcoming_days:
        return "upcoming"
    return "planned"


