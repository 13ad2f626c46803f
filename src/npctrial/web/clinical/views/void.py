"""Voiding a record entered in error (confirmed, with a reason) and the voided-records listing."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs, labels, locks, voiding
from npctrial.web.clinical.declared import any_spec
from npctrial.web.clinical.views.common import record_for
from npctrial.web.core import permissions
from npctrial.web.core.confirm import Confirmation, ConfirmInput, confirmed, render_confirmation
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import Subject
from npctrial.web.languages import display


def _void_confirmation(request: HttpRequest, study: Any, subject: Subject, slug: str, record: Any) -> Confirmation:
    spec = any_spec(record.protocol_version, slug)
    day = labels.display(spec.model, spec.date_field, getattr(record, spec.date_field, None)) if spec.date_field else ""
    n_open = subject.queries.filter(record=crfs.query_record(slug, record.pk)).exclude(status="closed").count()
    consequences = [
        _("%(form)s #%(pk)s of %(subject)s%(day)s is marked as entered in error.") % {
            "form": spec.label, "pk": record.pk, "subject": subject.subject_id, "day": f" ({day})" if day else ""},
        _("It stays in the database and its audit trail, but leaves the casebook grid, the study report, the "
          "analysis datasets and the form exports; the voided-records listing shows it with your reason."),
        _("It cannot be edited or restored afterwards: enter a corrected record if the data exist."),
    ]
    if n_open:
        consequences.append(_("Its %(n)s open data queries are closed (\"record voided\").") % {"n": n_open})
    if slug == "assessment":
        consequences.append(_("The RECIST 1.1 responses of the other assessments are recomputed without it."))
    problems = []
    if record.voided_at is not None:
        problems.append(_("this record is already voided"))
    if locks.is_locked(subject):
        problems.append(_("the subject or the study is locked: nothing can be voided"))
    back = reverse("crf-view", kwargs={"study_pk": study.pk, "pk": subject.pk, "form": slug, "record_pk": record.pk})
    return Confirmation(title=_("Void this %(form)s record?") % {"form": spec.label}, consequences=consequences,
                        action=request.path, button=_("Void the record"), cancel_url=back,
                        hidden={"version": record.version},
                        inputs=(ConfirmInput("reason", _("Reason (e.g. entered for the wrong patient)")),),
                        problems=problems)


@require_http_methods(["GET", "POST"])
def void_record(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int) -> HttpResponse:
    study, subject, spec, record = record_for(request, study_pk, pk, form, record_pk, "void_record", "edit")
    if not confirmed(request):
        return render_confirmation(request, study, _void_confirmation(request, study, subject, form, record))
    try:
        voiding.void_record(form, record, request.user, request.POST.get("reason", ""),
                            expected_version=int(request.POST.get("version", "0") or 0))
    except EditConflict:
        messages.error(request, _("the record changed since you opened it: check it and void it again"))
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
        return render_confirmation(request, study, _void_confirmation(request, study, subject, form, record))
    else:
        messages.success(request, _("%(form)s #%(pk)s voided") % {"form": spec.label, "pk": record.pk})
        if record.event:
            return redirect("event-detail", study_pk=study.pk, pk=subject.pk, event=record.event)
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


VOIDED_COLUMNS = ["subject_id", "site", "form", "record_id", "event", "record_date", "voided_at", "voided_by",
                  "reason"]


def _rows(subjects: Any) -> list[dict[str, Any]]:
    out = []
    for v in voiding.voided_records(subjects):
        spec = any_spec(v.record.protocol_version, v.slug)
        out.append({"row": v, "subject_id": v.subject.subject_id, "site": v.subject.site.code, "form": v.slug,
                    "form_label": spec.label, "record_id": v.record.pk, "event": v.record.event,
                    "record_date": labels.display(spec.model, spec.date_field, getattr(v.record, spec.date_field)),
                    "voided_at": labels.display(spec.model, "voided_at", v.voided_at),
                    "voided_by": v.voided_by.get_username() if v.voided_by else "", "reason": v.reason})
    return sorted(out, key=lambda r: r["voided_at"], reverse=True)


def voided_listing(request: HttpRequest, study_pk: int) -> HttpResponse:
    """Every voided record of the user's sites; ``?format=csv`` downloads it."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    subjects = permissions.scope(request.user, study, Subject.objects.all())
    rows = _rows(subjects)
    if request.GET.get("format") == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=VOIDED_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        response = HttpResponse(buf.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{study.code}-voided-records.csv"'
        return response
    return render(request, "clinical/voided_listing.html", {"study": study, "rows": rows})
