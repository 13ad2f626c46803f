"""Clinical routes of /api/v1 (django-ninja router mounted by npctrial.web.api).

Same services and permission checks as the pages. Errors use the core API's JSON shape
(ValidationError -> 422 with the field, 403 missing capability, 404 outside the user's sites,
409 edit conflict).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from npctrial.domain import grade_lab
from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs, declared, locks, sdv, voiding
from npctrial.web.clinical.analysis_set import best_response_or_reason
from npctrial.web.clinical.api_values import coerce_lesions, coerce_values
from npctrial.web.clinical.declared_api import record_out as declared_record_out
from npctrial.web.clinical.declared_api import router as declared_router
from npctrial.web.clinical.imports import MAX_BYTES, run_import
from npctrial.web.clinical.lab_api import router as lab_router
from npctrial.web.clinical.views.export import export_file
from npctrial.web.clinical.views.report import scoped_report
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject

router = Router(tags=["clinical"])
router.add_router("", lab_router)  # the lab panel and the site reference ranges
router.add_router("", declared_router)  # protocol-declared forms


class CrfIn(Schema):
    values: dict[str, Any]
    lesions: list[dict[str, Any]] | None = None


class CrfUpdateIn(CrfIn):
    version: int
    reason: str = Field(min_length=1)


class LabGradeIn(Schema):
    term: str
    value: float
    unit: str
    lln: float | None = None
    lln_unit: str | None = None
    uln: float | None = None
    uln_unit: str | None = None
    baseline: float | None = None
    baseline_unit: str | None = None


class VoidIn(Schema):
    version: int
    reason: str = Field(min_length=1)


class VerifyIn(Schema):
    version: int
    fields: list[str] = []  # critical fields checked against the source
    whole_record: bool = False
    note: str = Field(default="", max_length=300)


class SignIn(Schema):
    password: str


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def _record_out(slug: str, r: Any) -> dict[str, Any]:
    spec = crfs.spec_of(slug)
    out = {"id": r.pk, "form": slug, "version": r.version,
           **{f: _jsonable(getattr(r, f)) for f in (*spec.fields, *crfs.DERIVED.get(slug, ()))}}
    if slug == "assessment":
        out["lesions"] = [{k: getattr(x, k) for k in crfs.LESION_FIELDS} for x in r.lesions.all()]
    return out


def _subject(request: HttpRequest, study_id: int, subject_pk: int, capability: str) -> tuple[Any, Subject]:
    return permissions.get_object_for(request.user, study_id, Subject.objects.select_related("site"), subject_pk,
                                      capability)


def _spec(form: str) -> crfs.CrfSpec:
    try:
        return crfs.spec_of(form)
    except ValidationError:
        raise Http404("no such form") from None


@router.get("/studies/{study_id}/subjects/{subject_pk}/casebook")
def casebook(request: HttpRequest, study_id: int, subject_pk: int) -> dict[str, Any]:
    """Every CRF record of the subject, with derived values, lock and signature status."""
    _, subject = _subject(request, study_id, subject_pk, "view")
    sig = locks.signature_current(subject)
    bor, bor_note = best_response_or_reason(subject)
    return {"subject_id": subject.subject_id, "locked": locks.is_locked(subject),
            "signed_by": sig.signed_by.get_username() if sig else None,
            "best_overall_response": bor, "best_overall_response_note": bor_note,
            "forms": {slug: [_record_out(slug, r) for r in spec.model.objects.filter(subject=subject).order_by("pk")]
                      for slug, spec in crfs.CRFS.items()
                      if slug in form_access.readable(request.user, subject.study, [slug], subject.site)},
            "voided": [{**_record_out(v.slug, v.record), "voided_at": v.voided_at.isoformat(),
                        "voided_by": v.voided_by.get_username() if v.voided_by else None, "void_reason": v.reason}
                       for v in voiding.voided_records(Subject.objects.filter(pk=subject.pk))
                       if v.slug in crfs.CRFS
                       and v.slug in form_access.readable(request.user, subject.study, [v.slug], subject.site)],
            "declared_forms": _declared_out(request, subject)}


def _declared_out(request: HttpRequest, subject: Subject) -> dict[str, Any]:
    """The subject's records of each protocol-declared form the user may read (voided ones apart)."""
    out = {}
    for slug, spec in declared.declared_specs(subject.protocol_version).items():
        if slug in form_access.readable(request.user, subject.study, [slug], subject.site):
            rows = list(spec.records(subject, voided=True).select_related("protocol_version", "created_by", "voided_by"))
            out[slug] = {"records": [declared_record_out(r) for r in rows if r.voided_at is None],
                         "voided": [declared_record_out(r) for r in rows if r.voided_at is not None]}
    return out


@router.post("/studies/{study_id}/subjects/{subject_pk}/crf/{form}", response={201: dict})
def create_record(request: HttpRequest, study_id: int, subject_pk: int, form: str, payload: CrfIn) -> Status:
    _spec(form)
    _, subject = _subject(request, study_id, subject_pk, "edit_crf")
    record, notes = crfs.save_crf(form, subject, coerce_values(form, payload.values, partial=False), request.user,
                                  lesions=coerce_lesions(payload.lesions))
    return Status(201, {**_record_out(form, record), "notes": notes})


