"""Screening pages: log, new screening with live eligibility (htmx), detail, edit, consent + enrol."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from npctrial.errors import ValidationError
from npctrial.web.core import permissions, protocols
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.forms import IDENTITY_FIELDS, ConsentForm, screening_form_class
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import ScreeningRecord, Site, Study
from npctrial.web.core.screening import create_screening, protocol_of, update_screening
from npctrial.web.core.screening_log import log_entries, log_records
from npctrial.web.core.views.screening_log import chosen_site
from npctrial.web.languages import display


def _screening_sites(request: HttpRequest, study: Study) -> list[Site]:
    return [
        s for s in permissions.visible_sites(request.user, study).order_by("code")
        if permissions.can(request.user, study, "screen", s)
    ]


def _raw(request: HttpRequest, protocol: Any) -> dict[str, Any]:
    names = protocols.screening_field_names(protocol)
    return {k: v for k, v in request.POST.items() if k in names and v != ""}


def _kept_values(record: ScreeningRecord, protocol: Any) -> dict[str, Any]:
    """Stored values of fields the screening form does not show (e.g. sent through the API): kept on edit."""
    shown = protocols.screening_field_names(protocol)
    return {k: v for k, v in record.values.items() if k not in shown}


def screening_log(request: HttpRequest, study_pk: int) -> HttpResponse:
    """Every screening in date order (site roles: their sites; ``?site=``, ``?outcome=`` filters)."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    site = chosen_site(request, study)
    records = log_records(request.user, study, site)
    outcome = request.GET.get("outcome")
    if outcome in {"eligible", "ineligible", "incomplete"}:
        records = records.filter(outcome=outcome)
    sites = list(permissions.visible_sites(request.user, study).order_by("code"))
    return render(
        request, "core/screening_log.html",
        {"study": study, "entries": log_entries(records), "sites": sites,
         "can_screen": bool(_screening_sites(request, study)), "outcome": outcome, "site": site,
         "can_export": permissions.can(request.user, study, "export")},
    )


def _verdict_context(protocol: Any, raw: dict[str, Any]) -> dict[str, Any]:
    errors = protocols.field_errors(protocol, raw, display.message_text)
    good = {k: v for k, v in raw.items() if k not in errors}
    evaluation = protocols.evaluate(protocol, protocols.coerce_values(protocol, good))
    return {"evaluation": evaluation, "field_errors": errors}


