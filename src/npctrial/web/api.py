"""JSON API at /api/v1 (django-ninja; OpenAPI docs at /api/v1/docs).

Same services and the same permission checks (:mod:`npctrial.web.core.permissions`) as the pages.
Errors are JSON: ``{"detail": "...", "errors": [{"field": "hb", "message": "..."}]}`` with
400/422 for bad input, 403 for a missing right, 404 for anything outside the user's sites,
409 for an edit conflict (both versions in the body). ``detail`` reads in the request's language
(Accept-Language, or the user's saved one); a refusal of the domain layer keeps its English text in
``errors[].message`` with its stable ``code`` beside it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from npctrial.domain.screening_identity import compute_age
from npctrial.errors import FieldErrors, ValidationError
from npctrial.web.core import permissions, protocols
from npctrial.web.core.allocation import randomise
from npctrial.web.core.audit import audit_entries
from npctrial.web.core.blinding import CONCEALED, allocation_visible, mask_arm
from npctrial.web.core.dashboard import compute_dashboard
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import ScreeningRecord, Site, Subject
from npctrial.web.core.screening import create_screening, patch_screening, protocol_of
from npctrial.web.core.text_input import clean_text
from npctrial.web.core.views.subjects import subject_records
from npctrial.web.languages import display

api = NinjaAPI(
    title="npctrial EDC API",
    version="1",
    urls_namespace="api-v1",
    auth=django_auth,
    docs_url="/docs",
    description="Screening, enrolment, randomisation and data queries. Session authentication.",
)


def _error(request: HttpRequest, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(ValidationError)
def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: list[dict[str, str]] = []
    for one in exc.problems if isinstance(exc, FieldErrors) else (exc,):  # several fields refused at once
        errors.append({"field": one.field or "__all__", "message": str(one)})
        if one.code is not None:  # a coded message of the domain layer (npctrial.messages): match on the code
            errors[-1]["code"] = one.code
    for problem in getattr(exc, "errors", [])[1:]:
        errors.append({"field": exc.field or "__all__", "message": problem})
    # detail: for the reader, in the request's language; errors: the English of a coded message
    # beside its code (what clients match on), as the audit trail keeps it
    return _error(request, 422, display.message_text(exc), errors)


@api.exception_handler(NinjaValidationError)
def _on_schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(loc) or "__all__", "message": err.get("msg", "invalid")})
    fields = ", ".join(e["field"] for e in errors)
    return _error(request, 422, _("invalid input: %(fields)s") % {"fields": fields}, errors)


@api.exception_handler(EditConflict)
def _on_conflict(request: HttpRequest, exc: EditConflict) -> HttpResponse:
    body = {
        "detail": str(exc),
        "errors": [{"field": r.field, "message": _("changed by someone else")} for r in exc.rows if r.differs],
        "your_version": exc.expected_version,
        "current_version": exc.current_version,
        "fields": [{"field": r.field, "submitted": protocols.jsonable(r.submitted), "current": protocols.jsonable(r.current)}
                   for r in exc.rows],
    }
    return api.create_response(request, body, status=409)


@api.exception_handler(Http404)
def _on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("not found"))


@api.exception_handler(PermissionDenied)
def _on_403(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or _("forbidden"))


@api.exception_handler(AuthenticationError)
def _on_401(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("authentication required"))


# --------------------------------------------------------------------------- schemas


class StudyOut(Schema):
    id: int
    code: str
    title: str
    target_enrolment: int
    protocol_id: str
    protocol_version: str
    protocol_version_number: int
    status: str
    randomised: bool
    roles: list[str]
    sites: list[str]


class FieldOut(Schema):
    name: str
    label: str
    type: str
    unit: str
    choices: list[str]
    min: float | None
    max: float | None
    help: str


class VerdictOut(Schema):
    id: str
    kind: str
    verdict: str
    text: str
    rule: str
    values: dict[str, Any]
    excludes: bool


class EvaluationIn(Schema):
    values: dict[str, Any]


class EvaluationOut(Schema):
    outcome: str
    failed_criteria: list[str]
    verdicts: list[VerdictOut]


class ScreeningIn(Schema):
    site: str
    values: dict[str, Any]
    screening_date: date | None = None  # default: today
    initials: str | None = None  # 2-4 Latin letters (pinyin initials), upper-cased
    birth_date: date | None = None
    hospital_number: str | None = None  # the site's record number (never in de-identified exports)
    rescreen_of: int | None = None  # the earlier screening's id, to confirm a re-screening of the same person
    rescreen_reason: str | None = None


class ScreeningUpdateIn(Schema):
    values: dict[str, Any]
    version: int
    reason: str


class ScreeningOut(Schema):
    id: int
    label: str
    site: str
    protocol_version: str
    outcome: str
    failed_criteria: list[str]
    values: dict[str, Any]
    verdicts: list[VerdictOut]
    version: int
    screening_date: date
    screened_at: datetime
    subject_id: str | None
    initials: str  # "" when not recorded
    birth_date: date | None
    age: int | None  # at the screening date
    hospital_number: str
    rescreen_of: int | None
    rescreen_reason: str


class EnrolIn(Schema):
    consent_date: date
    consent_version: str
    enrolment_date: date | None = None  # default: today (the site's calendar date)


class RandomiseIn(Schema):
    randomisation_date: date | None = None  # default: today


class SubjectOut(Schema):
    id: int
    subject_id: str
    site: str
    protocol_version: str
    high_risk: bool | None
    enrolment_date: date
    enrolled_at: datetime
    arm: str | None
    randomisation_number: int | None
    randomisation_date: date | None


class RandomisationOut(Schema):
    subject_id: str
    number: int
    arm: str  # "concealed" for roles the protocol's blinding does not allow
    strata: dict[str, str]
    randomisation_date: date
    allocated_at: datetime
    hash_after: str
    concealed: bool


class AuditOut(Schema):
    record: str
    action: str
    user: str
    at: datetime
    reason: str
    changes: list[dict[str, Any]]


class DashboardOut(Schema):
    study: str
    target: int
    screened: int
    eligible: int
    enrolled: int
    randomised: int
    open_queries: int
    by_site: list[dict[str, Any]]
    failures_by_criterion: list[dict[str, Any]]
    enrolment_by_month: list[dict[str, Any]]


# --------------------------------------------------------------------------- helpers


def _study_out(request: HttpRequest, study: Any) -> dict[str, Any]:
    version = study.current_protocol
    return {
        "id": study.pk, "code": study.code, "title": study.title, "target_enrolment": study.target_enrolment,
        "protocol_id": version.protocol_id if version else "", "protocol_version": version.label if version else "",
        "protocol_version_number": version.number if version else 0, "status": study.status,
        "randomised": hasattr(study, "allocation_sequence"),
        "roles": sorted(permissions.roles_for(request.user, study)),
        "sites": [s.code for s in permissions.visible_sites(request.user, study).order_by("code")],
    }


def _screening_out(r: ScreeningRecord) -> dict[str, Any]:
    subject = Subject.objects.filter(screening=r).first()
    return {
        "id": r.pk, "label": str(r), "site": r.site.code, "protocol_version": r.protocol_version.label,
        "outcome": r.outcome, "failed_criteria": r.failed_criteria, "values": r.values, "verdicts": r.verdicts,
        "version": r.version, "screening_date": r.screening_date, "screened_at": r.screened_at, "subject_id": subject.subject_id if subject else None,
        "initials": r.initials, "birth_date": r.birth_date,
        "age": compute_age(r.birth_date, r.screening_date) if r.birth_date else None,
        "hospital_number": r.hospital_number, "rescreen_of": r.rescreen_of_id, "rescreen_reason": r.rescreen_reason,
    }


def _subject_out(s: Subject, user: Any) -> dict[str, Any]:
    """A subject as the API shows it; the arm only to roles the protocol's blinding allows."""
    r = getattr(s, "randomisation", None)
    visible = r is not None and allocation_visible(user, s.study, s.site)
    return {
        "id": s.pk, "subject_id": s.subject_id, "site": s.site.code, "protocol_version": s.protocol_version.label,
        "high_risk": s.high_risk, "enrolment_date": s.enrolment_date, "enrolled_at": s.enrolled_at,
        "arm": mask_arm(r.arm, visible) if r else None, "randomisation_number": r.number if r else None,
        "randomisation_date": r.randomisation_date if r else None,
    }


