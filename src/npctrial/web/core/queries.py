"""Data queries: a data manager raises a query on a field, the site answers, the data manager closes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from npctrial.errors import ValidationError
from npctrial.web.core.audit import create_audited
from npctrial.web.core.models import DataQuery, Subject


def raise_query(subject: Subject, *, field_name: str, text: str, user: Any, record: str = "screening") -> DataQuery:
    if not field_name or not field_name.strip():
        raise ValidationError("field_name is required", field="field_name")
    if record == "screening" and field_name not in subject.screening.values and field_name not in {
        f.name for f in _fields(subject)
    }:
        raise ValidationError(f"field_name {field_name!r} is not a field of the screening form", field="field_name")
    if not text or not text.strip():
        raise ValidationError("text is required", field="text")
    return create_audited(
        DataQuery, user, study=subject.study, site=subject.site, subject=subject, record=record,
        field_name=field_name.strip(), text=text.strip(), raised_by=user,
    )


def _fields(subject: Subject) -> list[Any]:
    from npctrial.web.core import protocols
    from npctrial.web.core.screening import protocol_of

    return protocols.field_catalogue(protocol_of(subject.protocol_version))


def answer_query(query: DataQuery, *, answer: str, user: Any) -> DataQuery:
    if query.status == "closed":
        raise ValidationError("the query is closed", field="status")
    if not answer or not answer.strip():
        raise ValidationError("answer is required", field="answer")
    with transaction.atomic():
        query.answer = answer.strip()
        query.status = "answered"
        query.answered_by = user
        query._history_user = user
        query.save(reason="query answered")
    return query


def close_query(query: DataQuery, *, user: Any, note: str = "") -> DataQuery:
    if query.status == "closed":
        raise ValidationError("the query is already closed", field="status")
    with transaction.atomic():
        query.status = "closed"
        query.closed_by = user
        query._history_user = user
        query.save(reason=("query closed: " + note.strip()) if note.strip() else "query closed")
    return query
