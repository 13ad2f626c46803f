"""Follow-up calendar per subject and the overdue list per site (npctrial.domain.followup)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from npctrial.domain import (
    FOLLOW_UP_STOPS,
    follow_up_schedule,
    follow_up_stop,
    overdue_visits,
    visit_statuses,
)
from npctrial.domain.followup import FollowUpSchedule, Visit
from npctrial.web.clinical.models import ClinicalEvent, FollowUpVisit, RadiotherapyCourse
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of


@dataclass(frozen=True)
class CalendarRow:
    visit: Visit
    done_on: date | None
    status: str  # done | stopped (after death or withdrawal) | overdue | due | planned


@dataclass(frozen=True)
class OverdueRow:
    subject: Subject
    visit: Visit
    days_overdue: int


def schedule_for(subject: Subject, horizon_months: float | None = None, *,
                 records: Mapping[str, list[Any]] | None = None) -> FollowUpSchedule | None:
    """Planned visits from the end of radiotherapy over the protocol's horizon (None until RT end is recorded).

    The protocol's periods apply throughout: seed 000's "annually thereafter" continues the
    visits yearly after month 60 up to the plan's ``horizon_months``. ``records``: the subject's
    live records by form, in key order (a casebook state's), instead of reading them again.
    """
    if records is None:
        rt = RadiotherapyCourse.objects.filter(subject=subject).first()
    else:
        rt = next(iter(records.get("radiotherapy", [])), None)
    protocol = protocol_of(subject.protocol_version)
    if rt is None or rt.end_date is None or protocol.follow_up is None:
        return None
    return follow_up_schedule(rt.end_date, protocol, horizon_months=horizon_months)


def stopped_on(subject: Subject, records: Mapping[str, list[Any]] | None = None) -> date | None:
    """The date follow-up ended (death or withdrawal), if it did (``records``: as for ``schedule_for``)."""
    if records is None:
        events = ClinicalEvent.objects.filter(subject=subject, kind__in=FOLLOW_UP_STOPS).values_list("kind", "event_date")
        return follow_up_stop(events)
    return follow_up_stop((e.kind, e.event_date) for e in records.get("event", []))


def calendar_for(subject: Subject, today: date, records: Mapping[str, list[Any]] | None = None) -> list[CalendarRow]:
    """The follow-up calendar: every planned visit with its status (``records``: as for ``schedule_for``)."""
    schedule = schedule_for(subject, records=records)
    if schedule is None:
        return []
    visits = FollowUpVisit.objects.filter(subject=subject) if records is None else records.get("followup", [])
    done = [v.visit_date for v in visits]
    return [CalendarRow(v, on, status)
            for v, status, on in visit_statuses(schedule, done, today, stopped_on=stopped_on(subject, records))]


def overdue_list(subjects: Any, today: date) -> list[OverdueRow]:
    """Overdue visits of the given subjects (already scoped to the user's sites), oldest first.

    Visits after a death or a withdrawal are not expected, hence never overdue.
    """
    out: list[OverdueRow] = []
    for subject in subjects:
        schedule = schedule_for(subject)
        if schedule is None:
            continue
        done = [v.visit_date for v in FollowUpVisit.objects.filter(subject=subject)]
        for v in overdue_visits(schedule, done, today, stopped_on=stopped_on(subject)):
            out.append(OverdueRow(subject, v, (today - v.window_end).days))
    return sorted(out, key=lambda r: (r.subject.site.code, -r.days_overdue))
