"""Study administration pages: sites, members (role x site), accounts (create/invite, deactivate, reset).

Every action goes through :mod:`npctrial.web.core.administration` (the same services as the API);
a refused action re-renders the page with the problem next to the form (HTTP 400).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.core import administration as admin
from npctrial.web.core import permissions
from npctrial.web.core.administration_forms import (
    AccountForm,
    MembershipForm,
    ReasonedActionForm,
    SiteForm,
)
from npctrial.web.core.models import Study
from npctrial.web.core.study_status import move_to_production, wipe_test_data


def _site_codes(study: Study) -> list[str]:
    return [s.site.code for s in admin.study_sites(study) if s.active]


def _forms(request: HttpRequest, study: Study, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    kw = {"superuser": request.user.is_superuser, "sites": _site_codes(study)}
    forms = {"site_form": SiteForm(prefix="site"), "member_form": MembershipForm(prefix="member", **kw),
             "account_form": AccountForm(prefix="account", **kw), "reason_form": ReasonedActionForm()}
    forms.update(bound or {})
    return forms


def _page(request: HttpRequest, study: Study, *, status: int = 200, **extra: Any) -> HttpResponse:
    memberships = admin.members(study)
    accounts: dict[int, Any] = {}
    for m in memberships:
        accounts.setdefault(m.user_id, m.user)
    ctx = {"study": study, "sites": admin.study_sites(study), "memberships": memberships,
           "accounts": sorted(accounts.values(), key=lambda u: u.get_username()),
           **_forms(request, study, extra.pop("bound", None)), **extra}
    return render(request, "core/study_admin.html", ctx, status=status)


def _refused(request: HttpRequest, study: Study, form: Any, exc: ValidationError, name: str) -> HttpResponse:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))
    return _page(request, study, status=400, bound={name: form})


def study_admin(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    return _page(request, study)


@require_POST
def site_add(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    form = SiteForm(request.POST, prefix="site")
    if not form.is_valid():
        return _page(request, study, status=400, bound={"site_form": form})
    try:
        link = admin.add_site(study, code=form.cleaned_data["code"], name=form.cleaned_data["name"],
                              actor=request.user, request=request)
    except ValidationError as exc:
        return _refused(request, study, form, exc, "site_form")
    messages.success(request, _("Site %(code)s added to %(study)s") % {"code": link.site.code, "study": study.code})
    return redirect("study-admin", study_pk=study.pk)


def _reason_or_page(request: HttpRequest, study: Study) -> tuple[str | None, HttpResponse | None]:
    form = ReasonedActionForm(request.POST)
    if form.is_valid():
        return form.cleaned_data["reason"], None
    return None, _page(request, study, status=400, bound={"reason_form": form},
                       action_error=_("a reason is required for this change"))


def _act(request: HttpRequest, study: Study, action: Any, done: str) -> HttpResponse:
    """Run ``action(reason)`` with the posted reason; success message or the page with the problem."""
    reason, page = _reason_or_page(request, study)
    if page is not None:
        return page
    try:
        action(reason)
    except ValidationError as exc:
        return _page(request, study, status=400, action_error=str(exc))
    messages.success(request, done)
    return redirect("study-admin", study_pk=study.pk)


@require_POST
def site_active(request: HttpRequest, study_pk: int, code: str) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    active = request.POST.get("active") == "1"
    done = (_("Site %(code)s reactivated") if active else _("Site %(code)s deactivated")) % {"code": code}
    return _act(request, study, lambda reason: admin.set_site_active(
        study, code, active=active, reason=reason, actor=request.user, request=request), done)


@require_POST
def member_add(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    form = MembershipForm(request.POST, prefix="member", superuser=request.user.is_superuser,
                          sites=_site_codes(study))
    if not form.is_valid():
        return _page(request, study, status=400, bound={"member_form": form})
    try:
        user = admin.find_user(form.cleaned_data["username"])
        m = admin.grant_membership(study, user=user, role=form.cleaned_data["role"],
                                   site=form.cleaned_data["site"] or None, actor=request.user, request=request)
    except ValidationError as exc:
        return _refused(request, study, form, exc, "member_form")
    messages.success(request, _("%(user)s is now %(role)s at %(site)s")
                     % {"user": m.user, "role": m.role, "site": m.site.code if m.site else _("all sites")})
    return redirect("study-admin", study_pk=study.pk)


@require_POST
def member_end(request: HttpRequest, study_pk: int, membership_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    return _act(request, study, lambda reason: admin.end_membership(
        study, membership_pk, reason=reason, actor=request.user, request=request), _("Membership ended"))


@require_POST
def account_add(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    form = AccountForm(request.POST, prefix="account", superuser=request.user.is_superuser, sites=_site_codes(study))
    if not form.is_valid():
        return _page(request, study, status=400, bound={"account_form": form})
    data = form.cleaned_data
    try:
        user, _m, link = admin.create_account(
            study, username=data["username"], role=data["role"], site=data["site"] or None, actor=request.user, request=request,
            first_name=data["first_name"], last_name=data["last_name"], email=data["email"],
            password=data["password"] or None)
    except ValidationError as exc:
        return _refused(request, study, form, exc, "account_form")
    if link is None:
        messages.success(request, _("Account %(user)s created") % {"user": user})
        return redirect("study-admin", study_pk=study.pk)
    return _link_page(request, study, link, _("Invitation for %(user)s") % {"user": user})


def _link_page(request: HttpRequest, study: Study, link: admin.AccountLink, title: str) -> HttpResponse:
    return render(request, "core/account_link.html",
                  {"study": study, "title": title, "account": link.user, "url": request.build_absolute_uri(link.path)})


@require_POST
def account_active(request: HttpRequest, study_pk: int, user_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    user = admin.study_user(study, user_pk, request.user)
    active = request.POST.get("active") == "1"
    done = (_("%(user)s reactivated") if active else _("%(user)s deactivated")) % {"user": user}
    return _act(request, study, lambda reason: admin.set_account_active(
        study, user, active=active, reason=reason, actor=request.user, request=request), done)


@require_POST
def account_reset(request: HttpRequest, study_pk: int, user_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "manage")
    user = admin.study_user(study, user_pk, request.user)
    reason, page = _reason_or_page(request, study)
    if page is not None:
        return page
    try:
        link = admin.reset_password(study, user, reason=reason or "", actor=request.user, request=request)
    except ValidationError as exc:
        return _page(request, study, status=400, action_error=str(exc))
    return _link_page(request, study, link, _("Password reset for %(user)s") % {"user": user})


@require_POST
def study_status(request: HttpRequest, study_pk: int) -> HttpResponse:
    """``action`` wipe (test records) or production (wipe, new sequence, live); code typed + reason."""
    study = permissions.get_study_for(request.user, study_pk, "manage")
    action = request.POST.get("action")
    confirm, reason = request.POST.get("confirm", ""), request.POST.get("reason", "")
    try:
        if action == "production":
            counts = move_to_production(study, user=request.user, confirm=confirm, reason=reason, request=request)
            done = _("%(study)s is in production; %(n)d test records removed")
        else:
            counts = wipe_test_data(study, user=request.user, confirm=confirm, reason=reason, request=request)
            done = _("%(n)d test records of %(study)s wiped")
    except ValidationError as exc:
        return _page(request, study, status=400, action_error=str(exc))
    messages.success(request, done % {"study": study.code, "n": sum(counts.values())})
    return redirect("study-admin", study_pk=study.pk)


#: the set-password page opened from an invitation or reset link (Django's token check)
password_set = auth_views.PasswordResetConfirmView.as_view(
    template_name="core/password_set.html", success_url=reverse_lazy("password-set-done"))
password_set_done = auth_views.PasswordResetCompleteView.as_view(template_name="core/password_set_done.html")
