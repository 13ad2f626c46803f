"""Data queries: a data manager raises a query on a field, the site answers, the data manager closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core import protocols
from npctrial.web.core.audit import create_audited
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.core.screening import protocol_of

#: Other apps make their records queryable by appending a resolver ``(subject, record) -> field names``
#: that returns ``None`` for records it does not know (e.g. the clinical app for ``"baseline:12"``).
QUERY_RECORD_RESOLVERS: list[Callable[[Subject, str], list[str] | None]] = []


def query_fields(subject: Subject, record: str = "screening") -> list[str]:
    """The fields a query on ``record`` of ``subject`` may name.

    ``"screening"``: the screening form's fields (and any value stored under the record's protocol);
    anything else is asked of :data:`QUERY_RECORD_RESOLVERS`; unknown records raise ValidationError.
    """
    if record == "screening":
        protocol = protocol_of(subject.protocol_version)
        names = [f.name for f in protocols.screening_fields(protocol)]
        return names + sorted(set(subject.screening.values) - set(names))
    for resolve in QUERY_RECORD_RESOLVERS:
        resolved = resolve(subject, record)
        if resolved is not None:
            return resolved
    raise ValidationError(_("record %(record)r is not a record of subject %(subject)s")
                          % {"record": record, "subject": subject.subject_id}, field="record")


def raise_query(subject: Subject, *, field_name: str, text: str, user: Any, record: str = "screening",
                edit_check: str = "") -> DataQuery:
    """Raise a query on ``field_name`` of ``record``; ``edit_check`` names the check that raised it (system)."""
    if not field_name or not field_name.strip():
        raise ValidationError(_("field_name is required"), field="field_name")
    field_name = field_name.strip()
    if field_name not in query_fields(subject, record):
        raise ValidationError(_("field_name %(field)r is not a field of record %(record)r")
                              % {"field": field_name, "record": record}, field="field_name")
    if not text or not text.strip():
        raise ValidationError(_("text is required"), field="text")
    return create_audited(
        DataQuery, user, study=subject.study, site=subject.site, subject=subject, record=record,
        field_name=field_name, text=text.strip(), raised_by=user, edit_check=edit_check,
    )


def answer_query(query: DataQuery, *, answer: str, user: Any) -> DataQuery:
    if query.status == "closed":
        raise ValidationError(_("the query is closed"), field="status")
    if not answer or not answer.strip():
        raise ValidationError(_("answer is required"), field="answer")
    with transaction.atomic():
        query.answer = answer.strip()
        query.status = "answered"
        query.answered_by = user
        query._history_user = user
        query.save(reason="query answered")
    return query


def close_query(query: DataQuery, *, user: Any, note: str = "") -> DataQuery:
    if query.status == "closed":
        raise ValidationError(_("the query is already closed"), field="status")
    with transaction.atomic():
        query.status = "closed"
        query.closed_by = user
        query._history_user = user
        query.save(reason=("query closed: " + note.strip()) if note.strip() else "query closed")
    return query
