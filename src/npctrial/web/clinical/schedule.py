"""A subject's schedule of assessments: the protocol's events dated from the subject's CRFs.

The events and their rules come from :mod:`npctrial.domain.schedule_plan` (the web layer only
supplies the anchor dates): enrolment (the date the subject was enrolled), start and end of
radiotherapy (the radiotherapy course form). A record belongs to the event it was entered in
(``event``, checked here against the schedule) or, when none is given, to the event whose window
holds its date (:func:`npctrial.domain.assign_event`); otherwise it is unscheduled.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from npctrial.domain import EventDefinition, PlannedEvent, assign_event, expand_events, plan_events
from npctrial.domain.localised_text import localise
from npctrial.errors import ValidationError
from npctrial.web.core import protocols

#: Follow-up events shown in the grid and the dashboard (months after the follow-up anchor).
HORIZON_MONTHS = 60


@lru_cache(maxsize=32)
def events_of_text(yaml_text: str) -> tuple[EventDefinition, ...]:
    """Every event of the protocol (follow-up visits up to :data:`HORIZON_MONTHS`)."""
    return expand_events(protocols.parse_protocol(yaml_text), HORIZON_MONTHS)


@lru_cache(maxsize=32)
def log_forms_of_text(yaml_text: str) -> tuple[str, ...]:
    schedule = protocols.parse_protocol(yaml_text).schedule
    return schedule.log_forms if schedule is not None else ()


def events_of(version: Any) -> tuple[EventDefinition, ...]:
    return events_of_text(version.yaml_text)


def enrolment_date(subject: Any) -> date:
    return subject.enrolment_date


def anchors(subject: Any, rt: Any) -> dict[str, date | None]:
    """Anchor dates of the subject's events (None while unknown)."""
    return {"enrolment": enrolment_date(subject), "rt_start": rt.start_date if rt is not None else None,
            "rt_end": rt.end_date if rt is not None else None}


def planned_for(subject: Any, rt: Any, events: tuple[EventDefinition, ...] | None = None) -> tuple[PlannedEvent, ...]:
    return plan_events(events if events is not None else events_of(subject.protocol_version), anchors(subject, rt))


def event_for(subject: Any, slug: str, day: date | None, requested: str | None, rt: Any = None) -> str:
    """The event id a record of form ``slug`` dated ``day`` is stored under ("" = unscheduled).

    A requested event must be an event of the subject's schedule that collects the form; without
    one the event is assigned by date (nearest target among the windows holding ``day``).
    """
    from npctrial.web.clinical.models import RadiotherapyCourse

    if rt is None:
        rt = RadiotherapyCourse.objects.filter(subject=subject).first()
    planned = planned_for(subject, rt)
    if requested:
        match = next((p for p in planned if p.id == requested), None)
        if match is None:
            raise ValidationError(_("event %(event)r is not an event of the schedule of %(subject)s")
                                  % {"event": requested, "subject": subject.subject_id}, field="event")
        if not match.event.expects(slug):
            raise ValidationError(_("form %(form)r is not collected at %(event)s")
                                  % {"form": slug, "event": localise(match.event.label, get_language())}, field="event")
        return requested
    if day is None:
        return ""
    return assign_event(planned, slug, day) or ""


def event_of_record(record: Any, slug: str, date_field: str, planned: tuple[PlannedEvent, ...],
                    ids: frozenset[str] | None = None) -> str:
    """The event a stored record belongs to: its own (if still in the schedule), else by its date
    (``ids``: the ids of ``planned``, when the caller places many records)."""
    ids = ids if ids is not None else frozenset(p.id for p in planned)
    if record.event and record.event in ids:
        return str(record.event)
    day = getattr(record, date_field, None) if date_field else None
    if record.event or day is None:
        return ""  # an event no longer in the schedule (amendment), or no date: unscheduled
    return assign_event(planned, slug, day) or ""
