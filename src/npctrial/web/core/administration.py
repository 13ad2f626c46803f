"""Study administration: sites, user accounts and role x site memberships (pages, API and CLI share it).

Rules (checked here, so every route applies them the same way):

1. Every action needs the ``manage`` capability in the study (404 without a role, 403 without it).
2. Nothing is deleted: a site leaves a study by deactivation, a membership ends (``active=False``),
   an account is deactivated (``is_active=False``; the login and open sessions stop working).
   The audit trail (django-simple-history on Site, StudySite, Membership and the user model)
   keeps who did what, when and why; every change after creation carries a reason.
3. Study administrators are appointed and removed by administrators (superusers) only.
4. Account-level actions (deactivate, reactivate, reset the password) on a user are allowed to a
   study administrator only when every study the user works in is managed by that administrator,
   never on an administrator account, and never on one's own account.
5. A new account gets either an initial password (checked by the password validators) or an
   unusable one and a set-password link (an invitation); a password reset makes the old password
   unusable and gives a new link. Links are Django password-reset tokens: single use, and they
   expire after ``PASSWORD_RESET_TIMEOUT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.events import record_event
from npctrial.web.core.models import Membership, Site, Study, StudySite
from npctrial.web.core.text_input import clean_text

SITE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,11}$")


@dataclass(frozen=True)
class AccountLink:
    """A set-password link for ``user`` (an invitation or a password reset); relative URL."""

    user: Any
    path: str


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _reason(reason: str | None) -> str:
    text = clean_text(reason, "reason", 500)
    if not text:
        raise ValidationError(_("a reason is required for this change"), field="reason")
    return text


def _save(obj: Any, actor: Any, reason: str | None = None) -> None:
    if _actor(actor) is not None:
        obj._history_user = actor
    if reason is not None:
        obj._change_reason = reason
    obj.save(reason=reason) if hasattr(obj, "version") else obj.save()


def require_manage(actor: Any, study: Study) -> None:
    permissions.require(actor, study, "manage")


# --------------------------------------------------------------------------- sites


def study_sites(study: Study) -> list[StudySite]:
    return list(StudySite.objects.filter(study=study).select_related("site").order_by("site__code"))


def add_site(study: Study, *, code: str, name: str = "", actor: Any, request: Any = None) -> StudySite:
    """Add a site to the study: an existing site by code, or a new site (``name`` required)."""
    require_manage(actor, study)
    code = (code or "").strip().upper()
    if not SITE_CODE.fullmatch(code):
        raise ValidationError(_("site code must be 1-12 capital letters, digits or '-' (it is used in subject "
                                "IDs), got %(code)r") % {"code": code}, field="code")
    name = clean_text(name, "name", 200)
    with transaction.atomic():
        site = Site.objects.filter(code=code).first()
        if site is None:
            if not name:
                raise ValidationError(_("a new site needs a name"), field="name")
            site = Site(code=code, name=name)
            _save(site, actor)
        elif name and name != site.name:
            raise ValidationError(_("site %(code)s already exists as %(name)r; leave the name empty to add it")
                                  % {"code": code, "name": site.name}, field="name")
        link = StudySite.objects.filter(study=study, site=site).first()
        if link is not None:
            raise ValidationError(_("site %(code)s already takes part in %(study)s")
                                  % {"code": code, "study": study.code}, field="code")
        link = StudySite(study=study, site=site)
        _save(link, actor)
        record_event("site_added", request=request, user=actor, study=study, site=site, record=site.code,
                     summary=f"{site.code} {site.name}")
    return link


def set_site_active(study: Study, code: str, *, active: bool, reason: str, actor: Any,
                    request: Any = None) -> StudySite:
    """Stop (or resume) screening at a site; its patients and records stay."""
    require_manage(actor, study)
    reason = _reason(reason)
    link = StudySite.objects.filter(study=study, site__code=code).select_related("site").first()
    if link is None:
        raise ValidationError(_("site %(code)r is not a site of this study") % {"code": code}, field="code")
    if link.active == active:
        state = _("active") if active else _("inactive")
        raise ValidationError(_("site %(code)s is already %(state)s") % {"code": code, "state": state},
                              field="active")
    link.active = active
    with transaction.atomic():
        _save(link, actor, reason)
        record_event("site_reactivated" if active else "site_deactivated", request=request, user=actor, study=study,
                     site=link.site, record=link.site.code, reason=reason)
    return link


# --------------------------------------------------------------------------- memberships


def members(study: Study, *, include_ended: bool = True) -> list[Membership]:
    qs = Membership.objects.filter(study=study).select_related("user", "site")
    if not include_ended:
        qs = qs.filter(active=True)
    return list(qs.order_by("-active", "user__username", "role", "site__code"))


def _check_role(role: str, actor: Any) -> None:
    if role not in permissions.ROLES:
        raise ValidationError(_("role must be one of %(roles)s, got %(role)r")
                              % {"roles": ", ".join(permissions.ROLES), "role": role}, field="role")
    if role == "study_admin" and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("only administrators appoint or remove study administrators"))


def _site_of(study: Study, code: str | None) -> Site | None:
    if not code:
        return None
    link = None if "\x00" in code else StudySite.objects.filter(study=study, site__code=code, active=True).select_related("site").first()
    if link is None:
        raise ValidationError(_("site %(code)r is not an active site of this study") % {"code": code}, field="site")
    return link.site


def grant_membership(study: Study, *, user: Any, role: str, site: str | None, actor: Any,
                     request: Any = None) -> Membership:
    """Give ``user`` ``role`` at ``site`` (a site code) or at every site (``None``)."""
    require_manage(actor, study)
    _check_role(role, actor)
    site_obj = _site_of(study, site)
    if not user.is_active:
        raise ValidationError(_("%(user)s is deactivated: reactivate the account first") % {"user": user},
                              field="username")
    with transaction.atomic():
        existing = Membership.objects.select_for_update().filter(user=user, study=study, site=site_obj,
                                                                 role=role).first()
        if existing is not None:
            if existing.active:
                raise ValidationError(_("%(user)s already has this role here") % {"user": user}, field="role")
            existing.active = True
            _save(existing, actor, _("membership granted again"))
            _membership_event("member_added", existing, actor, request)
            return existing
        membership = Membership(user=user, study=study, site=site_obj, role=role)
        try:
            with transaction.atomic():
                _save(membership, actor)
        except IntegrityError:
            raise ValidationError(_("%(user)s already has this role here") % {"user": user}, field="role") from None
        _membership_event("member_added", membership, actor, request)
    return membership


def _membership_event(action: str, m: Membership, actor: Any, request: Any, reason: str = "") -> None:
    where = m.site.code if m.site else "*"
    record_event(action, request=request, user=actor, study=m.study, site=m.site, record=m.user.get_username(),
                 summary=f"{m.user.get_username()} {m.role} @ {where}", reason=reason,
                 details={"user": m.user.get_username(), "role": m.role, "site": m.site.code if m.site else None})


def end_membership(study: Study, membership_pk: Any, *, reason: str, actor: Any, request: Any = None) -> Membership:
    """End a membership (kept in the list and the audit trail; the rights stop at once)."""
    require_manage(actor, study)
    reason = _reason(reason)
    membership = _membership(study, membership_pk)
    _check_role(membership.role, actor)
    if not membership.active:
        raise ValidationError(_("this membership has already ended"), field="membership")
    if membership.user_id == getattr(actor, "pk", None) and membership.role == "study_admin":
        raise ValidationError(_("you cannot remove your own study administrator role"), field="membership")
    membership.active = False
    with transaction.atomic():
        _save(membership, actor, reason)
        _membership_event("member_removed", membership, actor, request, reason)
    return membership


def _membership(study: Study, pk: Any) -> Membership:
    try:
        return Membership.objects.select_related("user", "site").get(study=study, pk=int(pk))
    except (Membership.DoesNotExist, TypeError, ValueError):
        from django.http import Http404

        raise Http404("no such membership") from None


# --------------------------------------------------------------------------- accounts


def find_user(username: str) -> Any:
    user = get_user_model().objects.filter(username=clean_text(username, "username", 150)).first()
    if user is None:
        raise ValidationError(_("no user %(username)r: create the account instead") % {"username": username},
                              field="username")
    return user


def _validate_new_account(username: str, email: str, password: str | None) -> None:
    model = get_user_model()
    try:
        model.username_validator(username)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="username") from None
    if not username or len(username) > 150:
        raise ValidationError(_("username must be 1-150 characters"), field="username")
    if model.objects.filter(username=username).exists():
        raise ValidationError(_("user %(username)r already exists: add a membership instead")
                              % {"username": username}, field="username")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise ValidationError(_("%(email)r is not an e-mail address") % {"email": email}, field="email") from None
    if password is not None:
        try:
            password_validation.validate_password(password, model(username=username, email=email))
        except DjangoValidationError as exc:
            raise ValidationError(" ".join(exc.messages), field="password") from None


def create_account(
    study: Study, *, username: str, role: str, site: str | None, actor: Any, first_name: str = "",
    last_name: str = "", email: str = "", password: str | None = None, request: Any = None,
) -> tuple[Any, Membership, AccountLink | None]:
    """Create a user account with its first membership; without ``password``, an invitation link."""
    require_manage(actor, study)
    _check_role(role, actor)
    username = (username or "").strip()
    email = clean_text(email, "email", 254)
    first_name, last_name = clean_text(first_name, "first_name", 150), clean_text(last_name, "last_name", 150)
    _validate_new_account(username, email, password or None)
    _site_of(study, site)
    with transaction.atomic():
        user = get_user_model()(username=username, first_name=first_name, last_name=last_name, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        _save(user, actor, _("account created for %(study)s") % {"study": study.code})
        record_event("user_created", request=request, user=actor, study=study, record=username,
                     summary=f"{username} ({'password set' if password else 'invited'})",
                     details={"invitation": not password})
        membership = grant_membership(study, user=user, role=role, site=site, actor=actor, request=request)
    return user, membership, None if password else account_link(user)


def account_link(user: Any) -> AccountLink:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return AccountLink(user, reverse("password-set", kwargs={"uidb64": uid, "token": token}))


def _check_account_reach(study: Study, user: Any, actor: Any) -> None:
    """Rule 4 of the module docstring."""
    if user.pk == getattr(actor, "pk", None):
        raise ValidationError(_("you cannot change your own account here"), field="username")
    if getattr(actor, "is_superuser", False):
        return
    if user.is_superuser:
        raise PermissionDenied(_("only administrators change an administrator's account"))
    if not Membership.objects.filter(user=user, study=study).exists():
        from django.http import Http404

        raise Http404("no such user in this study")
    others = Study.objects.filter(memberships__user=user, memberships__active=True).exclude(pk=study.pk).distinct()
    for other in others:
        if not permissions.can(actor, other, "manage"):
            raise PermissionDenied(_("%(user)s also works in %(study)s: ask an administrator")
                                   % {"user": user, "study": other.code})


def study_user(study: Study, user_pk: Any, actor: Any) -> Any:
    """A user with a membership (active or ended) in ``study``, else 404 (superusers: any user)."""
    model = get_user_model()
    try:
        user = model.objects.get(pk=int(user_pk))
    except (model.DoesNotExist, TypeError, ValueError):
        from django.http import Http404

        raise Http404("no such user") from None
    if not getattr(actor, "is_superuser", False) and not Membership.objects.filter(user=user, study=study).exists():
        from django.http import Http404

        raise Http404("no such user in this study")
    return user


def set_account_active(study: Study, user: Any, *, active: bool, reason: str, actor: Any, request: Any = None) -> Any:
    """Deactivate (no login, sessions end) or reactivate an account; never deleted."""
    require_manage(actor, study)
    reason = _reason(reason)
    _check_account_reach(study, user, actor)
    if user.is_active == active:
        state = _("active") if active else _("deactivated")
        raise ValidationError(_("%(user)s is already %(state)s") % {"user": user, "state": state}, field="active")
    user.is_active = active
    with transaction.atomic():
        _save(user, actor, reason)
        record_event("user_reactivated" if active else "user_deactivated", request=request, user=actor, study=study,
                     record=user.get_username(), reason=reason)
    return user


def reset_password(study: Study, user: Any, *, reason: str, actor: Any, request: Any = None) -> AccountLink:
    """Make the current password unusable and return a set-password link for the user."""
    require_manage(actor, study)
    reason = _reason(reason)
    _check_account_reach(study, user, actor)
    if not user.is_active:
        raise ValidationError(_("%(user)s is deactivated: reactivate the account first") % {"user": user},
                              field="username")
    user.set_unusable_password()
    with transaction.atomic():
        _save(user, actor, _("password reset: %(reason)s") % {"reason": reason})
        record_event("password_reset", request=request, user=actor, study=study, record=user.get_username(),
                     reason=reason)
    from axes.utils import reset as reset_lockout

    reset_lockout(username=user.get_username())
    return account_link(user)
