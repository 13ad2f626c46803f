"""Attachments: signed consent forms and source documents of a subject, or of one of its records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from npctrial.web.core.audit import AuditedModel

ATTACHMENT_KINDS = [("signed_consent", _("Signed consent form")), ("source_document", _("Source document")),
                    ("other", _("Other document"))]


class Attachment(AuditedModel):
    """A stored file (PDF or image) with its SHA-256; the bytes live outside the database and the web root.

    ``record`` is ``""`` for the subject, ``"consent"``, ``"screening"`` or a CRF record
    (``"<form>:<id>"``). Attachments are never deleted: a wrong upload is voided with a reason,
    a newer version (e.g. the re-signed consent) supersedes it with a reason (``voided`` set,
    ``superseded_by`` naming the new one); neither is served any more, both stay listed.
    """

    study = models.ForeignKey("core.Study", on_delete=models.PROTECT, related_name="attachments")
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="attachments")
    subject = models.ForeignKey("core.Subject", on_delete=models.PROTECT, related_name="attachments")
    record = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=20, choices=ATTACHMENT_KINDS)
    description = models.CharField(max_length=300, blank=True)
    filename = models.CharField(max_length=200, help_text=_("the uploaded file's name"))
    content_type = models.CharField(max_length=60, help_text=_("sniffed from the content"))
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=200, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    voided = models.BooleanField(default=False)
    void_reason = models.TextField(blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="supersedes")

    class Meta:
        app_label = "core"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_kind_display()})"


def _remove_bytes(sender: type, instance: Attachment, **kwargs: object) -> None:
    """When an attachment row is deleted (only by wiping UAT test records), its bytes go too, after commit."""
    from django.db import transaction

    from npctrial.web.core.attachments import attachment_dir

    path = attachment_dir() / instance.storage_name
    transaction.on_commit(lambda: path.unlink(missing_ok=True))


models.signals.post_delete.connect(_remove_bytes, sender=Attachment, dispatch_uid="npctrial-attachment-bytes")