@require_http_methods(["GET", "POST"])
def screening_new(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_or_404(request.user, study_pk)
    sites = _screening_sites(request, study)
    if not sites:
        permissions.require(request.user, study, "screen")
    version = study.current_protocol
    if version is None:
        raise Http404("no protocol")
    protocol = protocol_of(version)
    fields = protocols.screening_fields(protocol)
    form_cls = screening_form_class(fields, with_date=True)
    form = form_cls(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        site_code = request.POST.get("site", "")
        site = next((s for s in sites if s.code == site_code), None)
        valid = form.is_valid()  # every field's error is shown, with or without a site
        if site is None:
            form.add_error(None, _("site: choose one of your sites (%(sites)s)") % {"sites": ", ".join(s.code for s in sites)})
        elif valid:
            try:
                record = create_screening(study, site, _raw(request, protocol), request.user,
                                          screening_date=form.cleaned_data.get("screening_date"),
                                          identity={k: form.cleaned_data.get(k) for k in IDENTITY_FIELDS})
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, display.message_text(exc))
            else:
                messages.success(request, _("Screening %(record)s saved: %(outcome)s") % {"record": record, "outcome": _(record.outcome)})
                return redirect("screening-detail", study_pk=study.pk, pk=record.pk)
        status = 400
    ctx = {"study": study, "form": form, "sites": sites, "version": version,
           "action": "new", **_verdict_context(protocol, _raw(request, protocol) if request.method == "POST" else {})}
    return render(request, "core/screening_form.html", ctx, status=status)


@require_POST
def screening_evaluate(request: HttpRequest, study_pk: int) -> HttpResponse:
    """htmx partial: per-criterion verdicts for the values typed so far (nothing is saved)."""
    study = permissions.get_study_or_404(request.user, study_pk)
    if not _screening_sites(request, study):
        permissions.require(request.user, study, "screen")
    record_pk = request.POST.get("record")
    if record_pk:
        record = permissions.get_scoped_or_404(request.user, study, ScreeningRecord.objects.all(), record_pk)
        version = record.protocol_version
    else:
        version = study.current_protocol
    protocol = protocol_of(version)
    return render(request, "core/_verdicts.html", _verdict_context(protocol, _raw(request, protocol)))


def _shown(value: Any) -> Any:
    """A stored screening value as read: Yes/No for booleans (never True/False), coded choices by
    name, numbers without a spurious ``.0``."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return display.format_number(value)
    return display.choice_label(value)


def screening_detail(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, record = permissions.get_object_for(request.user, study_pk, ScreeningRecord.objects.select_related("site", "protocol_version"), pk, "view")
    protocol = protocol_of(record.protocol_version)
    labels = {f.name: f for f in protocols.field_catalogue(protocol)}
    values = [(labels[k], _shown(v)) for k, v in record.values.items() if k in labels]
    return render(
        request, "core/screening_detail.html",
        {"study": study, "record": record, "values": values,
         "verdicts": protocols.with_protocol_wording(protocol, record.verdicts),
         "subject": getattr(record, "subject", None),
         "consent_form": ConsentForm(initial={"consent_version": record.protocol_version.label}),
         "can_enrol": permissions.can(request.user, study, "enrol", record.site),
         "can_edit": permissions.can(request.user, study, "screen", record.site)},
    )


@require_http_methods(["GET", "POST"])
def screening_edit(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Edit with optimistic locking: a stale version gets a conflict page, nothing is overwritten."""
    study, record = permissions.get_object_for(request.user, study_pk, ScreeningRecord.objects.all(), pk, "screen")
    protocol = protocol_of(record.protocol_version)
    fields = protocols.screening_fields(protocol)
    form_cls = screening_form_class(fields, with_reason=True)
    conflict = None
    conflict_rows: list[tuple[str, Any, Any]] = []
    status = 200
    if request.method == "POST":
        form = form_cls(request.POST)
        if form.is_valid():
            try:
                record = update_screening(
                    record, {**_kept_values(record, protocol), **_raw(request, protocol)}, expected_version=form.cleaned_data["version"],
                    reason=form.cleaned_data["reason"], user=request.user,
                )
            except EditConflict as exc:
                conflict = exc
                conflict_rows = _conflict_rows(exc)
                status = 409
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, display.message_text(exc))
                status = 400
            else:
                messages.success(request, _("Screening %(record)s updated (version %(version)s)") % {"record": record, "version": record.version})
                return redirect("screening-detail", study_pk=study.pk, pk=record.pk)
        else:
            status = 400
    else:
        form = form_cls(initial={**record.values, "version": record.version})
        for spec in fields:
            if spec.type == "bool" and spec.name in record.values:
                form.initial[spec.name] = "true" if record.values[spec.name] else "false"
    ctx = {"study": study, "form": form, "record": record, "version": record.protocol_version,
           "action": "edit", "conflict": conflict, "conflict_rows": conflict_rows,
           **_verdict_context(protocol, record.values if request.method == "GET" else _raw(request, protocol))}
    return render(request, "core/screening_form.html", ctx, status=status)


def _conflict_rows(conflict: EditConflict) -> list[tuple[str, Any, Any]]:
    """Per screening field: (field, your value, current value) where the two versions differ."""
    row = next((r for r in conflict.rows if r.field == "values"), None)
    if row is None:
        return []
    mine, theirs = row.submitted or {}, row.current or {}
    names = sorted(set(mine) | set(theirs))
    return [(n, mine.get(n), theirs.get(n)) for n in names if mine.get(n) != theirs.get(n)]


@require_POST
def screening_enrol(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, record = permissions.get_object_for(request.user, study_pk, ScreeningRecord.objects.all(), pk, "enrol")
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            subject = enrol(record, consent_date=form.cleaned_data["consent_date"],
                            consent_version=form.cleaned_data["consent_version"], user=request.user,
                            enrolment_date=form.cleaned_data["enrolment_date"])
        except ValidationError as exc:
            messages.error(request, display.message_text(exc))
        else:
            messages.success(request, _("Enrolled as %(subject)s") % {"subject": subject.subject_id})
            return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)
    else:
        for name, errs in form.errors.items():
            messages.error(request, _("%(field)s: %(errors)s") % {"field": name, "errors": " ".join(errs)})
    return redirect("screening-detail", study_pk=study.pk, pk=record.pk)
