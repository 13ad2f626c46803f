"""Data queries and their lifecycle.

A data manager or monitor raises a query on one field of one record (optionally assigned to a
site user, with a due date); the site answers; the raiser closes it, or re-opens it with a reason
when the answer does not resolve it, and the site answers again::

    open --answer--> answered --close--> closed
      |                 |                  |
      +----close--------+<---re-open-------+      re-opened --answer--> answered

Every step is an audited save whose reason carries the note, so the query's thread
(:func:`query_thread`) is read from its history and cannot be edited. A query is *overdue*
when it waits for the site (open or re-opened) after its due date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from npctrial.domain.edit_checks import edit_checks_for, message_in_language
from npctrial.domain.lab_analytes import UNUSUAL_VALUE, UNUSUAL_VALUE_CHECK
from npctrial.errors import ValidationError
from npctrial.i18n import language_key
from npctrial.web.core import permissions, protocols
from npctrial.web.core.audit import create_audited
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.core.screening import protocol_of

__all__ = [
    "AWAITING_SITE",
    "QUERY_RECORD_RESOLVERS",
    "QueryStep",
    "answer_query",
    "assign_query",
    "assignable_users",
    "close_query",
    "filter_queries",
    "is_overdue",
    "query_fields",
    "query_thread",
    "raise_query",
    "reopen_query",
]

#: Statuses in which the query waits for the site's answer.
AWAITING_SITE = ("open", "reopened")

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


def assignable_users(subject: Subject) -> list[Any]:
    """Active users who can answer queries at the subject's site (the choices of an assignee)."""
    from npctrial.web.core.models import Membership

    user_ids = Membership.objects.filter(study=subject.study, active=True, user__is_active=True).filter(
        Q(site=subject.site) | Q(site__isnull=True)).values_list("user_id", flat=True)
    users = get_user_model().objects.filter(pk__in=set(user_ids)).order_by("username")
    return [u for u in users if permissions.can(u, subject.study, "answer_query", subject.site)]


def _check_assignee(subject: Subject, assignee: Any) -> Any:
    """``assignee`` (a user, a username or None) if they can answer queries at the subject's site."""
    if assignee is None or assignee == "":
        return None
    if isinstance(assignee, str):
        assignee = get_user_model().objects.filter(username=assignee.strip(), is_active=True).first()
        if assignee is None:
            raise ValidationError(_("assignee: no active user of that name"), field="assignee")
    if not permissions.can(assignee, subject.study, "answer_query", subject.site):
        raise ValidationError(_("assignee %(user)r cannot answer queries at site %(site)s")
                              % {"user": assignee.username, "site": subject.site.code}, field="assignee")
    return assignee


def _check_due(due_date: date | None, today: date | None = None) -> date | None:
    if due_date is None:
        return None
    if not isinstance(due_date, date) or isinstance(due_date, datetime):
        raise ValidationError(_("due_date must be a date (YYYY-MM-DD)"), field="due_date")
    if due_date < (today or timezone.localdate()):
        raise ValidationError(_("due_date %(day)s is in the past") % {"day": due_date.isoformat()}, field="due_date")
    return due_date


#: Automatic queries raised by a rule of the code rather than a protocol edit check, and their texts.
BUILTIN_QUERY_TEXTS = {UNUSUAL_VALUE_CHECK: UNUSUAL_VALUE}


def query_text(query: DataQuery, language: str | None) -> str:
    """The question in ``language``: an automatic query's check message in that language, read back
    from the stored English text (:func:`npctrial.domain.edit_checks.message_in_language`); a
    person's question as they wrote it. The stored text (audit trail, exports) stays English."""
    if not query.edit_check or language_key(language) == "en":  # English: the stored text, no protocol read
        return query.text
    suffix = f" [{query.edit_check}]"
    english = query.text[: -len(suffix)] if query.text.endswith(suffix) else query.text
    check: Any = next((c for c in edit_checks_for(protocol_of(query.subject.protocol_version))
                       if c.id == query.edit_check), None) or BUILTIN_QUERY_TEXTS.get(query.edit_check)
    if check is None:
        return query.text
    shown = message_in_language(check, english, language)
    return shown + suffix if query.text.endswith(suffix) else shown


def raise_query(subject: Subject, *, field_name: str, text: str, user: Any, record: str = "screening",
                edit_check: str = "", assignee: Any = None, due_date: date | None = None) -> DataQuery:
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
        assignee=_check_assignee(subject, assignee), due_date=_check_due(due_date),
    )


def _save(query: DataQuery, user: Any, reason: str) -> DataQuery:
    with transaction.atomic():
        query._history_user = user  # type: ignore[attr-defined]
        query.save(reason=reason)
    return query


def answer_query(query: DataQuery, *, answer: str, user: Any) -> DataQuery:
    """The site's answer to an open or re-opened query."""
    if query.status not in AWAITING_SITE:
        raise ValidationError(_("the query is %(status)s: only an open or re-opened query is answered")
                              % {"status": query.status}, field="status")
    if not answer or not answer.strip():
        raise ValidationError(_("answer is required"), field="answer")
    query.answer = answer.strip()
    query.status = "answered"
    query.answered_by = user
    return _save(query, user, "query answered")


