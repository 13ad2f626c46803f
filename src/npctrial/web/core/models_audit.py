"""Audit models: study-wide audit events and the seals of the tamper-evident hash chain.

* :class:`AuditEvent` records what is not a change of a record: logins and failed logins,
  e-signatures and failed signature attempts, exports downloaded, restores, unblinding, locks,
  randomisations, amendments... Write them with :func:`npctrial.web.core.events.record_event`.
  Events are append-only: saving an existing event or deleting one raises.
* :class:`AuditSeal` is one link of the hash chain over every audit row (historical rows of every
  audited model, and audit events); see :mod:`npctrial.web.core.audit_chain`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from npctrial.errors import ValidationError


def _now() -> Any:
    return timezone.now()


class AuditEvent(models.Model):
    """One event of the study-wide audit log (append-only)."""

    at = models.DateTimeField(default=_now, db_index=True)
    action = models.CharField(max_length=40, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    username = models.CharField(max_length=150, blank=True, help_text=_("the username as given (failed logins too)"))
    study = models.ForeignKey("core.Study", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("core.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # no database constraint: the event keeps the subject's id after test (UAT) records are wiped
    subject = models.ForeignKey("core.Subject", null=True, blank=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    record = models.CharField(max_length=200, blank=True, help_text=_("what the event is about"))
    form = models.CharField(max_length=80, blank=True)
    summary = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    concealed = models.JSONField(default=dict, blank=True,
                                 help_text=_("allocation details, shown only to roles that may see allocations"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["study", "at"], name="core_auditevent_study_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.record}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(gettext("audit events are append-only: an event cannot be changed"), field="audit")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError(gettext("audit events are append-only: an event cannot be deleted"), field="audit")


class AuditSeal(models.Model):
    """A link of the hash chain: the digest of one audit row and, once sealed, its chain position.

    ``digest`` is written in the transaction that writes the row; ``position`` and ``chain_hash``
    (SHA-256 over the previous link's hash, the position, the table, the row id and the digest)
    right after that transaction commits.
    """

    table = models.CharField(max_length=100)
    row_id = models.BigIntegerField()
    digest = models.CharField(max_length=64)
    position = models.BigIntegerField(null=True, blank=True, unique=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=_now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "row_id"], name="core_auditseal_one_per_row")]
        indexes = [models.Index(fields=["id"], condition=models.Q(position__isnull=True),
                                name="core_auditseal_pending")]

    def __str__(self) -> str:
        return f"seal {self.position} {self.table}#{self.row_id}"
