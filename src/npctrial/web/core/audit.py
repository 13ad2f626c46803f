"""Audit trail: a model mixin for every clinical record, and readable history entries.

Every model that holds trial data inherits :class:`AuditedModel`:

1. django-simple-history keeps a historical row for each create, update and delete, with the
   user (from the request, or ``instance._history_user`` outside requests), the time and a
   change reason.
2. The first save needs no reason. Every later save or delete must carry one
   (``obj.save(reason="...")`` / ``obj.delete(reason="...")``); otherwise
   :class:`npctrial.errors.ValidationError` (field ``reason``) is raised and nothing is written.
3. ``version`` is incremented on every save; see :mod:`npctrial.web.core.locking` for the
   optimistic-locking helper built on it.
4. ``QuerySet.update()`` and ``bulk_*`` bypass all of this: never use them on trial data.

:func:`audit_entries` turns the history of one or more records into entries with user, time,
action, reason and the old/new value of every changed field (21 CFR Part 11 style audit trail).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords

from npctrial.errors import ValidationError

_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


class AuditedModel(models.Model):
    """Abstract base: simple_history on every subclass, mandatory reason after first save, version."""

    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, reason: str | None = None, **kwargs: Any) -> None:
        if not self._state.adding:
            reason = (reason or getattr(self, "_change_reason", None) or "").strip()
            if not reason:
                raise ValidationError(
                    f"reason for change is required to modify {self._meta.verbose_name} {self.pk}",
                    field="reason",
                )
            self._change_reason = reason
            self.version = (self.version or 0) + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        elif reason:
            self._change_reason = reason
        super().save(*args, **kwargs)

    def delete(self, *args: Any, reason: str | None = None, **kwargs: Any) -> Any:
        reason = (reason or getattr(self, "_change_reason", None) or "").strip()
        if not reason:
            raise ValidationError(
                f"reason for change is required to delete {self._meta.verbose_name} {self.pk}",
                field="reason",
            )
        self._change_reason = reason
        return super().delete(*args, **kwargs)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit trail."""

    record: str
    action: str
    user: str
    at: datetime
    reason: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        diff = "; ".join(f"{c.field}: {c.old!r} -> {c.new!r}" for c in self.changes)
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.user} {self.action} {self.record}" + (
            f" ({self.reason})" if self.reason else ""
        ) + (f": {diff}" if diff else "")


_SKIP = {"version"}


def _entries_for(instance: models.Model) -> list[AuditEntry]:
    label = f"{instance._meta.verbose_name} {instance}"
    records = list(instance.history.all().order_by("history_date", "history_id"))  # type: ignore[attr-defined]
    out: list[AuditEntry] = []
    prev = None
    for rec in records:
        changes: list[FieldChange] = []
        if prev is not None:
            delta = rec.diff_against(prev)
            changes = [
                FieldChange(c.field, c.old, c.new) for c in delta.changes if c.field not in _SKIP
            ]
        user = rec.history_user.get_username() if rec.history_user_id else "system"
        out.append(
            AuditEntry(
                record=label,
                action=_ACTIONS.get(rec.history_type, rec.history_type),
                user=user,
                at=rec.history_date,
                reason=rec.history_change_reason or "",
                changes=tuple(changes),
            )
        )
        prev = rec
    return out


def audit_entries(instances: Iterable[models.Model]) -> list[AuditEntry]:
    """The audit trail of several records, newest first."""
    entries: list[AuditEntry] = []
    for inst in instances:
        if inst is not None and hasattr(inst, "history"):
            entries.extend(_entries_for(inst))
    return sorted(entries, key=lambda e: e.at, reverse=True)


def create_audited(model: type[models.Model], user: Any = None, reason: str | None = None, **fields: Any) -> Any:
    """Create a record with the acting user in its history (also outside a request)."""
    obj = model(**fields)
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user  # type: ignore[attr-defined]
    obj.save(reason=reason) if isinstance(obj, AuditedModel) else obj.save()
    return obj
