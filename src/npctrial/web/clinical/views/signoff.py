"""Investigator sign-off (e-signature) and data freeze/lock of subjects and the study.

Signing and locking are confirmed first (:mod:`npctrial.web.core.confirm`): a GET or an
unconfirmed POST shows what will happen; unlocking (with a reason) is not irreversible and acts
at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs, locks
from npctrial.web.clinical.views.common import subject_for
from npctrial.web.core import permissions
from npctrial.web.core.confirm import Confirmation, ConfirmInput, confirmed, render_confirmation
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.languages import display


def _open_queries(subjects: Any) -> int:
    return DataQuery.objects.filter(subject__in=subjects).exclude(status="closed").count()


def _sign_confirmation(request: HttpRequest, study: Any, subject: Subject) -> Confirmation:
    records = [r for r in crfs.subject_records(subject) if getattr(r, "voided_at", None) is None]
    consequences = [
        _("You sign the casebook of %(subject)s with your password: “%(statement)s”") % {
            "subject": subject.subject_id, "statement": locks.SIGNATURE_STATEMENT},
        _("The signature covers the %(n)s records as they are now (SHA-256 over their versions); any later "
          "change leaves the casebook unsigned until it is signed again.") % {"n": len(records)},
    ]
    n_open = _open_queries([subject])
    if n_open:
        consequences.append(_("%(n)s data queries of this subject are still open.") % {"n": n_open})
    problems = [_("the casebook is locked")] if locks.is_locked(subject) else []
    return Confirmation(title=_("Sign the casebook of %(subject)s?") % {"subject": subject.subject_id},
                        consequences=consequences, action=request.path, button=_("Sign casebook"),
                        cancel_url=reverse("casebook", kwargs={"study_pk": study.pk, "pk": subject.pk}),
                        inputs=(ConfirmInput("password", _("Your password"), "password", "current-password"),),
                        problems=problems)


@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = subject_for(request, study_pk, pk, "sign_casebook")
    if not confirmed(request):
        return render_confirmation(request, study, _sign_confirmation(request, study, subject))
    try:
        locks.sign_casebook(subject, request.user, request.POST.get("password", ""), request=request)
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
    else:
        messages.success(request, _("Casebook of %(subject)s signed") % {"subject": subject.subject_id})
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


def _lock_confirmation(request: HttpRequest, study: Any, subject: Subject | None) -> Confirmation:
    if subject is not None:
        what, subjects = subject.subject_id, [subject]
        cancel = reverse("casebook", kwargs={"study_pk": study.pk, "pk": subject.pk})
        signed = locks.signature_current(subject) is not None
        consequences = [_("No record of %(what)s can be created, changed or voided: every edit is refused.")
                        % {"what": what}]
        if not signed:
            consequences.append(_("The casebook is not signed (or changed since it was signed)."))
    else:
        what, subjects = study.code, list(Subject.objects.filter(study=study))
        cancel = reverse("clinical-home", kwargs={"study_pk": study.pk})
        consequences = [_("No record of the %(n)s subjects of study %(what)s can be created, changed or voided.")
                        % {"n": len(subjects), "what": what}]
    n_open = _open_queries(subjects)
    if n_open:
        consequences.append(_("%(n)s data queries are still open; they can be answered but data cannot change.")
                            % {"n": n_open})
    consequences.append(_("Unlocking needs a data manager or study admin and a reason, kept in the audit trail."))
    return Confirmation(title=_("Lock %(what)s?") % {"what": what}, consequences=consequences,
                        action=request.path, button=_("Lock"), cancel_url=cancel)


def _lock_or_unlock(request: HttpRequest, study: Any, subject: Subject | None) -> HttpResponse | None:
    """Unlock at once (with a reason); lock only when confirmed. None: the action was done."""
    name = subject.subject_id if subject is not None else _("Study %(code)s") % {"code": study.code}
    try:
        if request.method == "POST" and request.POST.get("action") == "unlock":
            locks.unlock(study, request.user, request.POST.get("reason", ""), subject, request=request)
            messages.success(request, _("%(what)s unlocked") % {"what": name})
        elif not confirmed(request):
            return render_confirmation(request, study, _lock_confirmation(request, study, subject))
        else:
            locks.lock(study, request.user, subject, request=request)
            messages.success(request, _("%(what)s locked") % {"what": name})
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
    return None


@require_http_methods(["GET", "POST"])
def subject_lock(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = subject_for(request, study_pk, pk, "lock")
    return _lock_or_unlock(request, study, subject) or redirect("casebook", study_pk=study.pk, pk=subject.pk)


@require_http_methods(["GET", "POST"])
def study_lock(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "lock")
    if permissions.visible_site_ids(request.user, study) is not None:
        raise PermissionDenied(_("locking the whole study needs a study-wide role"))
    return _lock_or_unlock(request, study, None) or redirect("clinical-home", study_pk=study.pk)