def close_query(query: DataQuery, *, user: Any, note: str = "") -> DataQuery:
    if query.status == "closed":
        raise ValidationError(_("the query is already closed"), field="status")
    query.status = "closed"
    query.closed_by = user
    return _save(query, user, ("query closed: " + note.strip()) if note.strip() else "query closed")


def reopen_query(query: DataQuery, *, user: Any, reason: str, due_date: date | None = None) -> DataQuery:
    """Re-open an answered or closed query: the reason says what is still wrong (kept in the thread)."""
    if query.status not in ("answered", "closed"):
        raise ValidationError(_("the query is %(status)s: only an answered or closed query is re-opened")
                              % {"status": query.status}, field="status")
    if not reason or not reason.strip():
        raise ValidationError(_("reason is required to re-open a query"), field="reason")
    query.status = "reopened"
    query.closed_by = None
    if due_date is not None:
        query.due_date = _check_due(due_date)
    return _save(query, user, "query re-opened: " + reason.strip())


def assign_query(query: DataQuery, *, user: Any, assignee: Any = None, due_date: date | None = None) -> DataQuery:
    """Set who answers and by when (``assignee`` None/"" leaves the query to the site's team)."""
    if query.status == "closed":
        raise ValidationError(_("the query is closed"), field="status")
    new_assignee = _check_assignee(query.subject, assignee)
    new_due = _check_due(due_date) if due_date != query.due_date else due_date
    if new_assignee == query.assignee and new_due == query.due_date:
        raise ValidationError(_("nothing to change: same assignee and due date"), field="assignee")
    query.assignee, query.due_date = new_assignee, new_due
    who = new_assignee.username if new_assignee else "the site"
    return _save(query, user, f"query assigned to {who}, due {new_due.isoformat() if new_due else 'any time'}")


def is_overdue(query: DataQuery, today: date | None = None) -> bool:
    return (query.status in AWAITING_SITE and query.due_date is not None
            and query.due_date < (today or timezone.localdate()))


def filter_queries(queries: QuerySet[DataQuery], user: Any, *, status: str = "", site: str = "",
                   assignee: str = "", overdue: bool = False, today: date | None = None) -> QuerySet[DataQuery]:
    """The query list's filters. ``status="waiting"`` means open or re-opened; ``assignee="me"`` the user.

    Unknown statuses raise ValidationError (a filter that silently shows everything would mislead).
    """
    statuses = {k for k, _lbl in DataQuery._meta.get_field("status").choices}  # type: ignore[misc]
    if status == "waiting":
        queries = queries.filter(status__in=AWAITING_SITE)
    elif status:
        if status not in statuses:
            raise ValidationError(_("status %(status)r is not one of %(known)s")
                                  % {"status": status, "known": sorted(statuses | {"waiting"})}, field="status")
        queries = queries.filter(status=status)
    if site:
        queries = queries.filter(site__code=site)
    if assignee == "me":
        queries = queries.filter(assignee=user)
    elif assignee == "none":
        queries = queries.filter(assignee__isnull=True)
    elif assignee:
        queries = queries.filter(assignee__username=assignee)
    if overdue:
        queries = queries.filter(Q(status__in=AWAITING_SITE), due_date__lt=today or timezone.localdate())
    return queries


@dataclass(frozen=True)
class QueryStep:
    """One step of a query's thread: who did what, when, with which text."""

    action: str  # raised, answered, re-opened, closed, assigned
    user: str
    at: datetime
    text: str

    @property
    def label(self) -> Any:
        return STEP_LABELS.get(self.action, self.action)


STEP_LABELS = {"raised": gettext_lazy("raised"), "answered": gettext_lazy("answered"),
               "re-opened": gettext_lazy("re-opened"), "closed": gettext_lazy("closed"),
               "assigned": gettext_lazy("assigned"), "changed": gettext_lazy("changed")}


def query_thread(query: DataQuery) -> list[QueryStep]:
    """The query's steps, oldest first, read from its audit history."""
    steps: list[QueryStep] = []
    for h in query.history.order_by("history_date", "history_id").select_related("history_user"):
        user = h.history_user.username if h.history_user else ""
        reason = h.history_change_reason or ""
        if h.history_type == "+":
            steps.append(QueryStep("raised", user, h.history_date,
                                   query_text(query, get_language()) if h.text == query.text else h.text))
        elif reason == "query answered":
            steps.append(QueryStep("answered", user, h.history_date, h.answer))
        else:
            action, _sep, note = reason.partition(": ")
            label = {"query re-opened": "re-opened", "query closed": "closed"}.get(action)
            if label is None and action.startswith("query assigned"):
                label, note = "assigned", reason.removeprefix("query ")
            steps.append(QueryStep(label or "changed", user, h.history_date, note))
    return steps