@router.patch("/studies/{study_id}/subjects/{subject_pk}/crf/{form}/{record_id}")
def update_record(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int,
                  payload: CrfUpdateIn) -> dict[str, Any]:
    spec = _spec(form)
    study, subject = _subject(request, study_id, subject_pk, "edit_crf")
    record = permissions.get_scoped_or_404(request.user, study, spec.model.objects.filter(subject=subject), record_id,
                                           site_field="subject__site")
    record, notes = crfs.save_crf(form, subject, coerce_values(form, payload.values, partial=True), request.user,
                                  instance=record,
                                  expected_version=payload.version, reason=payload.reason,
                                  lesions=coerce_lesions(payload.lesions))
    return {**_record_out(form, record), "notes": notes}


@router.post("/studies/{study_id}/subjects/{subject_pk}/crf/{form}/{record_id}/void")
def void_record(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int,
                payload: VoidIn) -> dict[str, Any]:
    """Void a record entered in error (reason and the version read; never deleted)."""
    spec = _spec(form)
    study, subject = _subject(request, study_id, subject_pk, "void_record")
    form_access.require_form(request.user, study, form, "edit", subject.site)
    record = permissions.get_scoped_or_404(request.user, study, spec.model.all_objects.filter(subject=subject),
                                           record_id, site_field="subject__site")
    record = voiding.void_record(form, record, request.user, payload.reason, expected_version=payload.version)
    return {**_record_out(form, record), "voided_at": record.voided_at.isoformat(), "void_reason": record.void_reason}


def _sdv_out(state: sdv.SdvState) -> dict[str, Any]:
    def row(r: Any) -> dict[str, Any]:
        return {"field": r.field or None, "record_version": r.record_version, "verified_by": r.verified_by.username,
                "verified_at": r.verified_at.isoformat(), "note": r.note}
    return {"status": state.status, "version": state.version, "critical_fields": list(state.critical),
            "fields_verified": sorted(state.fields), "history": [row(r) for r in state.history]}


def _sdv_record(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int,
                capability: str) -> tuple[Subject, Any]:
    spec = _spec(form)
    study, subject = _subject(request, study_id, subject_pk, capability)
    form_access.require_form(request.user, study, form, "read", subject.site)
    record = permissions.get_scoped_or_404(request.user, study, spec.model.all_objects.filter(subject=subject),
                                           record_id, site_field="subject__site")
    return subject, record


@router.get("/studies/{study_id}/subjects/{subject_pk}/crf/{form}/{record_id}/sdv")
def get_sdv(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int) -> dict[str, Any]:
    """The record's source-data verification at its current version, and every verification made."""
    subject, record = _sdv_record(request, study_id, subject_pk, form, record_id, "view")
    return _sdv_out(sdv.sdv_state(subject, form, record))


@router.post("/studies/{study_id}/subjects/{subject_pk}/crf/{form}/{record_id}/sdv", response={201: dict})
def verify_source(request: HttpRequest, study_id: int, subject_pk: int, form: str, record_id: int,
                  payload: VerifyIn) -> Status:
    """Verify critical fields (``fields``) and, with ``whole_record``, the record, at ``version``."""
    subject, record = _sdv_record(request, study_id, subject_pk, form, record_id, "verify_source")
    state = sdv.verify_source(subject, form, record, user=request.user, version=payload.version,
                              fields=payload.fields, whole_record=payload.whole_record, note=payload.note)
    return Status(201, _sdv_out(state))


@router.post("/studies/{study_id}/subjects/{subject_pk}/lab-grade")
def lab_grade(request: HttpRequest, study_id: int, subject_pk: int, payload: LabGradeIn) -> dict[str, Any]:
    _subject(request, study_id, subject_pk, "view")
    grade = grade_lab(payload.term, payload.value, payload.unit, lln=payload.lln, uln=payload.uln,
                      baseline=payload.baseline, lln_unit=payload.lln_unit, uln_unit=payload.uln_unit,
                      baseline_unit=payload.baseline_unit)
    return {"term": payload.term, "suggested_grade": grade, "ctcae": "4.03"}


@router.post("/studies/{study_id}/subjects/{subject_pk}/sign", response={201: dict})
def sign(request: HttpRequest, study_id: int, subject_pk: int, payload: SignIn) -> Status:
    _, subject = _subject(request, study_id, subject_pk, "sign_casebook")
    sig = locks.sign_casebook(subject, request.user, payload.password, request=request)
    return Status(201, {"subject_id": subject.subject_id, "signed_at": sig.signed_at.isoformat(),
                        "printed_name": sig.printed_name, "username": request.user.get_username(),
                        "meaning": sig.meaning, "statement": sig.statement, "records_hash": sig.records_hash})


