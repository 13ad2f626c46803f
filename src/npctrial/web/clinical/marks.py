"""Nothing-to-report and not-done marks on a form expected at an event (audited, with a reason).

A weekly adverse-event form with no adverse event, or a visit the patient missed, is complete
only when someone says so: the coordinator marks the form at that event with the reason. A form
that already has records at the event cannot be marked; a mark is removed with a reason.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from npctrial.domain.localised_text import localise
from npctrial.errors import ValidationError
from npctrial.web.clinical import schedule
from npctrial.web.clinical.casebook_state import load_state
from npctrial.web.clinical.grid import build_grid
from npctrial.web.clinical.locks import assert_editable
from npctrial.web.clinical.models import NothingToReport
from npctrial.web.core.models import Subject

KINDS = ("none", "not_done")


def add_mark(subject: Subject, event: str, form: str, kind: str, reason: str, user: Any) -> NothingToReport:
    assert_editable(subject)
    if kind not in KINDS:
        raise ValidationError(_("kind must be one of %(kinds)s, got %(kind)r") % {"kinds": ", ".join(KINDS), "kind": kind},
                              field="kind")
    if not (reason or "").strip():
        raise ValidationError(_("a reason is required (e.g. 'no adverse event this week')"), field="reason")
    version = subject.protocol_version
    g = build_grid(load_state(subject), schedule.events_of(version), schedule.log_forms_of_text(version.yaml_text),
                   timezone.localdate())
    row = next((r for r in g.rows if r.key == event), None)
    if row is None:
        raise ValidationError(_("event %(event)r is not an event of the schedule of %(subject)s")
                              % {"event": event, "subject": subject.subject_id}, field="event")
    cell = next((c for c in row.cells if c.form == form and c.expected), None)
    if cell is None:
        raise ValidationError(_("form %(form)r is not collected at %(event)s")
                              % {"form": form, "event": localise(row.label, get_language())}, field="form")
    if cell.records:
        raise ValidationError(_("%(event)s already has %(n)s record(s) of this form: void them first if they were "
                                "entered in error") % {"event": localise(row.label, get_language()), "n": len(cell.records)},
                              field="form")
    if cell.mark is not None:
        raise ValidationError(_("this form is already marked at this event"), field="form")
    actor = user if getattr(user, "is_authenticated", False) else None
    mark = NothingToReport(subject=subject, event=event, form=form, kind=kind, reason=reason.strip()[:300],
                           recorded_by=actor)
    if actor is not None:
        mark._history_user = actor  # type: ignore[attr-defined]
    mark.save()
    return mark


def remove_mark(mark: NothingToReport, user: Any, reason: str) -> None:
    assert_editable(mark.subject)
    if not (reason or "").strip():
        raise ValidationError(_("a reason is required to remove the mark"), field="reason")
    mark._history_user = user  # type: ignore[attr-defined]
    mark.delete(reason=reason.strip())
