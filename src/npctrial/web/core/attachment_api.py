"""Attachment routes of /api/v1 (tag ``attachments``): list, upload, download, void.

Same service as the pages (:mod:`npctrial.web.core.attachments`): ``attach`` to upload or void,
``view_attachments`` to list and download, always within the user's sites (404 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.attachments import (
    check_size,
    open_attachment,
    store_attachment,
    visible_attachments,
    void_attachment,
)
from npctrial.web.core.models import Subject

router = Router(tags=["attachments"])


class AttachmentOut(Schema):
    id: int
    subject_id: str
    record: str
    kind: str
    description: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str | None
    uploaded_at: datetime
    voided: bool
    void_reason: str
    superseded_by: int | None


class VoidIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


def _out(a: Any) -> dict[str, Any]:
    return {"id": a.pk, "subject_id": a.subject.subject_id, "record": a.record, "kind": a.kind,
            "description": a.description, "filename": a.filename, "content_type": a.content_type, "size": a.size,
            "sha256": a.sha256, "uploaded_by": a.uploaded_by.get_username() if a.uploaded_by else None,
            "uploaded_at": a.uploaded_at, "voided": a.voided, "void_reason": a.void_reason,
            "superseded_by": a.superseded_by_id}


@router.get("/studies/{study_id}/subjects/{subject_pk}/attachments", response=list[AttachmentOut])
def list_attachments(request: HttpRequest, study_id: int, subject_pk: int) -> list[dict[str, Any]]:
    _study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk,
                                                 "view_attachments")
    return [_out(a) for a in visible_attachments(request.user, subject)]


@router.post("/studies/{study_id}/subjects/{subject_pk}/attachments", response={201: AttachmentOut})
def upload_attachment(request: HttpRequest, study_id: int, subject_pk: int,
                      file: UploadedFile | None = File(None), kind: str = Form(""),  # noqa: B008
                      record: str = Form(""), description: str = Form(""),  # noqa: B008
                      replaces: str = Form(""), reason: str = Form("")) -> Status:  # noqa: B008
    """Upload a PDF, PNG, JPEG or TIFF (multipart ``file``); ``record`` "" (the subject), consent,
    screening or ``<form>:<id>``; ``replaces`` (with a ``reason``): the attachment it supersedes."""
    _study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk, "attach")
    if file is None:
        raise ValidationError(_("send the file (multipart field 'file')"), field="file")
    check_size(file.size)
    attachment = store_attachment(subject, user=request.user, data=file.read(), filename=file.name or "", kind=kind,
                                  record=record, description=description, replaces=replaces or None, reason=reason,
                                  request=request)
    return Status(201, _out(attachment))


@router.get("/studies/{study_id}/attachments/{attachment_id}")
def download_attachment(request: HttpRequest, study_id: int, attachment_id: int) -> HttpResponse:
    """The file itself (a download; 422 if voided or if the stored bytes no longer match the SHA-256)."""
    from npctrial.web.core.views.attachments import file_response

    attachment, data = open_attachment(request.user, study_id, attachment_id, request=request)
    return file_response(attachment, data)


@router.post("/studies/{study_id}/attachments/{attachment_id}/void", response=AttachmentOut)
def void_attachment_route(request: HttpRequest, study_id: int, attachment_id: int, payload: VoidIn) -> dict[str, Any]:
    return _out(void_attachment(request.user, study_id, attachment_id, reason=payload.reason, request=request))