def _current_protocol(study: Any) -> Any:
    version = study.current_protocol
    if version is None:
        raise ValidationError(_("the study has no protocol version"), field="protocol")
    return protocol_of(version)


def _evaluation_out(evaluation: protocols.Evaluation) -> dict[str, Any]:
    return {"outcome": evaluation.outcome, "failed_criteria": evaluation.failed_criteria,
            "verdicts": [v.as_dict() for v in evaluation.verdicts]}


# --------------------------------------------------------------------------- routes


@api.get("/studies", response=list[StudyOut], tags=["studies"])
def list_studies(request: HttpRequest) -> list[dict[str, Any]]:
    return [_study_out(request, s) for s in permissions.studies_for(request.user)]


@api.get("/studies/{study_id}", response=StudyOut, tags=["studies"])
def get_study(request: HttpRequest, study_id: int) -> dict[str, Any]:
    return _study_out(request, permissions.get_study_or_404(request.user, study_id))


@api.get("/studies/{study_id}/dashboard", response=DashboardOut, tags=["studies"])
def get_dashboard(request: HttpRequest, study_id: int) -> dict[str, Any]:
    study = permissions.get_study_for(request.user, study_id, "view")
    return compute_dashboard(request.user, study).as_dict()


@api.get("/studies/{study_id}/fields", response=list[FieldOut], tags=["screening"])
def get_fields(request: HttpRequest, study_id: int) -> list[dict[str, Any]]:
    """The screening fields of the current protocol version (those the criteria, strata and risk rule use)."""
    study = permissions.get_study_for(request.user, study_id, "view")
    return [
        {**f.__dict__, "choices": list(f.choices)}
        for f in protocols.screening_fields(_current_protocol(study))
    ]


