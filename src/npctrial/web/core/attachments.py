"""Attachments: upload (sniffed, size-checked, checksummed), list and serve signed consent forms and
source documents, only to the roles and sites allowed.

Upload (:func:`store_attachment`, ``attach`` right at the subject's site):

1. Size: not empty, at most ``NPCTRIAL_ATTACHMENT_MAX_MB`` (20 MB by default).
2. Type from the content, not the name: PDF (``%PDF-``), PNG, JPEG, TIFF. The file's extension
   must agree with the sniffed type (a ``.pdf`` that is a PNG is refused); PDFs with JavaScript or
   launch actions are refused.
3. The record (``""`` the subject, ``"consent"``, ``"screening"``, or a CRF record ``"<form>:<id>"``)
   must be one of the subject's (:func:`npctrial.web.core.queries.query_fields`); a record of a form
   the user's roles cannot read is refused.
4. ``replaces`` (optional, with a reason): a visible, not yet voided attachment of the same subject
   that the new file supersedes (e.g. the consent re-signed after an amendment); the old one is
   voided with the reason and ``superseded_by`` set, in the same transaction.
5. The bytes are written under ``NPCTRIAL_VAR_DIR/attachments`` (outside the web root) with a random
   name; the row keeps the SHA-256, size, sniffed type and the original name. Nothing is ever
   deleted (only wiping a study's UAT test records removes rows and their files).
Serving (:func:`open_attachment`, ``view_attachments`` at the subject's site; 404 outside the user's
sites, whatever the id): the SHA-256 is checked again, the file is sent as a download
(``nosniff``, sandboxed), and the download is an audit event. Voided attachments are not served.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.audit import create_audited
from npctrial.web.core.events import record_event
from npctrial.web.core.models import Subject
from npctrial.web.core.models_attachments import ATTACHMENT_KINDS, Attachment
from npctrial.web.core.text_input import clean_text

__all__ = ["MANIFEST_COLUMNS", "attachment_dir", "attachment_manifest", "check_size", "open_attachment", "sniff_type",
           "store_attachment", "visible_attachments", "void_attachment"]

_TYPES = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg"),
          "image/tiff": (".tif", ".tiff")}
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile)\b")


def attachment_dir() -> Path:
    return Path(getattr(settings, "NPCTRIAL_ATTACHMENT_DIR", Path(settings.VAR_DIR) / "attachments"))


def max_bytes() -> int:
    return int(float(getattr(settings, "NPCTRIAL_ATTACHMENT_MAX_MB", 20)) * 1_000_000)


def check_size(size: int | None) -> None:
    """Step 1 of the module docstring (also called on the upload's declared size, before reading it)."""
    if size is not None and size > max_bytes():
        raise ValidationError(_("the file is %(mb)s MB; at most %(max)s MB are accepted")
                              % {"mb": format(size / 1e6, ".3g"), "max": format(max_bytes() / 1e6, "g")},
                              field="file")


def sniff_type(head: bytes) -> str | None:
    """The content type from the first bytes (step 2), or None for anything else."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    return None


def _check_content(data: bytes, filename: str) -> str:
    """Steps 1-2 of the module docstring; returns the sniffed content type."""
    if not data:
        raise ValidationError(_("the file is empty"), field="file")
    check_size(len(data))
    kind = sniff_type(data[:16])
    if kind is None:
        raise ValidationError(_("only PDF, PNG, JPEG or TIFF files are accepted (the content is none of these)"),
                              field="file")
    suffix = Path(filename).suffix.lower()
    if suffix not in _TYPES[kind]:
        raise ValidationError(_("the file is named %(name)r but its content is %(type)s")
                              % {"name": filename, "type": kind}, field="file")
    if kind == "application/pdf" and _PDF_ACTIVE.search(data):
        raise ValidationError(_("PDFs with scripts, launch actions or embedded files are refused"), field="file")
    return kind


def _check_record(user: Any, subject: Subject, record: str) -> str:
    """Step 3 of the module docstring."""
    from npctrial.web.core.form_access import form_level
    from npctrial.web.core.queries import query_fields

    record = clean_text(record, "record", 80)
    if record in ("", "consent", "screening"):
        if record == "consent" and not hasattr(subject.screening, "consent"):
            raise ValidationError(_("the subject has no consent record"), field="record")
        return record
    query_fields(subject, record)  # ValidationError for a record that is not the subject's
    form = record.partition(":")[0]
    if form_level(user, subject.study, form, subject.site) == "none":
        raise ValidationError(_("your roles here give no access to the form %(form)s") % {"form": form},
                              field="record")
    return record


def _replaced(user: Any, subject: Subject, replaces: Any, reason: str) -> Attachment | None:
    """Step 4 of the module docstring: the attachment superseded by the upload, checked."""
    if replaces in (None, ""):
        return None
    try:
        old = subject.attachments.select_for_update().get(pk=int(replaces))
    except (ValueError, TypeError, Attachment.DoesNotExist):
        raise ValidationError(_("attachment %(id)s is not one of this subject's") % {"id": replaces},
                              field="replaces") from None
    if _form_hidden(user, old):
        raise ValidationError(_("attachment %(id)s is not one of this subject's") % {"id": replaces},
                              field="replaces")
    if old.voided:
        raise ValidationError(_("attachment %(id)s is already voided or superseded") % {"id": old.pk},
                              field="replaces")
    if not clean_text(reason, "reason", 2000):
        raise ValidationError(_("a reason is required to supersede an attachment"), field="reason")
    return old


def store_attachment(subject: Subject, *, user: Any, data: bytes, filename: str, kind: str, record: str = "",
                     description: str = "", replaces: Any = None, reason: str = "",
                     request: Any = None) -> Attachment:
    """Steps 1-5 of the module docstring."""
    permissions.require(user, subject.study, "attach", subject.site)
    if kind not in dict(ATTACHMENT_KINDS):
        raise ValidationError(_("kind must be one of %(kinds)s") % {"kinds": ", ".join(dict(ATTACHMENT_KINDS))},
                              field="kind")
    name = clean_text(Path(filename or "").name, "file", 200)
    description = clean_text(description, "description", 300)
    content_type = _check_content(data, name)
    record = _check_record(user, subject, record)
    digest = hashlib.sha256(data).hexdigest()
    storage_name = f"{subject.study_id}/{digest[:2]}/{secrets.token_hex(16)}"
    path = attachment_dir() / storage_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stored = False
    try:
        with transaction.atomic():
            old = _replaced(user, subject, replaces, reason)
            attachment = create_audited(
                Attachment, user, study=subject.study, site=subject.site, subject=subject, record=record, kind=kind,
                description=description, filename=name, content_type=content_type,
                size=len(data), sha256=digest, storage_name=storage_name,
                uploaded_by=user if getattr(user, "is_authenticated", False) else None)
            record_event("attachment_uploaded", request=request, user=user, subject=subject, record=name,
                         form=record.partition(":")[0], summary=f"{kind} {name} ({len(data)} bytes)",
                         details={"sha256": digest, "content_type": content_type, "record": record,
                                  "attachment": attachment.pk, "replaces": old.pk if old else None})
            if old is not None:
                _withdraw(old, user, reason.strip(), request, superseded_by=attachment)
        stored = True
    finally:
        if not stored:  # the row was not written: remove the bytes written for it
            path.unlink(missing_ok=True)
    return attachment


def _withdraw(attachment: Attachment, user: Any, reason: str, request: Any,
              superseded_by: Attachment | None = None) -> None:
    """Void (or supersede) one attachment: kept with its history, no longer served; an audit event."""
    attachment.voided, attachment.void_reason, attachment.superseded_by = True, reason, superseded_by
    attachment._history_user = user
    label = f"superseded by #{superseded_by.pk}: {reason}" if superseded_by else f"voided: {reason}"
    attachment.save(reason=label)
    record_event("attachment_superseded" if superseded_by else "attachment_voided", request=request, user=user,
                 subject=attachment.subject, record=attachment.filename, reason=reason,
                 details={"attachment": attachment.pk,
                          "superseded_by": superseded_by.pk if superseded_by else None})


def _form_hidden(user: Any, attachment: Attachment) -> bool:
    """Attached to a record of a form the user's roles cannot read (per-form access)."""
    from npctrial.web.core.form_access import form_level

    form = attachment.record.partition(":")[0] if ":" in attachment.record else ""
    return bool(form) and form_level(user, attachment.study, form, attachment.site) == "none"


def _visible(user: Any, attachment: Attachment) -> None:
    permissions.require(user, attachment.study, "view_attachments", attachment.site)
    if _form_hidden(user, attachment):
        from django.http import Http404

        raise Http404("no such attachment")


def visible_attachments(user: Any, subject: Subject) -> list[Attachment]:
    """The subject's attachments the user may see (empty without ``view_attachments`` there)."""
    if not permissions.can(user, subject.study, "view_attachments", subject.site):
        return []
    return [a for a in subject.attachments.select_related("uploaded_by", "study", "site").order_by("-uploaded_at")
            if not _form_hidden(user, a)]


def open_attachment(user: Any, study_pk: Any, attachment_pk: Any, request: Any = None) -> tuple[Attachment, bytes]:
    """The attachment and its bytes, checked against the stored SHA-256 (serving rules)."""
    _study, attachment = permissions.get_object_for(user, study_pk, Attachment.objects.select_related("study", "site"),
                                                    attachment_pk, "view")
    _visible(user, attachment)
    if attachment.voided:
        raise ValidationError(_("this attachment was voided: %(reason)s") % {"reason": attachment.void_reason},
                              field="attachment")
    path = attachment_dir() / attachment.storage_name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(_("the stored file is missing (restore it from the backup of the attachments "
                                "folder)"), field="attachment") from None
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise ValidationError(_("the stored file no longer matches its SHA-256: it is not served"),
                              field="attachment")
    record_event("attachment_downloaded", request=request, user=user, subject=attachment.subject,
                 record=attachment.filename, form=attachment.record.partition(":")[0],
                 details={"attachment": attachment.pk, "sha256": attachment.sha256})
    return attachment, data


def void_attachment(user: Any, study_pk: Any, attachment_pk: Any, *, reason: str, request: Any = None) -> Attachment:
    """Withdraw a wrong upload (e.g. the consent of another patient): kept, no longer served."""
    _study, attachment = permissions.get_object_for(user, study_pk, Attachment.objects.all(), attachment_pk, "attach")
    if _form_hidden(user, attachment):
        from django.http import Http404

        raise Http404("no such attachment")
    text = clean_text(reason, "reason", 2000)
    if not text:
        raise ValidationError(_("a reason is required"), field="reason")
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if attachment.voided:
            raise ValidationError(_("this attachment is already voided"), field="attachment")
        _withdraw(attachment, user, text, request)
    return attachment


#: Columns of the attachments manifest (the export lists the files; the files are downloaded one by one).
MANIFEST_COLUMNS = ("attachment", "subject_id", "site", "record", "kind", "filename", "description",
                    "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "status", "superseded_by",
                    "void_reason")
_MANIFEST_TEXT = ("filename", "description", "void_reason", "uploaded_by")


def attachment_manifest(user: Any, study: Any, deid: Any = None) -> tuple[list[dict[str, Any]], list[str], int]:
    """(rows, columns, hidden): every attachment of the user's sites, voided and superseded ones included.

    Attachments of records on forms the user's roles cannot read are not listed; ``hidden``
    counts them (the export page says so). De-identified: file names, descriptions, reasons and
    uploaders are dropped, the upload date is shifted with the subject's other dates.
    """
    rows: list[dict[str, Any]] = []
    hidden = 0
    qs = permissions.scope(user, study, Attachment.objects.all()).select_related("subject", "site", "uploaded_by", "study")
    for a in qs.order_by("subject__subject_id", "uploaded_at", "pk"):
        if _form_hidden(user, a):
            hidden += 1
            continue
        status = "superseded" if a.superseded_by_id else "voided" if a.voided else "current"
        rows.append({"attachment": a.pk, "subject_id": a.subject.subject_id, "site": a.site.code,
                     "record": a.record, "kind": a.kind, "filename": a.filename, "description": a.description,
                     "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
                     "uploaded_by": a.uploaded_by.get_username() if a.uploaded_by else "",
                     "uploaded_at": a.uploaded_at.date().isoformat() if deid else a.uploaded_at.isoformat(),
                     "status": status, "superseded_by": a.superseded_by_id or "", "void_reason": a.void_reason})
    columns = list(MANIFEST_COLUMNS)
    if deid is not None:
        rows = list(deid.rows(rows, "subject_id", ("uploaded_at",), _MANIFEST_TEXT))
        columns = deid.columns(columns, ("uploaded_at",), _MANIFEST_TEXT)
    return rows, columns, hidden
