"""Follow-up calendar per subject and the overdue list per site (npctrial.domain.followup)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from npctrial.domain import follow_up_schedule, overdue_visits
from npctrial.domain.followup import FollowUpSchedule, Visit, assign_visits
from npctrial.web.clinical.models import FollowUpVisit, RadiotherapyCourse
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of


@dataclass(frozen=True)
class CalendarRow:
    visit: Visit
    done_on: date | None
    status: str  # done | overdue | due | planned


@dataclass(frozen=True)
class OverdueRow:
    subject: Subject
    visit: Visit
    days_overdue: int


def schedule_for(subject: Subject, horizon_months: float = 60) -> FollowUpSchedule | None:
    """Planned visits from the end of radiotherapy (None until RT end is recorded)."""
    rt = RadiotherapyCourse.objects.filter(subject=subject).first()
    protocol = protocol_of(subject.protocol_version)
    if rt is None or rt.end_date is None or protocol.follow_up is None:
        return None
    return follow_up_schedule(rt.end_date, protocol, horizon_months=horizon_months)


def calendar_for(subject: Subject, today: date) -> list[CalendarRow]:
    schedule = schedule_for(subject)
    if schedule is None:
        return []
    done = [v.visit_date for v in FollowUpVisit.objects.filter(subject=subject)]
    assigned = {v.number: d for d, v in assign_visits(schedule, done).items() if v is not None}
    overdue = {v.number for v in overdue_visits(schedule, done, today)}
    rows = []
    for v in schedule.visits:
        if v.number in assigned:
            status = "done"
        elif v.number in overdue:
            status = "overdue"
        elif v.window_start <= today <= v.window_end:
            status = "due"
        else:
            status = "planned"
        rows.append(CalendarRow(v, assigned.get(v.number), status))
    return rows


def overdue_list(subjects: Any, today: date) -> list[OverdueRow]:
    """Overdue visits of the given subjects (already scoped to the user's sites), oldest first."""
    out: list[OverdueRow] = []
    for subject in subjects:
        schedule = schedule_for(subject)
        if schedule is None:
            continue
        done = [v.visit_date for v in FollowUpVisit.objects.filter(subject=subject)]
        for v in overdue_visits(schedule, done, today):
            out.append(OverdueRow(subject, v, (today - v.window_end).days))
    return sorted(out, key=lambda r: (r.subject.site.code, -r.days_overdue))