@api.post("/studies/{study_id}/eligibility", response=EvaluationOut, tags=["screening"])
def evaluate_values(request: HttpRequest, study_id: int, payload: EvaluationIn) -> dict[str, Any]:
    """Evaluate eligibility for the given values without saving anything."""
    study = permissions.get_study_for(request.user, study_id, "view")
    protocol = _current_protocol(study)
    return _evaluation_out(protocols.evaluate(protocol, protocols.coerce_values(protocol, payload.values)))


@api.get("/studies/{study_id}/screenings", response=list[ScreeningOut], tags=["screening"])
def list_screenings(request: HttpRequest, study_id: int) -> list[dict[str, Any]]:
    study = permissions.get_study_for(request.user, study_id, "view")
    qs = permissions.scope(request.user, study, ScreeningRecord.objects.select_related("site", "protocol_version"))
    return [_screening_out(r) for r in qs.order_by("site__code", "number")]


@api.post("/studies/{study_id}/screenings", response={201: ScreeningOut}, tags=["screening"])
def create_screening_route(request: HttpRequest, study_id: int, payload: ScreeningIn) -> Status:
    study = permissions.get_study_or_404(request.user, study_id)
    code = clean_text(payload.site, "site", Site._meta.get_field("code").max_length)  # as the form: stripped, no NUL
    site = Site.objects.filter(code=code, study_sites__study=study).first()
    if site is None:
        raise ValidationError(_("site %(site)r is not a site of this study") % {"site": payload.site}, field="site")
    permissions.require(request.user, study, "screen", site)
    identity = {k: getattr(payload, k) for k in ("initials", "birth_date", "hospital_number", "rescreen_of",
                                                 "rescreen_reason")}
    record = create_screening(study, site, payload.values, request.user, screening_date=payload.screening_date,
                              identity=identity)
    return Status(201, _screening_out(record))


@api.get("/studies/{study_id}/screenings/{screening_id}", response=ScreeningOut, tags=["screening"])
def get_screening(request: HttpRequest, study_id: int, screening_id: int) -> dict[str, Any]:
    study, record = permissions.get_object_for(request.user, study_id, ScreeningRecord.objects.all(), screening_id, "view")
    return _screening_out(record)


@api.patch("/studies/{study_id}/screenings/{screening_id}", response=ScreeningOut, tags=["screening"])
def update_screening_route(
    request: HttpRequest, study_id: int, screening_id: int, payload: ScreeningUpdateIn
) -> dict[str, Any]:
    """Partial update: the values sent replace the stored ones, the others are kept; ``null`` clears a value.

    Optimistic lock on ``version``; ``reason`` is mandatory. The merged values are re-evaluated.
    """
    study, record = permissions.get_object_for(request.user, study_id, ScreeningRecord.objects.all(), screening_id, "screen")
    record = patch_screening(record, payload.values, expected_version=payload.version,
                             reason=payload.reason, user=request.user)
    return _screening_out(record)


