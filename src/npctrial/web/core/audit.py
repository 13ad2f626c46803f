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
action, reason and the old/new value of every changed field, derived fields included; a creation
lists the initial value of every field filled in (21 CFR Part 11 style audit trail). Records are
named for people (:func:`record_label`: "Baseline CCRT-GZ-001 2026-01-06 #26"), related records
by their names and users by username. Non-record events (logins, signatures, exports ...) are
audit events (:mod:`npctrial.web.core.events`); all of it is hash-chained
(:mod:`npctrial.web.core.audit_chain`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords

from npctrial.errors import ValidationError

_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


class AuditedModel(models.Model):
    """Abstract base: simple_history on every subclass, mandatory reason after first save, version."""

    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return default_label(self)

    def save(self, *args: Any, reason: str | None = None, **kwargs: Any) -> None:
        if not self._state.adding:
            reason = (reason or getattr(self, "_change_reason", None) or "").strip()
            if not reason:
                raise ValidationError(
                    _("reason for change is required to modify %(record)s %(pk)s") % {"record": self._meta.verbose_name,
                                                                                    "pk": self.pk},
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
                _("reason for change is required to delete %(record)s %(pk)s") % {"record": self._meta.verbose_name,
                                                                                    "pk": self.pk},
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


_SKIP = {"id", "version"}

#: never shown in any audit view, on any model: a randomisation seed would reveal every allocation
SECRET_FIELD_NAMES = frozenset({"seed"})
#: shown only to users who may see allocations (:mod:`npctrial.web.core.blinding`): each of these
#: gives the arm away (the chain hashes too: with two arms, both candidates can be hashed)
ALLOCATION_FIELDS: dict[str, frozenset[str]] = {
    "core.Randomisation": frozenset({"arm", "strata", "details", "hash_before", "hash_after"}),
    "core.AllocationSequence": frozenset({"state_hash"}),
    "core.AllocationSegment": frozenset({"hash_before", "hash_after"}),
    "core.LostAllocation": frozenset({"arm", "strata", "details", "hash_before", "hash_after"}),
}
HIDDEN = "(concealed)"


def hidden_fields(model: type[models.Model], allocation_visible: bool) -> frozenset[str]:
    """Fields of ``model`` whose values the audit trail replaces by :data:`HIDDEN` for this viewer."""
    label = model._meta.label
    hidden = frozenset(f.name for f in model._meta.concrete_fields if f.name in SECRET_FIELD_NAMES)
    if not allocation_visible:
        hidden = hidden | ALLOCATION_FIELDS.get(label, frozenset())
    return hidden


def record_label(instance: models.Model) -> str:
    """A human-readable name of a record: "Baseline CCRT-GZ-001 2026-01-06 #26", never "Baseline object (26)"."""
    verbose = str(instance._meta.verbose_name)
    text = str(instance)
    if text.lower().startswith(verbose.lower()):
        return text[:1].upper() + text[1:]
    return f"{verbose[:1].upper()}{verbose[1:]} {text}"


def _first_date(instance: models.Model) -> Any:
    for f in instance._meta.concrete_fields:
        if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
            value = getattr(instance, f.attname, None)
            if value is not None:
                return value
    return None


def default_label(instance: models.Model) -> str:
    """The subject, the record's first date and its id (for models without their own ``__str__``)."""
    parts: list[str] = []
    if any(f.name == "subject" for f in instance._meta.concrete_fields):
        subject_id = getattr(instance, "subject_id", None)
        if subject_id is not None:
            parts.append(str(instance.subject))  # type: ignore[attr-defined]
    day = _first_date(instance)
    if day is not None:
        parts.append(day.isoformat() if hasattr(day, "isoformat") else str(day))
    parts.append(f"#{instance.pk}")
    return " ".join(parts)


class _Display:
    """Readable values for the trail: related records by name (usernames for users), cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[type, Any], str] = {}

    def value(self, field: Any, value: Any) -> Any:
        if value is None or not getattr(field, "is_relation", False) or field.related_model is None:
            return value
        key = (field.related_model, value)
        if key not in self._cache:
            obj = field.related_model._default_manager.filter(pk=value).first()
            if obj is None:
                self._cache[key] = f"#{value}"
            elif hasattr(obj, "get_username"):
                self._cache[key] = obj.get_username()
            else:
                self._cache[key] = str(obj)
        return self._cache[key]


def history_changes(rec: Any, prev: Any, display: _Display | None = None,
                    hidden: frozenset[str] = frozenset()) -> tuple[FieldChange, ...]:
    """Field changes of one historical row: every field (derived ones too) against the previous row;
    for a creation, the initial value of every field that was filled in. Values of ``hidden``
    fields are replaced by :data:`HIDDEN` (that they changed stays visible)."""
    display = display or _Display()
    out: list[FieldChange] = []
    for f in rec.tracked_fields:
        if f.name in _SKIP:
            continue
        new = getattr(rec, f.attname)
        if prev is None:
            if rec.history_type == "+" and new not in (None, "", [], {}):
                out.append(FieldChange(f.name, None, HIDDEN if f.name in hidden else display.value(f, new)))
            continue
        old = getattr(prev, f.attname)
        if old != new:
            if f.name in hidden:
                out.append(FieldChange(f.name, HIDDEN, HIDDEN))
            else:
                out.append(FieldChange(f.name, display.value(f, old), display.value(f, new)))
    return tuple(out)


def _entries_for(instance: models.Model, display: _Display | None = None,
                 allocation_visible: bool = False) -> list[AuditEntry]:
    label = record_label(instance)
    hidden = hidden_fields(type(instance), allocation_visible)
    records = list(instance.history.all().order_by("history_date", "history_id"))  # type: ignore[attr-defined]
    out: list[AuditEntry] = []
    prev = None
    display = display or _Display()
    for rec in records:
        user = rec.history_user.get_username() if rec.history_user_id else "system"
        out.append(
            AuditEntry(
                record=label,
                action=_ACTIONS.get(rec.history_type, rec.history_type),
                user=user,
                at=rec.history_date,
                reason=rec.history_change_reason or "",
                changes=history_changes(rec, prev, display, hidden),
            )
        )
        prev = rec
    return out


def audit_entries(instances: Iterable[models.Model], allocation_visible: bool = False) -> list[AuditEntry]:
    """The audit trail of several records, newest first.

    Allocation fields (arm, strata, chain hashes) are concealed unless ``allocation_visible`` (the
    viewer's blinding, :func:`npctrial.web.core.blinding.allocation_visible`); the randomisation
    seed never appears.
    """
    entries: list[AuditEntry] = []
    display = _Display()
    for inst in instances:
        if inst is not None and hasattr(inst, "history"):
            entries.extend(_entries_for(inst, display, allocation_visible))
    return sorted(entries, key=lambda e: e.at, reverse=True)


def create_audited(model: type[models.Model], user: Any = None, reason: str | None = None, **fields: Any) -> Any:
    """Create a record with the acting user in its history (also outside a request)."""
    obj = model(**fields)
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user  # type: ignore[attr-defined]
    obj.save(reason=reason) if isinstance(obj, AuditedModel) else obj.save()
    return obj
