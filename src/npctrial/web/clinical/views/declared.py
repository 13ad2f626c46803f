"""Pages of protocol-declared forms: a subject's records of one form, entering and editing one
(errors from the domain on the field they name), the live preview (hidden fields, calculated
values) the app's script asks for while the form is typed, and one record field by field."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.domain.declared_forms import preview_form
from npctrial.errors import FieldErrors, ValidationError
from npctrial.web.clinical import crf_forms, crfs, declared, locks, schedule, sdv
from npctrial.web.clinical.declared_entry import entry_fields, entry_form, submitted_values
from npctrial.web.clinical.views.common import posted_version, subject_for
from npctrial.web.core import form_access, permissions
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import Subject
from npctrial.web.core.queries import assignable_users
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages import display


def _spec_or_404(subject: Subject, form: str) -> declared.DeclaredSpec:
    spec = declared.declared_spec(subject.protocol_version, form)
    if spec is None:
        raise Http404("no such form")
    return spec


def _event(subject: Subject, requested: str, instance: Any) -> Any:
    wanted = instance.event if instance is not None else requested
    if not wanted:
        return None
    event = next((e for e in schedule.events_of(subject.protocol_version) if e.id == wanted), None)
    if event is None and instance is None:
        raise Http404("no such event")
    return event


def _save(request: HttpRequest, subject: Subject, spec: declared.DeclaredSpec, instance: Any, event: Any,
          page_form: Any) -> Any:
    """Save the POSTed values; the record, or None with the domain's error on its field."""
    values = submitted_values(spec.form if instance is None else _form_of(instance), request.POST)
    try:
        record, notes = declared.save_declared(
            spec.slug, subject, values, request.user, instance=instance,
            expected_version=posted_version(request.POST.get("version")) if instance is not None else None,
            reason=request.POST.get("reason", ""), event=event.id if event is not None and instance is None else None)
    except ValidationError as exc:
        _show_errors(page_form, spec, exc.problems if isinstance(exc, FieldErrors) else (exc,))
        return None
    for note in notes:
        messages.warning(request, note)
    messages.success(request, _("%(form)s saved") % {"form": spec.label})
    return record


def _show_errors(page_form: Any, spec: declared.DeclaredSpec, problems: tuple[ValidationError, ...]) -> None:
    """Each refusal on the field it names (a calculated one on its read-only row, others at the top)."""
    page_form.calculated_errors = {}
    for exc in problems:
        if exc.field in page_form.fields:
            page_form.add_error(exc.field, display.message_text(exc))
        elif exc.field in spec.form.field_names:
            page_form.calculated_errors[exc.field] = display.message_text(exc)
        else:
            page_form.add_error(None, display.message_text(exc))


def _form_of(record: Any) -> Any:
    """The declared form a stored record follows (its own protocol version's)."""
    return protocol_of(record.protocol_version).form(record.form)


def declared_entry(request: HttpRequest, study: Any, subject: Subject, spec: declared.DeclaredSpec,
                   record_pk: int | None) -> HttpResponse:
    """Create (record_pk None) or edit one declared record (``crf-new``/``crf-edit`` of a declared form)."""
    permissions.require(request.user, study, "edit_crf", subject.site)
    form_access.require_form(request.user, study, spec.slug, "edit", subject.site)
    instance = None
    if record_pk is not None:
        instance = permissions.get_scoped_or_404(request.user, study, spec.records(subject), record_pk,
                                                 site_field="subject__site")
    form = _form_of(instance) if instance is not None else spec.form
    event = _event(subject, request.POST.get("event") or request.GET.get("event") or "", instance)
    context = declared.form_context(subject)
    conflict = None
    if request.method == "POST":
        page_form = entry_form(form, data=request.POST)
        try:
            record = _save(request, subject, spec, instance, event, page_form)
        except EditConflict as exc:
            conflict, record = exc, None
        if record is not None:
            if event is not None and record.event:
                return redirect("event-detail", study_pk=study.pk, pk=subject.pk, event=record.event)
            return redirect("declared-list", study_pk=study.pk, pk=subject.pk, form=spec.slug)
        values = submitted_values(form, request.POST)
    else:
        values = declared.initial_values(instance) if instance is not None else {}
        page_form = entry_form(form, initial=values)
    queries = crf_forms.field_queries(subject.queries.all(), crfs.query_record(spec.slug, instance.pk)) \
        if instance is not None else {}
    return render(request, "clinical/declared_form.html", {
        "study": study, "subject": subject, "spec": spec, "form": page_form, "instance": instance, "event": event,
        "rows": entry_fields(form, page_form, values, context, queries), "conflict": conflict, "slug": spec.slug,
        "help": display.protocol_text(form.help) if form.help is not None else ""})


