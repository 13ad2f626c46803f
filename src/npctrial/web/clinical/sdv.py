"""Source-data verification (SDV) by a monitor: per CRF record, and per critical field.

The protocol names the fields verified one by one (``schedule.critical_fields``, per form). A
monitor compares the record with the source documents and:

1. verifies any of the form's critical fields alone (partial SDV), or
2. verifies the whole record: every critical field of the form is then checked at the same time
   (or was verified already at this version); a record with unchecked critical fields is refused,
   naming them.

A verification is of one record *version*: the version the monitor read must be the current one
(else ValidationError, the record changed meanwhile), and once the record is changed the
verification no longer counts (the grid shows the cell as not verified until it is verified
again). Verifications are audited rows, never edited; voided records are not verified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs
from npctrial.web.clinical.models import SourceVerification
from npctrial.web.core import protocols
from npctrial.web.core.audit import create_audited

__all__ = ["SdvState", "critical_fields", "sdv_state", "verify_source"]


@lru_cache(maxsize=32)
def _critical_of_text(yaml_text: str) -> dict[str, tuple[str, ...]]:
    schedule = protocols.parse_protocol(yaml_text).schedule
    return dict(schedule.critical_fields) if schedule is not None else {}


def critical_fields(version: Any, form: str) -> tuple[str, ...]:
    """The critical fields of ``form`` under a protocol version (declared ones that the form has)."""
    spec = crfs.CRFS.get(form)
    names = _critical_of_text(version.yaml_text).get(form, ())
    return tuple(n for n in names if spec is None or n in spec.fields)


@dataclass(frozen=True)
class SdvState:
    """The SDV of one record at its current version."""

    version: int
    critical: tuple[str, ...]
    record: SourceVerification | None  # the whole-record verification, if current
    fields: dict[str, SourceVerification]  # critical field -> its current verification
    history: tuple[SourceVerification, ...]  # every verification of the record, oldest first

    @property
    def status(self) -> str:
        """``verified``, ``partial`` (some critical fields) or ``""``."""
        if self.record is not None:
            return "verified"
        return "partial" if self.fields else ""


def sdv_state(subject: Any, form: str, record: Any) -> SdvState:
    ref = crfs.query_record(form, record.pk)
    rows = tuple(SourceVerification.objects.filter(subject=subject, record=ref).select_related("verified_by"))
    current = [r for r in rows if r.record_version == record.version]
    return SdvState(
        version=record.version, critical=critical_fields(subject.protocol_version, form),
        record=next((r for r in reversed(current) if not r.field), None),
        fields={r.field: r for r in current if r.field}, history=rows)


def verify_source(subject: Any, form: str, record: Any, *, user: Any, version: int, fields: Iterable[str] = (),
                  whole_record: bool = False, note: str = "") -> SdvState:
    """Record the verification of ``fields`` (critical fields) and, with ``whole_record``, of the record."""
    if record.voided_at is not None:
        raise ValidationError(_("a voided record is not verified"), field="record")
    if version != record.version:
        raise ValidationError(_("the record changed since you read it (now version %(v)s): read it again")
                              % {"v": record.version}, field="version")
    state = sdv_state(subject, form, record)
    fields = list(dict.fromkeys(f.strip() for f in fields if f and f.strip()))
    unknown = [f for f in fields if f not in state.critical]
    if unknown:
        raise ValidationError(_("not critical fields of this form: %(names)s (critical: %(critical)s)") % {
            "names": ", ".join(unknown), "critical": ", ".join(state.critical) or "-"}, field="fields")
    new_fields = [f for f in fields if f not in state.fields]
    if whole_record:
        unchecked = [f for f in state.critical if f not in fields and f not in state.fields]
        if unchecked:
            raise ValidationError(_("check every critical field before verifying the record: %(names)s")
                                  % {"names": ", ".join(unchecked)}, field="fields")
        if state.record is not None:
            raise ValidationError(_("this version of the record is already verified"), field="record")
    elif not new_fields:
        raise ValidationError(_("nothing to verify: tick critical fields not yet verified, or the whole record"),
                              field="fields")
    ref = crfs.query_record(form, record.pk)
    note = (note or "").strip()[:300]
    with transaction.atomic():
        for name in new_fields:
            create_audited(SourceVerification, user, subject=subject, record=ref, field=name,
                           record_version=record.version, note=note, verified_by=user)
        if whole_record:
            create_audited(SourceVerification, user, subject=subject, record=ref, field="",
                           record_version=record.version, note=note, verified_by=user)
    return sdv_state(subject, form, record)
