"""Optimistic locking for forms: the second of two concurrent edits gets a conflict, never an overwrite.

Usage in any app (models inherit :class:`npctrial.web.core.audit.AuditedModel`, which has ``version``)::

    try:
        obj = save_with_version(obj, expected_version=form.cleaned_data["version"],
                                changes={"weight_kg": 64.0}, reason="typo", user=request.user)
    except EditConflict as conflict:
        render(..., {"conflict": conflict})   # conflict.rows: field, submitted, current

Steps: (1) open a transaction; (2) lock the row (``SELECT ... FOR UPDATE``; on SQLite the
IMMEDIATE transaction takes the write lock); (3) compare the stored ``version`` with the one the
form was rendered from; (4) if different, raise :class:`EditConflict` carrying both versions;
(5) otherwise apply the changes and save with the reason (the version is incremented by the save).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction

from npctrial.errors import NpcTrialError

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class ConflictRow:
    field: str
    submitted: Any
    current: Any

    @property
    def differs(self) -> bool:
        return self.submitted != self.current


class EditConflict(NpcTrialError):
    """Raised when the record changed since the form was loaded."""

    def __init__(self, record: models.Model, expected_version: int, rows: list[ConflictRow]):
        self.record = record
        self.expected_version = expected_version
        self.current_version = record.version  # type: ignore[attr-defined]
        self.rows = rows
        super().__init__(
            f"{record._meta.verbose_name} was changed by someone else (you edited version "
            f"{expected_version}, it is now version {self.current_version}); nothing was saved"
        )


def save_with_version(
    instance: M,
    *,
    expected_version: int,
    changes: dict[str, Any],
    reason: str,
    user: Any = None,
) -> M:
    """Apply ``changes`` to ``instance`` if its stored version is still ``expected_version``."""
    model = type(instance)
    with transaction.atomic():
        current = model._base_manager.select_for_update().get(pk=instance.pk)  # whatever the default manager hides
        if current.version != expected_version:
            rows = [ConflictRow(k, v, getattr(current, k)) for k, v in changes.items()]
            raise EditConflict(current, expected_version, rows)
        for key, value in changes.items():
            setattr(current, key, value)
        if user is not None and getattr(user, "is_authenticated", False):
            current._history_user = user
        current.save(reason=reason)
    return current