@api.post("/studies/{study_id}/screenings/{screening_id}/enrol", response={201: SubjectOut}, tags=["enrolment"])
def enrol_route(request: HttpRequest, study_id: int, screening_id: int, payload: EnrolIn) -> Status:
    study, record = permissions.get_object_for(request.user, study_id, ScreeningRecord.objects.all(), screening_id, "enrol")
    subject = enrol(record, consent_date=payload.consent_date, consent_version=payload.consent_version,
                    user=request.user, enrolment_date=payload.enrolment_date)
    return Status(201, _subject_out(subject, request.user))


@api.get("/studies/{study_id}/subjects", response=list[SubjectOut], tags=["enrolment"])
def list_subjects(request: HttpRequest, study_id: int) -> list[dict[str, Any]]:
    study = permissions.get_study_for(request.user, study_id, "view")
    qs = permissions.scope(request.user, study, Subject.objects.select_related("site", "protocol_version",
                                                                                "randomisation"))
    return [_subject_out(s, request.user) for s in qs.order_by("site__code", "seq")]


@api.get("/studies/{study_id}/subjects/{subject_pk}", response=SubjectOut, tags=["enrolment"])
def get_subject(request: HttpRequest, study_id: int, subject_pk: int) -> dict[str, Any]:
    study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk, "view")
    return _subject_out(subject, request.user)


@api.post("/studies/{study_id}/subjects/{subject_pk}/randomise", response={201: RandomisationOut},
          tags=["randomisation"])
def randomise_route(request: HttpRequest, study_id: int, subject_pk: int,
                    payload: RandomiseIn | None = None) -> Status:
    """Allocate an arm; ``randomisation_date`` (optional body) defaults to today."""
    study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk, "randomise")
    r = randomise(subject, request.user, payload.randomisation_date if payload is not None else None, request=request)
    if allocation_visible(request.user, study, subject.site):
        return Status(201, {"subject_id": subject.subject_id, "number": r.number, "arm": r.arm, "strata": r.strata,
                            "randomisation_date": r.randomisation_date, "allocated_at": r.allocated_at,
                            "hash_after": r.hash_after, "concealed": False})
    # blinded: the number only (the arm, the stratum and the chain hash would each reveal the arm)
    return Status(201, {"subject_id": subject.subject_id, "number": r.number, "arm": str(CONCEALED), "strata": {},
                        "randomisation_date": r.randomisation_date, "allocated_at": r.allocated_at,
                        "hash_after": "", "concealed": True})


@api.get("/studies/{study_id}/subjects/{subject_pk}/history", response=list[AuditOut], tags=["audit"])
def subject_history_route(request: HttpRequest, study_id: int, subject_pk: int) -> list[dict[str, Any]]:
    study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk, "view_audit")
    records = subject_records(subject)
    visible = allocation_visible(request.user, study, subject.site)
    return [
        {"record": e.record, "action": e.action, "user": e.user, "at": e.at, "reason": e.reason,
         "changes": [{"field": c.field, "old": protocols.jsonable(c.old), "new": protocols.jsonable(c.new)}
                     for c in e.changes]}
        for e in audit_entries(records, allocation_visible=visible)
    ]


# Data query routes (lifecycle, assignee, due date, thread).
from npctrial.web.core.query_api import router as _query_router  # noqa: E402

api.add_router("", _query_router)

# Administration routes (studies, sites, members, accounts).
from npctrial.web.core.admin_api import mount as _mount_admin  # noqa: E402

_mount_admin(api)

# The study-wide audit log.
from npctrial.web.core.audit_api import router as _audit_router  # noqa: E402

api.add_router("", _audit_router)

# Clinical workflow routes (CRFs, report, exports) when the clinical app is installed.
from django.apps import apps as _apps  # noqa: E402

if _apps.is_installed("npctrial.web.clinical"):
    from npctrial.web.clinical.api import router as _clinical_router  # noqa: E402

    api.add_router("", _clinical_router)
