"""Investigator sign-off (e-signature) and data freeze/lock of subjects and the study."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.clinical import locks
from npctrial.web.clinical.views.common import subject_for
from npctrial.web.core import permissions


@require_POST
def sign(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = subject_for(request, study_pk, pk, "sign_casebook")
    try:
        locks.sign_casebook(subject, request.user, request.POST.get("password", ""))
    except ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Casebook of %(subject)s signed") % {"subject": subject.subject_id})
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


@require_POST
def subject_lock(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = subject_for(request, study_pk, pk, "lock")
    try:
        if request.POST.get("action") == "unlock":
            locks.unlock(study, request.user, request.POST.get("reason", ""), subject)
            messages.success(request, _("%(subject)s unlocked") % {"subject": subject.subject_id})
        else:
            locks.lock(study, request.user, subject)
            messages.success(request, _("%(subject)s locked") % {"subject": subject.subject_id})
    except ValidationError as exc:
        messages.error(request, str(exc))
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


@require_POST
def study_lock(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "lock")
    if permissions.visible_site_ids(request.user, study) is not None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("locking the whole study needs a study-wide role")
    try:
        if request.POST.get("action") == "unlock":
            locks.unlock(study, request.user, request.POST.get("reason", ""))
            messages.success(request, _("Study %(study)s unlocked") % {"study": study.code})
        else:
            locks.lock(study, request.user)
            messages.success(request, _("Study %(study)s locked") % {"study": study.code})
    except ValidationError as exc:
        messages.error(request, str(exc))
    return redirect("clinical-home", study_pk=study.pk)