@router.post("/studies/{study_id}/subjects/{subject_pk}/lock", response={201: dict})
def lock_subject(request: HttpRequest, study_id: int, subject_pk: int) -> Status:
    study, subject = _subject(request, study_id, subject_pk, "lock")
    locks.lock(study, request.user, subject, request=request)
    return Status(201, {"subject_id": subject.subject_id, "locked": True})


@router.get("/studies/{study_id}/report")
def report(request: HttpRequest, study_id: int) -> dict[str, Any]:
    study = permissions.get_study_for(request.user, study_id, "view")
    r = scoped_report(request.user, study, figures=False)
    return {
        "flow": r.flow, "ae_min_grade": r.ae_min_grade,
        "ae_rate": None if r.ae_rate is None else r.ae_rate.__dict__,
        "ae_terms": [{**{k: v for k, v in t.items() if k not in ("any", "severe")},
                      "any": t["any"].__dict__, "severe": t["severe"].__dict__} for t in r.ae_terms],
        "orr": None if r.orr is None else r.orr.__dict__, "best_responses": r.best_responses,
        "survival": [{"endpoint": s.endpoint, "groups": s.groups, "n": s.n, "events": s.events, "medians": s.medians,
                      "at_risk": s.at_risk, "logrank_chisq": s.logrank_chisq, "logrank_p": s.logrank_p}
                     for s in r.survival],
        "median_follow_up_months": r.median_follow_up_months,
        "deviations": [{k: _jsonable(v) for k, v in d.items()} for d in r.deviations],
        "completeness": r.completeness, "simon": r.simon, "notes": r.notes,
        "efficacy": r.efficacy,  # by_arm | pooled (interim confidentiality) | single_arm
        "not_evaluable": r.not_evaluable,
    }


@router.get("/studies/{study_id}/edit-checks")
def edit_checks(request: HttpRequest, study_id: int) -> dict[str, Any]:
    """The edit checks of the study's current protocol (generic and trial-specific), as the rules page lists them."""
    from npctrial.web.clinical.views.documentation import documentation_context

    study = permissions.get_study_for(request.user, study_id, "view")
    ctx = documentation_context(study)
    return {"protocol": ctx["version"].protocol_id, "version": ctx["version"].label,
            "checks": [{**row["check"].model_dump(), "origin": row["origin"]} for row in ctx["checks"]],
            "builtin": ctx["builtin"]}


@router.get("/studies/{study_id}/data-quality")
def data_quality(request: HttpRequest, study_id: int) -> dict[str, Any]:
    """Every open problem per site: open queries, edit-check findings on stored data, not-evaluable subjects."""
    from npctrial.web.clinical.views.quality import quality_report

    study = permissions.get_study_for(request.user, study_id, "view")
    q = quality_report(request.user, study)
    return {"counts": q["counts"], "sites": {
        code: {"queries": [{"id": x.pk, "subject": x.subject.subject_id, "record": x.record, "field": x.field_name,
                            "text": x.text, "status": x.status, "edit_check": x.edit_check} for x in site["queries"]],
               "findings": [{"subject": r["finding"].subject.subject_id, "record": r["finding"].record,
                             "check": r["finding"].finding.check, "severity": r["finding"].finding.severity,
                             "message": r["finding"].finding.message, "query_open": r["query_open"]}
                            for r in site["findings"]],
               "not_evaluable": [n.as_dict() for n in site["not_evaluable"]],
               "overdue": [{"subject": r.subject.subject_id, "visit": r.visit.label, "days": r.days_overdue}
                           for r in site["overdue"]]}
        for code, site in q["sites"].items()}}


@router.get("/studies/{study_id}/exports/{name}.{fmt}")
def export(request: HttpRequest, study_id: int, name: str, fmt: str) -> HttpResponse | StreamingHttpResponse:
    return export_file(request, study_id, name, fmt)


@router.post("/studies/{study_id}/imports", response={201: dict, 422: dict}, tags=["import"])
def import_route(request: HttpRequest, study_id: int, file: UploadedFile | None = File(None),  # noqa: B008
                 kind: str = Form(""), reason: str = Form(""), mode: str = Form("create"),  # noqa: B008
                 partial: bool = Form(False)) -> Status:  # noqa: B008
    """Import a CSV (``kind`` screening or a form) or ODM file (``kind=odm``), validated as data entry.

    201 with the report when applied; 422 with the report (every problem by row and field) when refused.
    """
    study = permissions.get_study_for(request.user, study_id, "import_data")
    if file is None:
        raise ValidationError(_("send the file to import (multipart field 'file')"), field="file")
    if file.size is not None and file.size > MAX_BYTES:
        raise ValidationError(_("the file is larger than %(size)s MB") % {"size": MAX_BYTES // 1_000_000}, field="file")
    report = run_import(study, request.user, kind=kind, data=file.read(), filename=file.name or "", reason=reason,
                        mode=mode, partial=partial, request=request)
    body = {**report.as_dict(), "detail": report.summary(),
            "errors": [{"field": p.field, "row": p.row, "message": p.message} for p in report.problems]}
    return Status(201 if report.applied else 422, body)
