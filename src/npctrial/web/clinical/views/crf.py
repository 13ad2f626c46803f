"""Entering and editing one CRF record: readable fields, the schedule event it is entered in,
values carried forward from screening (changing one needs a reason), open queries per field."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical import carry_forward, crf_forms, crfs, declared, schedule
from npctrial.web.clinical.views.common import posted_version, subject_for
from npctrial.web.core import form_access, permissions
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages import display


def _lesion_rows(formset: Any) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data.get("lesion_id")]


def _event_of(subject: Subject, requested: str, instance: Any) -> Any:
    """The schedule event a form is entered in (the record's own when editing); 404 for an unknown one."""
    wanted = instance.event if instance is not None else requested
    if not wanted:
        return None
    event = next((e for e in schedule.events_of(subject.protocol_version) if e.id == wanted), None)
    if event is None and instance is None:
        raise Http404("no such event")
    return event


def _initial(spec: Any, event: Any, carried: dict[str, carry_forward.Carried]) -> dict[str, Any]:
    """Prefill: the week of radiotherapy of a CCRT-week event, values carried from screening."""
    out: dict[str, Any] = {k: c.value for k, c in carried.items()}
    if event is not None and event.occurrence and event.anchor == "rt_start" and "week" in spec.fields:
        out["week"] = event.occurrence
    return out


def crf_form(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int | None = None) -> HttpResponse:
    """Create (record_pk None) or edit one CRF record; edits carry the version and a reason."""
    study, subject = subject_for(request, study_pk, pk, "view")
    if form not in crfs.CRFS:  # a form the subject's protocol declares (YAML forms:)
        from npctrial.web.clinical.views.declared import declared_entry

        declared_spec = declared.declared_spec(subject.protocol_version, form)
        if declared_spec is None:
            raise Http404("no such form")
        return declared_entry(request, study, subject, declared_spec, record_pk)
    spec = crfs.spec_of(form)
    permissions.require(request.user, study, "edit_crf", subject.site)
    form_access.require_form(request.user, study, form, "edit", subject.site)
    instance = None
    if record_pk is not None:
        instance = permissions.get_scoped_or_404(request.user, study, spec.model.objects.filter(subject=subject),
                                                 record_pk, site_field="subject__site")
    protocol = protocol_of(subject.protocol_version)
    carried = carry_forward.carried_values(subject, protocol) if form == "baseline" and instance is None else {}
    queries = crf_forms.field_queries(subject.queries.all(), crfs.query_record(form, instance.pk)) \
        if instance is not None else {}
    form_cls = crfs.form_class(form)
    lesion_initial = ([{k: getattr(x, k) for k in crfs.LESION_FIELDS} for x in instance.lesions.all()]
                      if instance is not None and form == "assessment" else None)
    conflict = None
    event = _event_of(subject, request.POST.get("event") or request.GET.get("event") or "", instance)
    if request.method == "POST":
        f = crf_forms.decorate(form_cls(request.POST, instance=None), protocol, carried, queries)
        lesion_set = crfs.LesionFormSet(request.POST, prefix="lesions") if form == "assessment" else None
        reason = request.POST.get("reason", "")
        if f.is_valid() and (lesion_set is None or lesion_set.is_valid()):
            values = {k: f.cleaned_data[k] for k in spec.fields if k in f.cleaned_data}
            try:
                if carried:
                    reason = carry_forward.creation_reason(subject, carried, values,
                                                           request.POST.get("carry_reason", ""))
                record, notes = crfs.save_crf(
                    form, subject, values, request.user, instance=instance,
                    expected_version=posted_version(request.POST.get("version")) if instance else None,
                    reason=reason, lesions=_lesion_rows(lesion_set) if lesion_set is not None else None,
                    event=(event.id if event is not None else None) if instance is None else None)
            except EditConflict as exc:
                conflict = exc
            except ValidationError as exc:
                f.add_error(exc.field if exc.field in f.fields else None, display.message_text(exc))
            else:
                for n in notes:
                    messages.warning(request, n)
                messages.success(request, _("%(form)s saved") % {"form": spec.label})
                if event is not None and record.event:  # entered from the event: back to it
                    return redirect("event-detail", study_pk=study.pk, pk=subject.pk, event=record.event)
                return redirect("casebook", study_pk=study.pk, pk=subject.pk)
    else:
        f = crf_forms.decorate(form_cls(instance=instance, initial=_initial(spec, event, carried)
                                        if instance is None else None), protocol, carried, queries)
        lesion_set = crfs.LesionFormSet(prefix="lesions", initial=lesion_initial) if form == "assessment" else None
    dose_rules = [display.protocol_text(t.wording) for t in protocol.dosing if t.wording] if form == "baseline" else []
    return render(request, "clinical/crf_form.html", {
        "study": study, "subject": subject, "spec": spec, "form": f, "lesion_set": lesion_set,
        "instance": instance, "conflict": conflict, "slug": form, "dose_rules": dose_rules, "event": event,
        "carried": carried, "carry_reason": request.POST.get("carry_reason", ""), "queries": queries})