@require_POST
def declared_preview(request: HttpRequest, study_pk: int, pk: int, form: str) -> JsonResponse:
    """JSON for the page's script: the fields hidden now and the calculated values, for the values typed."""
    _, subject = subject_for(request, study_pk, pk, "view")
    spec = _spec_or_404(subject, form)
    preview = preview_form(spec.form, submitted_values(spec.form, request.POST), declared.form_context(subject))
    return JsonResponse({"hidden": list(preview.hidden),
                         "calculated": {name: declared.display_value(spec.form.field(name), value)
                                        for name, value in preview.calculated.items()}})


def declared_list(request: HttpRequest, study_pk: int, pk: int, form: str) -> HttpResponse:
    """The subject's records of one declared form (live ones; the voided ones listed apart)."""
    study, subject = subject_for(request, study_pk, pk, "view")
    spec = _spec_or_404(subject, form)
    form_access.require_form(request.user, study, form, "read", subject.site)
    columns, rows = declared.declared_table(spec, spec.records(subject).order_by("record_date", "pk"))
    voided = list(spec.records(subject, voided=True).filter(voided_at__isnull=False).order_by("pk"))
    level = form_access.form_level(request.user, study, form, subject.site)
    return render(request, "clinical/declared_list.html", {
        "study": study, "subject": subject, "spec": spec, "columns": columns, "rows": rows, "voided": voided,
        "slug": form, "locked": locks.is_locked(subject),
        "can_add": level == "edit" and permissions.can(request.user, study, "edit_crf", subject.site),
        "help": display.protocol_text(spec.form.help) if spec.form.help is not None else ""})


def casebook_sections(request: HttpRequest, study: Any, subject: Subject, open_queries: Any,
                      levels: dict[str, str], records: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The casebook's sections of the protocol-declared forms (same shape as the CRF sections);
    ``levels``: the user's level on every form (``views.grid.form_levels``); ``records``: the
    subject's live records by form (the casebook state's), shown by record date (undated last), then key."""
    out = []
    specs = declared.declared_specs(subject.protocol_version)
    for slug, spec in specs.items():
        level = levels[slug]
        if level == "none":
            continue
        by_date = sorted(records.get(slug, []), key=lambda r: (r.record_date is None, r.record_date or date.min, r.pk))
        columns, rows = declared.declared_table(spec, by_date)
        out.append({"slug": slug, "spec": spec, "columns": columns,
                    "query_fields": [(f.name, declared.field_label(f)) for f in spec.form.fields],
                    "rows": [(r, values, crfs.query_record(slug, r.pk), open_queries.get(crfs.query_record(slug, r.pk), 0))
                             for r, values in rows], "can_add": level == "edit", "editable": level == "edit"})
    return out


def declared_record_view(request: HttpRequest, study: Any, subject: Subject, spec: declared.DeclaredSpec,
                         record: Any) -> HttpResponse:
    """One declared record field by field, with its queries, critical fields and SDV (``crf-view``)."""
    form = _form_of(record)
    ref = crfs.query_record(spec.slug, record.pk)
    queries = list(subject.queries.filter(record=ref).select_related("raised_by").order_by("raised_at"))
    state = sdv.sdv_state(subject, spec.slug, record)
    rows = [{"name": f.name, "label": declared.field_label(f), "help": display.protocol_text(f.help) if f.help else "",
             "value": declared.display_value(f, declared.record_value(record, f.name)), "derived": f.calculated,
             "queries": [q for q in queries if q.field_name == f.name], "critical": f.name in state.critical,
             "sdv": state.fields.get(f.name)} for f in form.fields]
    event = next((e for e in schedule.events_of(subject.protocol_version) if e.id == record.event), None)
    live = record.voided_at is None
    return render(request, "clinical/record_view.html", {
        "study": study, "subject": subject, "spec": spec, "record": record, "rows": rows, "slug": spec.slug,
        "record_ref": ref, "event": event, "queries": queries, "locked": locks.is_locked(subject),
        "can_edit": permissions.can(request.user, study, "edit_crf", subject.site) and live
        and form_access.form_level(request.user, study, spec.slug, subject.site) == "edit",
        "can_void": permissions.can(request.user, study, "void_record", subject.site) and live,
        "can_raise": permissions.can(request.user, study, "raise_query", subject.site) and live,
        "can_answer": permissions.can(request.user, study, "answer_query", subject.site),
        "assignees": assignable_users(subject), "sdv": state,
        "can_verify": permissions.can(request.user, study, "verify_source", subject.site) and live,
        "next": request.path})
