"""API routes of protocol-declared forms (mounted in the clinical router of /api/v1).

The same service as the pages (:func:`npctrial.web.clinical.declared.save_declared`): JSON values
go to the domain's check as sent (numbers, text, true/false, null = empty, ``{value, unit}``), so
the same input gives the same field error as the page, as a 422 naming the field (never a 500).
An update sends the values to change; the stored values fill in the rest and the whole record is
checked again (a field now hidden must be sent as null).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from npctrial.web.clinical import declared, voiding
from npctrial.web.clinical.models import DeclaredRecord
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject

router = Router(tags=["declared forms"])

_BASE = "/studies/{study_id}/subjects/{subject_pk}/forms/{form}/records"


class DeclaredIn(Schema):
    values: dict[str, Any]
    event: str | None = Field(default=None, max_length=40)


class DeclaredUpdateIn(Schema):
    values: dict[str, Any]
    version: int
    reason: str = Field(min_length=1, max_length=300)


class DeclaredVoidIn(Schema):
    version: int
    reason: str = Field(min_length=1, max_length=300)


def record_out(record: DeclaredRecord) -> dict[str, Any]:
    out = {"id": record.pk, "form": record.form, "version": record.version, "event": record.event,
           "record_date": record.record_date.isoformat(), "values": record.values, "calculated": record.calculated,
           "protocol_version": record.protocol_version.label if record.protocol_version_id else None,
           "created_by": record.created_by.get_username() if record.created_by else None}
    if record.voided_at is not None:
        out.update(voided_at=record.voided_at.isoformat(), void_reason=record.void_reason,
                   voided_by=record.voided_by.get_username() if record.voided_by else None)
    return out


def _target(request: HttpRequest, study_id: int, subject_pk: int, form: str, capability: str,
            access: str) -> tuple[Any, Subject, declared.DeclaredSpec]:
    study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.select_related(
        "site", "protocol_version"), subject_pk, capability)
    spec = declared.declared_spec(subject.protocol_version, form)
    if spec is None:
        raise Http404("no such form")
    form_access.require_form(request.user, study, form, access, subject.site)
    return study, subject, spec


def _record(request: HttpRequest, study: Any, subject: Subject, spec: declared.DeclaredSpec, record_id: int,
            *, voided: bool = False) -> DeclaredRecord:
    return permissions.get_scoped_or_404(request.user, study, spec.records(subject, voided=voided), record_id,
                                         site_field="subject__site")


@router.get(_BASE)
def list_declared(request: HttpRequest, study_id: int, subject_pk: int, form: str) -> dict[str, Any]:
    """The subject's records of a declared form: live ones, and the voided ones apart."""
    _, subject, spec = _target(request, study_id, subject_pk, form, "view", "read")
    rows = spec.records(subject, voided=True).select_related("protocol_version", "created_by", "voided_by")
    return {"form": form, "records": [record_out(r) for r in rows if r.voided_at is None],
            "voided": [record_out(r) for r in rows if r.voided_at is not None]}


@router.post(_BASE, response={201: dict})
def create_declared(request: HttpRequest, study_id: int, subject_pk: int, form: str, payload: DeclaredIn) -> Status:
    """A new record, checked by the protocol's form; 422 names the first field in error."""
    _, subject, spec = _target(request, study_id, subject_pk, form, "edit_crf", "edit")
    record, notes = declared.save_declared(form, subject, payload.values, request.user, event=payload.event or None)
    return Status(201, {**record_out(record), "notes": notes})


@router.patch(_BASE + "/{record_id}")
def update_declared(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int,
                    payload: DeclaredUpdateIn) -> dict[str, Any]:
    """Change values of a record (version read and a reason); the record is checked again as a whole."""
    study, subject, spec = _target(request, study_id, subject_pk, form, "edit_crf", "edit")
    record = _record(request, study, subject, spec, record_id)
    values = {**(record.values or {}), **payload.values}
    record, notes = declared.save_declared(form, subject, values, request.user, instance=record,
                                           expected_version=payload.version, reason=payload.reason)
    return {**record_out(record), "notes": notes}


@router.post(_BASE + "/{record_id}/void")
def void_declared(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int,
                  payload: DeclaredVoidIn) -> dict[str, Any]:
    """Void a record entered in error (reason and the version read; never deleted)."""
    study, subject, spec = _target(request, study_id, subject_pk, form, "void_record", "edit")
    record = _record(request, study, subject, spec, record_id, voided=True)
    return record_out(voiding.void_record(form, record, request.user, payload.reason, expected_version=payload.version))
