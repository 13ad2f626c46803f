"""Study pages: list, create from protocol YAML, dashboard, concealed allocation list, export."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from npctrial.errors import ProtocolError, ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.allocation import verify_sequence
from npctrial.web.core.dashboard import compute_dashboard, enrolment_svg
from npctrial.web.core.deidentify import export_deidentifier
from npctrial.web.core.events import record_event
from npctrial.web.core.forms import ReasonForm, StudyForm
from npctrial.web.core.models import ScreeningRecord, UnblindingEvent
from npctrial.web.core.screening import protocol_of
from npctrial.web.core.spreadsheet import safe_rows
from npctrial.web.core.studies import create_study
from npctrial.web.languages import display
from npctrial.web.languages.display import message_text, problem_texts


def study_title(study: Any) -> str:
    """A study's title in the reader's language: the protocol's translation while the study keeps
    the title of its protocol (studies are created with it), else the title as the study has it."""
    version = study.current_protocol
    if version is None:
        return str(study.title)
    title = protocol_of(version).title
    return display.protocol_text(title) if title == study.title else str(study.title)


def home(request: HttpRequest) -> HttpResponse:
    studies = permissions.studies_for(request.user)
    rows = [
        {"study": s, "title": study_title(s), "roles": sorted(permissions.roles_for(request.user, s))}
        for s in studies
    ]
    return render(request, "core/home.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def study_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied(_("only administrators create studies"))
    form = StudyForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            study = create_study(
                code=form.cleaned_data["code"],
                yaml_text=form.cleaned_data["protocol_yaml"],
                target_enrolment=form.cleaned_data["target_enrolment"],
                user=request.user, request=request,
            )
        except ProtocolError as exc:
            problems = problem_texts(exc)
        except ValidationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, message_text(exc))
        else:
            messages.success(request, _("Study %(code)s created: add its sites and members") % {"code": study.code})
            return redirect("study-admin", study_pk=study.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "core/study_form.html", {"form": form, "problems": problems}, status=status)


def study_dashboard(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    dash = compute_dashboard(request.user, study)
    return render(
        request,
        "core/dashboard.html",
        {
            "study": study,
            "title": study_title(study),
            "dash": dash,
            "svg": mark_safe(enrolment_svg(dash)),  # generated from numbers only
            "protocol": study.current_protocol,
            "can_manage": permissions.can(request.user, study, "manage"),
            "can_unblind": permissions.can(request.user, study, "unblind"),
            "can_export": permissions.can(request.user, study, "export"),
            "can_audit_log": permissions.can(request.user, study, "view_audit_log"),
            "randomised": hasattr(study, "allocation_sequence"),
        },
    )


@require_http_methods(["GET", "POST"])
def allocation_list(request: HttpRequest, study_pk: int) -> HttpResponse:
    """The concealed list: study admins only, and only after recording a reason."""
    study = permissions.get_study_for(request.user, study_pk, "unblind")
    sequence = getattr(study, "allocation_sequence", None)
    if sequence is None:
        return render(request, "core/message.html", {"study": study, "message": _("This study is not randomised.")})
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            unblinding = UnblindingEvent(sequence=sequence, user=request.user, reason=form.cleaned_data["reason"])
            unblinding._history_user = request.user  # type: ignore[attr-defined]
            unblinding.save()
            record_event("unblinding", request=request, study=study, record=f"allocation list of {study.code}",
                         form="allocation", reason=unblinding.reason,
                         details={"allocations": sequence.count, "unblinding": unblinding.pk})
        allocations = sequence.allocations.select_related("subject", "subject__site", "allocated_by")
        return render(
            request, "core/allocation_list.html",
            {"study": study, "sequence": sequence, "allocations": allocations, "check": verify_sequence(sequence),
             "lost": sequence.lost_allocations.all(),
             "unblindings": sequence.unblindings.select_related("user").order_by("-at")},
        )
    return render(request, "core/unblind_form.html", {"study": study, "form": form},
                  status=400 if request.method == "POST" else 200)


def screening_export(request: HttpRequest, study_pk: int) -> HttpResponse:
    """CSV of the screening log (sites in scope only); no patient identifiers are collected."""
    study = permissions.get_study_for(request.user, study_pk, "export")
    deid = export_deidentifier(request.user, study, request.GET.get("level"))
    rows = permissions.scope(request.user, study, ScreeningRecord.objects.select_related("site", "protocol_version"))
    columns = ["screening", "site", "protocol_version", "screening_date", "screened_at", "outcome",
               "failed_criteria", "subject_id"]
    out = [_screening_row(r) for r in rows.order_by("site__code", "number")]
    if deid is not None:  # each screening shifted by its subject's days (its own label before enrolment)
        dated = ["screening_date", "screened_at"]
        out = [deid.row(row, row["subject_id"] or row["screening"], dated, ()) for row in out]
        columns = deid.columns(columns, dated, ())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(safe_rows(out))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv")
    uat = "-uat" if study.in_development else ""
    filename = f"{study.code}{uat}-screening{'-deid' if deid else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    record_event("export", request=request, study=study, record=filename, form="screening",
                 summary=f"screening log downloaded ({len(out)} screenings)",
                 details={"format": "csv", "screenings": len(out), "deidentified": deid is not None})
    return response


def _screening_row(r: ScreeningRecord) -> dict[str, str]:
    subject = getattr(r, "subject", None)
    return {"screening": str(r), "site": r.site.code, "protocol_version": r.protocol_version.label,
            "screening_date": r.screening_date.isoformat(), "screened_at": r.screened_at.isoformat(),
            "outcome": r.outcome,
            "failed_criteria": ";".join(r.failed_criteria), "subject_id": subject.subject_id if subject else ""}
