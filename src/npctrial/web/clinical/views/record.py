"""One CRF record, field by field: label, value with its unit, the data queries next to the field
they concern (raise one on any field), and the record's place in the schedule."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from npctrial.web.clinical import crfs, labels, locks, schedule, sdv
from npctrial.web.clinical.views.common import record_for
from npctrial.web.core import form_access, permissions
from npctrial.web.core.audit import audit_entries
from npctrial.web.core.queries import assignable_users
from npctrial.web.core.screening import protocol_of


def record_view(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int) -> HttpResponse:
    study, subject, spec, record = record_for(request, study_pk, pk, form, record_pk, "view", "read")
    if getattr(spec, "declared", False):  # a protocol-declared form: its fields come from the protocol
        from npctrial.web.clinical.views.declared import declared_record_view

        return declared_record_view(request, study, subject, spec, record)
    protocol = protocol_of(subject.protocol_version)
    ref = crfs.query_record(form, record.pk)
    queries = list(subject.queries.filter(record=ref).select_related("raised_by").order_by("raised_at"))
    rows = []
    for name in (*spec.fields, *crfs.DERIVED.get(form, ())):
        text = labels.field_text(name, protocol)
        rows.append({"name": name, "label": labels.label_with_unit(text), "help": text.help,
                     "value": labels.display(spec.model, name, getattr(record, name)),
                     "derived": name not in spec.fields, "queries": [q for q in queries if q.field_name == name]})
    state = sdv.sdv_state(subject, form, record)
    for row in rows:
        name = str(row["name"])
        row["critical"] = name in state.critical
        row["sdv"] = state.fields.get(name)
    event = next((e for e in schedule.events_of(subject.protocol_version) if e.id == record.event), None)
    field_labels = {str(r["name"]): r["label"] for r in rows}
    for q in queries:  # the query table names the record and the field in words, not by their codes
        q.record_label = f"{spec.label} #{record.pk}"
        q.field_label = field_labels.get(q.field_name, q.field_name)
    can_audit = permissions.can(request.user, study, "view_audit", subject.site)
    return render(request, "clinical/record_view.html", {
        "study": study, "subject": subject, "spec": spec, "record": record, "rows": rows, "slug": form,
        "record_ref": ref, "event": event, "queries": queries, "locked": locks.is_locked(subject),
        "can_edit": permissions.can(request.user, study, "edit_crf", subject.site) and record.voided_at is None
        and form_access.form_level(request.user, study, form, subject.site) == "edit",
        "can_void": permissions.can(request.user, study, "void_record", subject.site) and record.voided_at is None,
        "can_raise": permissions.can(request.user, study, "raise_query", subject.site) and record.voided_at is None,
        "can_answer": permissions.can(request.user, study, "answer_query", subject.site),
        "assignees": assignable_users(subject), "sdv": state,
        "can_verify": permissions.can(request.user, study, "verify_source", subject.site) and record.voided_at is None,
        "audit": audit_entries([record]) if can_audit else None, "next": request.path})
