"""The study-wide audit log: every record change and every audit event of a study, in one list.

Sources:

1. The historical rows of every model with a history whose rows belong to the study (found by
   following foreign keys to :class:`Study`, e.g. ``subject__study`` for a CRF record,
   ``assessment__subject__study`` for a lesion). Each row becomes an entry with the user, time,
   action (created / changed / deleted), reason and the old -> new value of every field
   (initial values for a creation), named by :func:`npctrial.web.core.audit.record_label`.
2. The study's :class:`AuditEvent` rows (signatures, exports, locks, unblinding ...), and, for
   viewers with a study-wide role, the logins, failed logins and lockouts of the study's members
   (and of unknown usernames, which could be anyone's attempt).

Viewers see what their scope allows (:func:`entries`):

* site-level viewers only entries of records and events at their sites (never logins or
  study-level rows);
* allocation fields and the concealed part of events only when the protocol's blinding allows
  (:mod:`npctrial.web.core.blinding`); the randomisation seed never.

Filters (:class:`LogFilter`): user, subject, form (the audited model, or an event's form), action
(created/changed/deleted or an event action), date range (inclusive, UTC dates).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

from npctrial.web.core.audit import (
    HIDDEN,
    FieldChange,
    _Display,
    hidden_fields,
    history_changes,
    record_label,
)
from npctrial.web.core.events import EVENT_ACTIONS
from npctrial.web.core.models import AuditEvent, Membership, ScreeningRecord, Site, Study, Subject

__all__ = ["HISTORY_ACTIONS", "LogEntry", "LogFilter", "entries", "form_choices", "page_of"]

HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
_LOGIN_ACTIONS = ("login", "login_failed", "login_locked", "logout")


@dataclass(frozen=True)
class LogFilter:
    user: str = ""
    subject: str = ""
    form: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        start = datetime.combine(self.since, time.min, tzinfo=UTC) if self.since else None
        end = (datetime.combine(self.until, time.min, tzinfo=UTC) + timedelta(days=1)
               if self.until else None)
        return start, end


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    user: str
    action: str
    record: str
    form: str
    subject: str
    site: str
    reason: str
    summary: str = ""
    changes: tuple[FieldChange, ...] = ()
    source: str = ""  # "core.HistoricalBaseline#12" / "core.AuditEvent#3"
    ip_address: str = ""

    @property
    def action_label(self) -> str:
        return str(EVENT_ACTIONS.get(self.action, self.action))

    def changes_text(self) -> str:
        return "; ".join(f"{c.field}: {_text(c.old)} -> {_text(c.new)}" for c in self.changes)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- where rows belong


def _path_to(model: type[models.Model], target: type[models.Model], depth: int = 3) -> str | None:
    """Shortest chain of foreign keys from ``model`` to ``target`` (``subject__study``), "" for itself."""
    if model is target:
        return ""
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    for _ in range(depth):
        nxt: list[tuple[type[models.Model], str]] = []
        for current, path in frontier:
            for f in current._meta.concrete_fields:
                if not f.is_relation or f.related_model is None or f.related_model._meta.label == "auth.User":
                    continue
                step = f"{path}__{f.name}" if path else f.name
                if f.related_model is target:
                    return step
                nxt.append((f.related_model, step))
        frontier = nxt
    return None


@dataclass(frozen=True)
class _Source:
    """One history table of the study: how its rows reach the study, the site and the subject."""

    history: Any
    study_path: str
    site_path: str | None
    subject_path: str | None
    screening_path: str | None

    @cached_property
    def model(self) -> type[models.Model]:
        return self.history.instance_type

    @property
    def form(self) -> str:
        return self.model._meta.model_name or ""


def _sources() -> list[_Source]:
    out = []
    for model in apps.get_models():
        base = getattr(model, "instance_type", None)
        if base is None or not hasattr(model, "history_id"):
            continue
        study_path = _path_to(base, Study)
        if study_path is None:
            continue  # sites and accounts are not a study's records (administration events cover them)
        out.append(_Source(model, study_path, _path_to(base, Site), _path_to(base, Subject),
                           _path_to(base, ScreeningRecord)))
    return sorted(out, key=lambda s: s.model._meta.label)


def _lookup(path: str, suffix: str = "") -> str:
    """``path`` as a lookup on the historical model ("" = the row's own object id)."""
    if path == "":
        return "id" if not suffix else suffix.lstrip("_")
    return f"{path}{suffix}"


def form_choices() -> list[tuple[str, str]]:
    """(form key, label) of every audited model of a study."""
    return [(s.form, str(s.model._meta.verbose_name)) for s in _sources()]


# --------------------------------------------------------------------------- queries


@dataclass
class _Scope:
    study: Study
    site_ids: set[int] | None  # None: every site (study-wide viewer)
    allocation_visible: bool
    subjects: dict[int, Subject] = field(default_factory=dict)
    sites: dict[int, str] = field(default_factory=dict)
    by_screening: dict[Any, Any] = field(default_factory=dict)


def _history_rows(source: _Source, scope: _Scope, flt: LogFilter, subject: Subject | None) -> QuerySet | None:
    qs = source.history._default_manager.filter(**{_lookup(source.study_path, "_id") if source.study_path
                                                   else "id": scope.study.pk})
    if scope.site_ids is not None:
        if source.site_path is None:
            return None
        qs = qs.filter(**{f"{_lookup(source.site_path)}__in": scope.site_ids})
    if subject is not None:
        if source.subject_path is not None:
            qs = qs.filter(**{_lookup(source.subject_path) if source.subject_path else "id": subject.pk})
        elif source.screening_path is not None:
            qs = qs.filter(**{_lookup(source.screening_path) if source.screening_path else "id": subject.screening_id})
        else:
            return None
    if flt.form and flt.form != source.form:
        return None
    if flt.action:
        kind = {v: k for k, v in HISTORY_ACTIONS.items()}.get(flt.action)
        if kind is None:
            return None
        qs = qs.filter(history_type=kind)
    qs = _by_user_and_dates(qs, flt, "history_user__username", "history_date")
    return qs.select_related("history_user").order_by("-history_date", "-history_id")


def _event_rows(scope: _Scope, flt: LogFilter, subject: Subject | None) -> QuerySet:
    where = Q(study=scope.study)
    if scope.site_ids is None and not subject and (not flt.form or flt.form == "login"):
        members = Membership.objects.filter(study=scope.study).values_list("user__username", flat=True)
        accounts = get_user_model()._default_manager.values_list("username", flat=True)
        # the members' logins, and attempts on usernames that are nobody's account
        where |= Q(study__isnull=True, action__in=_LOGIN_ACTIONS) & (Q(username__in=members)
                                                                    | ~Q(username__in=accounts))
    qs = AuditEvent.objects.filter(where)
    if scope.site_ids is not None:
        qs = qs.filter(site_id__in=scope.site_ids)
    if subject is not None:
        qs = qs.filter(subject=subject)
    if flt.form:
        qs = qs.filter(Q(form=flt.form) | Q(action__in=_LOGIN_ACTIONS) if flt.form == "login" else Q(form=flt.form))
    if flt.action:
        qs = qs.filter(action=flt.action) if flt.action in EVENT_ACTIONS else qs.none()
    qs = _by_user_and_dates(qs, flt, "username", "at")
    return qs.select_related("subject", "site").order_by("-at", "-pk")


def _by_user_and_dates(qs: QuerySet, flt: LogFilter, user_field: str, date_field: str) -> QuerySet:
    """The filter's user (case-insensitive) and date range [start, end) on the given fields."""
    if flt.user:
        qs = qs.filter(**{f"{user_field}__iexact": flt.user})
    start, end = flt.bounds()
    if start:
        qs = qs.filter(**{f"{date_field}__gte": start})
    if end:
        qs = qs.filter(**{f"{date_field}__lt": end})
    return qs


# --------------------------------------------------------------------------- entries


def _previous_rows(source: _Source, rows: list[Any]) -> dict[int, Any]:
    """history_id -> the previous historical row of the same object (one query for all rows)."""
    ids = {r.id for r in rows}
    older = source.history._default_manager.filter(id__in=ids, history_id__lt=max(r.history_id for r in rows))
    by_object: dict[Any, list[Any]] = {}
    for r in sorted([*older, *rows], key=lambda r: r.history_id):
        by_object.setdefault(r.id, []).append(r)
    out: dict[int, Any] = {}
    for chain in by_object.values():
        for before, after in zip([None, *chain[:-1]], chain, strict=True):
            out.setdefault(after.history_id, before)
    return out


def _where(source: _Source, row: Any, scope: _Scope) -> tuple[str, str]:
    """(subject ID, site code) of a historical row (subjects and sites cached on the scope)."""
    subject: Subject | None = None
    pk: Any = None
    if source.subject_path is not None:
        pk = row.id if source.subject_path == "" else _follow_id(row, source.subject_path)
    elif source.screening_path is not None:  # a screening (or its consent) of an enrolled subject
        screening = row.id if source.screening_path == "" else _follow_id(row, source.screening_path)
        if screening not in scope.by_screening:
            scope.by_screening[screening] = Subject.objects.filter(screening_id=screening).values_list(
                "pk", flat=True).first()
        pk = scope.by_screening[screening]
    if pk is not None:
        if pk not in scope.subjects:
            found = Subject.objects.filter(pk=pk).select_related("site").first()
            if found is None:
                return "", ""
            scope.subjects[pk] = found
        subject = scope.subjects[pk]
    if subject is not None:
        return subject.subject_id, subject.site.code
    if source.site_path is None:
        return "", ""
    site_pk = _follow_id(row, source.site_path)
    if site_pk is None:
        return "", ""
    if site_pk not in scope.sites:
        scope.sites[site_pk] = Site.objects.filter(pk=site_pk).values_list("code", flat=True).first() or ""
    return "", scope.sites[site_pk]


def _follow_id(row: Any, path: str) -> Any:
    """The id at the end of a foreign-key path (``subject__site`` -> the subject's site_id)."""
    parts = path.split("__")
    obj = row
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return getattr(obj, f"{parts[-1]}_id", None)


def _history_entries(source: _Source, rows: list[Any], scope: _Scope, display: _Display) -> list[LogEntry]:
    if not rows:
        return []
    previous = _previous_rows(source, rows)
    hidden = hidden_fields(source.model, scope.allocation_visible)
    out = []
    for row in rows:
        subject_id, site = _where(source, row, scope)
        instance = row.instance
        if source.subject_path == "subject" and row.subject_id in scope.subjects:
            instance._state.fields_cache["subject"] = scope.subjects[row.subject_id]  # no query per row
        out.append(LogEntry(
            at=row.history_date, user=row.history_user.get_username() if row.history_user_id else "system",
            action=HISTORY_ACTIONS.get(row.history_type, row.history_type), record=record_label(instance),
            form=source.form, subject=subject_id, site=site, reason=row.history_change_reason or "",
            changes=history_changes(row, previous.get(row.history_id), display, hidden),
            source=f"{source.history._meta.label}#{row.history_id}"))
    return out


def _event_entry(event: AuditEvent, scope: _Scope) -> LogEntry:
    details = dict(event.details)
    if scope.allocation_visible:
        details.update(event.concealed)
    elif event.concealed:
        details.update({k: HIDDEN for k in event.concealed})
    changes = tuple(FieldChange(k, None, v) for k, v in sorted(details.items()))
    return LogEntry(
        at=event.at, user=event.username or "system", action=event.action, record=event.record, form=event.form,
        subject=event.subject.subject_id if event.subject_id else "", site=event.site.code if event.site_id else "",
        reason=event.reason, summary=event.summary, changes=changes, source=f"core.AuditEvent#{event.pk}",
        ip_address=event.ip_address or "")


def _scope(user: Any, study: Study) -> _Scope:
    from npctrial.web.core.blinding import allocation_visible
    from npctrial.web.core.permissions import visible_site_ids

    return _Scope(study=study, site_ids=visible_site_ids(user, study),
                  allocation_visible=allocation_visible(user, study))


def _subject_of(study: Study, flt: LogFilter) -> tuple[bool, Subject | None]:
    """(matches anything, the subject the filter names)."""
    if not flt.subject:
        return True, None
    subject = Subject.objects.filter(study=study, subject_id__iexact=flt.subject.strip()).first()
    return subject is not None, subject


def _querysets(user: Any, study: Study, flt: LogFilter) -> tuple[_Scope, list[tuple[_Source | None, QuerySet]]]:
    scope = _scope(user, study)
    found, subject = _subject_of(study, flt)
    if not found:
        return scope, []
    out: list[tuple[_Source | None, QuerySet]] = []
    for source in _sources():
        qs = _history_rows(source, scope, flt, subject)
        if qs is not None:
            out.append((source, qs))
    out.append((None, _event_rows(scope, flt, subject)))
    return scope, out


def _entries_of(source: _Source | None, rows: list[Any], scope: _Scope, display: _Display) -> list[LogEntry]:
    if source is None:
        return [_event_entry(e, scope) for e in rows]
    return _history_entries(source, rows, scope, display)


@dataclass(frozen=True)
class LogPage:
    entries: tuple[LogEntry, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def page_of(user: Any, study: Study, flt: LogFilter, page: int = 1, page_size: int = 100) -> LogPage:
    """One page of the log, newest first: the first ``page * page_size`` rows of every source, merged."""
    page = max(1, page)
    scope, sets = _querysets(user, study, flt)
    need = page * page_size
    display = _Display()
    candidates: list[LogEntry] = []
    total = 0
    for source, qs in sets:
        total += qs.count()
        candidates.extend(_entries_of(source, list(qs[:need]), scope, display))
    candidates.sort(key=lambda e: (e.at, e.source), reverse=True)
    return LogPage(tuple(candidates[need - page_size:need]), total, page, page_size)


def entries(user: Any, study: Study, flt: LogFilter) -> Iterator[LogEntry]:
    """Every entry of the log for ``user``, newest first (streams: 2,000 rows per source at a time)."""
    scope, sets = _querysets(user, study, flt)
    display = _Display()

    def stream(source: _Source | None, qs: QuerySet) -> Iterator[LogEntry]:
        chunk: list[Any] = []
        for row in qs.iterator(chunk_size=2000):
            chunk.append(row)
            if len(chunk) == 2000:
                yield from _entries_of(source, chunk, scope, display)
                chunk = []
        yield from _entries_of(source, chunk, scope, display)

    streams: Iterable[Iterator[LogEntry]] = [stream(s, q) for s, q in sets]
    yield from heapq.merge(*streams, key=lambda e: e.at, reverse=True)
