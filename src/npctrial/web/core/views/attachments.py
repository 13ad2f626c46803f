"""Attachment pages: upload to a subject (or one of its records), download, void (all audited)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.attachments import (
    check_size,
    open_attachment,
    store_attachment,
    void_attachment,
)
from npctrial.web.core.models import Subject


def file_response(attachment: object, data: bytes) -> HttpResponse:
    """The bytes as a download: never rendered in the EDC's origin (nosniff, sandbox)."""
    response = HttpResponse(data, content_type=attachment.content_type)  # type: ignore[attr-defined]
    name = attachment.filename  # type: ignore[attr-defined]
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@require_POST
def attachment_upload(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "attach")
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationError(_("choose a file"), field="file")
        check_size(upload.size)
        attachment = store_attachment(subject, user=request.user, data=upload.read(), filename=upload.name or "",
                                      kind=request.POST.get("kind", ""), record=request.POST.get("record", ""),
                                      description=request.POST.get("description", ""),
                                      replaces=request.POST.get("replaces") or None,
                                      reason=request.POST.get("reason", ""), request=request)
    except ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s attached (SHA-256 %(sha)s…)") % {"name": attachment.filename,
                                                                             "sha": attachment.sha256[:12]})
    return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)


def attachment_download(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    try:
        attachment, data = open_attachment(request.user, study_pk, pk, request=request)
    except ValidationError as exc:
        return HttpResponse(str(exc), status=410, content_type="text/plain; charset=utf-8")
    return file_response(attachment, data)


@require_POST
def attachment_void(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    try:
        attachment = void_attachment(request.user, study_pk, pk, reason=request.POST.get("reason", ""),
                                     request=request)
    except ValidationError as exc:
        messages.error(request, str(exc))
        return redirect("home")
    messages.success(request, _("%(name)s voided") % {"name": attachment.filename})
    return redirect("subject-detail", study_pk=attachment.study_id, pk=attachment.subject_id)
