"""Administration routes of /api/v1 (tag ``administration``): studies, sites, members, accounts.

The same services as the pages (:mod:`npctrial.web.core.administration`), so the same rules:
``manage`` in the study, study administrators appointed by administrators only, nothing deleted,
a reason for every change after creation. Set-password links are returned as absolute URLs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from npctrial.errors import ValidationError
from npctrial.web.core import administration as admin
from npctrial.web.core import permissions, protocols
from npctrial.web.core.studies import create_study
from npctrial.web.core.study_status import move_to_production, wipe_test_data

router = Router(tags=["administration"])


class StudyIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    protocol_yaml: str = Field(min_length=1)
    target_enrolment: int = Field(default=0, ge=0)
    title: str | None = None


class StudyCreatedOut(Schema):
    id: int
    code: str
    title: str
    protocol_version: str


# Lengths are checked by the service after stripping, as the pages' forms do (not here, before it).
class SiteIn(Schema):
    code: str = Field(min_length=1, description="1-12 capital letters, digits or '-'")
    name: str = ""


class SiteOut(Schema):
    code: str
    name: str
    active: bool


class ReasonIn(Schema):
    reason: str = Field(min_length=1, description="at most 500 characters")


class MemberIn(Schema):
    username: str = Field(min_length=1, description="at most 150 characters")
    role: str
    site: str | None = None  # a site code; none = every site


class MemberOut(Schema):
    id: int
    username: str
    user_id: int
    role: str
    site: str | None
    active: bool


class AccountIn(MemberIn):
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    password: str | None = None  # none: the account gets an invitation link


class AccountOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    is_active: bool
    has_password: bool
    set_password_url: str | None = None


class StatusIn(Schema):
    status: str = Field(description="production (from development)")
    confirm: str = Field(description="the study code, typed")
    reason: str = Field(min_length=1, max_length=500)


class WipeIn(Schema):
    confirm: str
    reason: str = Field(min_length=1, max_length=500)


class StatusOut(Schema):
    code: str
    status: str
    production_since: datetime | None
    deleted: dict[str, int]


def _site_out(link: Any) -> dict[str, Any]:
    return {"code": link.site.code, "name": link.site.name, "active": link.active}


def _member_out(m: Any) -> dict[str, Any]:
    return {"id": m.pk, "username": m.user.get_username(), "user_id": m.user_id, "role": m.role,
            "site": m.site.code if m.site else None, "active": m.active}


def _account_out(request: HttpRequest, user: Any, link: admin.AccountLink | None = None) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username(), "full_name": user.get_full_name(), "email": user.email,
            "is_active": user.is_active, "has_password": user.has_usable_password(),
            "set_password_url": request.build_absolute_uri(link.path) if link else None}


def mount(api: Any) -> None:
    """Add the routes to ``api``: ``POST /studies`` shares its path with the core study list."""
    from npctrial.web.core.amendment_api import router as amendment_router

    api.post("/studies", response={201: StudyCreatedOut}, tags=["administration"])(create_study_route)
    api.add_router("", router)
    api.add_router("", amendment_router)
    from npctrial.web.core.correction_api import router as correction_router

    api.add_router("", correction_router)
    from npctrial.web.core.attachment_api import router as attachment_router

    api.add_router("", attachment_router)


def _managed(request: HttpRequest, study_id: int) -> Any:
    return permissions.get_study_for(request.user, study_id, "manage")


def create_study_route(request: HttpRequest, payload: StudyIn) -> Status:
    """Create a study from protocol YAML (administrators only); it starts without sites or members."""
    if not request.user.is_superuser:
        raise PermissionDenied(_("only administrators create studies"))
    with protocols.protocol_input("protocol_yaml"):
        study = create_study(code=payload.code, yaml_text=payload.protocol_yaml,
                             target_enrolment=payload.target_enrolment, user=request.user, title=payload.title,
                             request=request)
    version = study.current_protocol
    return Status(201, {"id": study.pk, "code": study.code, "title": study.title,
                        "protocol_version": version.label if version else ""})


@router.get("/studies/{study_id}/sites", response=list[SiteOut])
def list_sites(request: HttpRequest, study_id: int) -> list[dict[str, Any]]:
    return [_site_out(s) for s in admin.study_sites(_managed(request, study_id))]


@router.post("/studies/{study_id}/sites", response={201: SiteOut})
def add_site_route(request: HttpRequest, study_id: int, payload: SiteIn) -> Status:
    study = _managed(request, study_id)
    return Status(201, _site_out(admin.add_site(study, code=payload.code, name=payload.name, actor=request.user, request=request)))


@router.post("/studies/{study_id}/sites/{code}/deactivate", response=SiteOut)
def deactivate_site(request: HttpRequest, study_id: int, code: str, payload: ReasonIn) -> dict[str, Any]:
    study = _managed(request, study_id)
    return _site_out(admin.set_site_active(study, code, active=False, reason=payload.reason, actor=request.user, request=request))


@router.post("/studies/{study_id}/sites/{code}/reactivate", response=SiteOut)
def reactivate_site(request: HttpRequest, study_id: int, code: str, payload: ReasonIn) -> dict[str, Any]:
    study = _managed(request, study_id)
    return _site_out(admin.set_site_active(study, code, active=True, reason=payload.reason, actor=request.user, request=request))


@router.get("/studies/{study_id}/members", response=list[MemberOut])
def list_members(request: HttpRequest, study_id: int) -> list[dict[str, Any]]:
    return [_member_out(m) for m in admin.members(_managed(request, study_id))]


@router.post("/studies/{study_id}/members", response={201: MemberOut})
def add_member(request: HttpRequest, study_id: int, payload: MemberIn) -> Status:
    study = _managed(request, study_id)
    m = admin.grant_membership(study, user=admin.find_user(payload.username), role=payload.role, site=payload.site,
                               actor=request.user, request=request)
    return Status(201, _member_out(m))


@router.post("/studies/{study_id}/members/{membership_id}/end", response=MemberOut)
def end_member(request: HttpRequest, study_id: int, membership_id: int, payload: ReasonIn) -> dict[str, Any]:
    study = _managed(request, study_id)
    return _member_out(admin.end_membership(study, membership_id, reason=payload.reason, actor=request.user, request=request))


@router.post("/studies/{study_id}/accounts", response={201: AccountOut})
def create_account_route(request: HttpRequest, study_id: int, payload: AccountIn) -> Status:
    """Create a user with a first role; without ``password`` the response carries an invitation link."""
    study = _managed(request, study_id)
    user, _m, link = admin.create_account(
        study, username=payload.username, role=payload.role, site=payload.site, actor=request.user, request=request,
        first_name=payload.first_name, last_name=payload.last_name, email=payload.email, password=payload.password)
    return Status(201, _account_out(request, user, link))


@router.post("/studies/{study_id}/accounts/{user_id}/deactivate", response=AccountOut)
def deactivate_account(request: HttpRequest, study_id: int, user_id: int, payload: ReasonIn) -> dict[str, Any]:
    study = _managed(request, study_id)
    user = admin.study_user(study, user_id, request.user)
    return _account_out(request, admin.set_account_active(study, user, active=False, reason=payload.reason,
                                                          actor=request.user, request=request))


@router.post("/studies/{study_id}/accounts/{user_id}/reactivate", response=AccountOut)
def reactivate_account(request: HttpRequest, study_id: int, user_id: int, payload: ReasonIn) -> dict[str, Any]:
    study = _managed(request, study_id)
    user = admin.study_user(study, user_id, request.user)
    return _account_out(request, admin.set_account_active(study, user, active=True, reason=payload.reason,
                                                          actor=request.user, request=request))


@router.post("/studies/{study_id}/accounts/{user_id}/reset-password", response=AccountOut)
def reset_account_password(request: HttpRequest, study_id: int, user_id: int, payload: ReasonIn) -> dict[str, Any]:
    study = _managed(request, study_id)
    user = admin.study_user(study, user_id, request.user)
    link = admin.reset_password(study, user, reason=payload.reason, actor=request.user, request=request)
    return _account_out(request, user, link)


@router.post("/studies/{study_id}/status", response=StatusOut)
def set_study_status(request: HttpRequest, study_id: int, payload: StatusIn) -> dict[str, Any]:
    """Move a development (UAT) study to production: test records wiped, new sequence, live."""
    study = _managed(request, study_id)
    if payload.status != "production":
        raise ValidationError(_("status: a study moves from development to production only"), field="status")
    deleted = move_to_production(study, user=request.user, confirm=payload.confirm, reason=payload.reason,
                                 request=request)
    return {"code": study.code, "status": study.status, "production_since": study.production_since, "deleted": deleted}


@router.post("/studies/{study_id}/wipe", response=StatusOut)
def wipe_study(request: HttpRequest, study_id: int, payload: WipeIn) -> dict[str, Any]:
    """Delete the test records of a development (UAT) study (their audit trail stays)."""
    study = _managed(request, study_id)
    deleted = wipe_test_data(study, user=request.user, confirm=payload.confirm, reason=payload.reason,
                             request=request)
    return {"code": study.code, "status": study.status, "production_since": study.production_since, "deleted": deleted}
