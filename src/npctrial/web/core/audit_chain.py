"""Tamper evidence: one SHA-256 hash chain over every audit row of the EDC.

The chained rows are the historical rows of every model with a history (django-simple-history:
each create, change and delete of trial data and of user accounts) and the study-wide
:class:`AuditEvent` rows.

Algorithm:

1. When an audit row is written, :func:`schedule_seal` stores an :class:`AuditSeal` in the same
   transaction: the table, the row id and ``digest`` = SHA-256 of the row's canonical content
   (:func:`row_digest`: every column, typed values in a fixed text form, so the digest computed
   from the object being saved equals the digest recomputed later from the database).
2. After the transaction commits, :func:`seal_pending` takes the chain lock (PostgreSQL advisory
   transaction lock; SQLite's write lock) and gives every pending seal, in id order, the next
   ``position`` and ``chain_hash = SHA-256(previous chain_hash | position | table | row id |
   digest)`` (the first link's previous hash is 64 zeros). Sealing after commit keeps the lock
   short, so concurrent writers are never serialised by the chain; a row committed but not yet
   sealed (the process died in between) is sealed by the next writer or by ``verify-audit``.
3. :mod:`npctrial.web.core.audit_verify` recomputes every digest and every link.

An edited audit row no longer matches its digest; a deleted row leaves a seal without a row; a
row inserted outside the application has no seal; an edited or deleted seal breaks the chain. A
wholesale rewrite of rows and chain together changes the head hash: ``verify-audit`` prints it
so it can be recorded outside the database (e.g. in the monitoring report) and compared later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from npctrial.web.core.models_audit import AuditEvent, AuditSeal

__all__ = ["GENESIS", "chain_hash", "chained_models", "row_digest", "schedule_seal", "seal_pending"]

GENESIS = "0" * 64
_LOCK_KEY = 0x4E5043_41554454  # "NPC" "AUDT": the advisory lock of the chain (PostgreSQL)
_INTEGER = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
            "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "ForeignKey",
            "OneToOneField"}


def _json_value(value: Any) -> Any:
    """JSON content in one form: integral floats as integers (PostgreSQL jsonb may return either)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def _canonical(field: models.Field, value: Any) -> Any:
    """The value of one column in a fixed, database-independent form."""
    if value is None:
        return None
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        moment = field.to_python(value)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind == "DateField":
        day = field.to_python(value)
        return day.isoformat() if isinstance(day, date) else str(day)
    if kind == "JSONField":
        return _json_value(value)
    if kind == "FloatField":
        return float(value)
    if kind in _INTEGER:
        return int(value)
    if kind == "BooleanField":
        return bool(value)
    if kind == "DecimalField":
        return str(Decimal(value).normalize())
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def table_of(model: type[models.Model]) -> str:
    return model._meta.label


def row_digest(model: type[models.Model], values: Mapping[str, Any]) -> str:
    """SHA-256 of a row: its table and every concrete column (``attname`` -> value) in canonical form."""
    content = [[f.attname, _canonical(f, values.get(f.attname))] for f in model._meta.concrete_fields]
    text = json.dumps([table_of(model), content], ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def instance_values(instance: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def chain_hash(previous: str, position: int, table: str, row_id: int, digest: str) -> str:
    return hashlib.sha256(f"{previous}|{position}|{table}|{row_id}|{digest}".encode()).hexdigest()


def chained_models() -> list[type[models.Model]]:
    """Every model whose rows are chained: every historical model (django-simple-history), and AuditEvent."""
    out: list[type[models.Model]] = []
    for model in apps.get_models():
        if getattr(model, "instance_type", None) is not None and hasattr(model, "history_id"):
            out.append(model)
    out.append(AuditEvent)
    return sorted(out, key=table_of)


def _seal_scheduled() -> bool:
    return any(getattr(entry[1], "__name__", "") == "_seal_after_commit" for entry in connection.run_on_commit)


def _seal_after_commit() -> None:
    seal_pending()


def schedule_seal(instance: models.Model) -> AuditSeal:
    """Store the digest of a freshly written audit row; seal it once the transaction commits."""
    seal = AuditSeal(table=table_of(type(instance)), row_id=instance.pk,
                     digest=row_digest(type(instance), instance_values(instance)))
    seal.save()
    if not connection.in_atomic_block or not _seal_scheduled():
        transaction.on_commit(_seal_after_commit, robust=True)
    return seal


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def seal_pending() -> int:
    """Give every pending seal its chain position and hash (step 2); returns how many were sealed."""
    with transaction.atomic():
        _lock_chain()
        pending = list(AuditSeal.objects.filter(position__isnull=True).order_by("id"))
        if not pending:
            return 0
        head = AuditSeal.objects.filter(position__isnull=False).order_by("-position").first()
        position, previous = (head.position or 0, head.chain_hash) if head is not None else (0, GENESIS)
        for seal in pending:
            position += 1
            seal.position = position
            seal.chain_hash = previous = chain_hash(previous, position, seal.table, seal.row_id, seal.digest)
        AuditSeal.objects.bulk_update(pending, ["position", "chain_hash"], batch_size=500)
    return len(pending)


def on_historical_record(sender: Any, history_instance: models.Model, **kwargs: Any) -> None:
    """simple_history's post_create_historical_record: chain every historical row."""
    schedule_seal(history_instance)


def on_audit_event(sender: Any, instance: AuditEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        schedule_seal(instance)


def digests_of(model: type[models.Model], ids: Iterable[int]) -> dict[int, str]:
    """Digest of each existing row ``id`` of ``model``, recomputed from the database."""
    names = [f.attname for f in model._meta.concrete_fields]
    out: dict[int, str] = {}
    for values in model._default_manager.filter(pk__in=list(ids)).values(*names).iterator(chunk_size=2000):
        out[values[model._meta.pk.attname]] = row_digest(model, values)
    return out
