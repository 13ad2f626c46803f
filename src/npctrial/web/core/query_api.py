"""Data query routes of /api/v1 (tag ``queries``): list (filters), detail with the thread, raise,
answer, close, re-open, assign. The same services as the pages (:mod:`npctrial.web.core.queries`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from npctrial.web.core import permissions
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.core.queries import (
    answer_query,
    assign_query,
    close_query,
    filter_queries,
    is_overdue,
    query_thread,
    raise_query,
    reopen_query,
)

router = Router(tags=["queries"])


class QueryIn(Schema):
    record: str = "screening"  # or a CRF record, "<form>:<record id>" (e.g. "baseline:12")
    field_name: str
    text: str
    assignee: str | None = None  # a username of a site user who answers queries; none: the site's team
    due_date: date | None = None


class AnswerIn(Schema):
    answer: str


class CloseIn(Schema):
    note: str = ""


class ReopenIn(Schema):
    reason: str
    due_date: date | None = None


class AssignIn(Schema):
    assignee: str | None = None
    due_date: date | None = None


class StepOut(Schema):
    action: str
    user: str
    at: datetime
    text: str


class QueryOut(Schema):
    id: int
    subject_id: str
    site: str
    record: str
    field_name: str
    text: str
    status: str
    answer: str
    raised_at: datetime
    raised_by: str
    assignee: str | None
    due_date: date | None
    overdue: bool


class QueryDetailOut(QueryOut):
    thread: list[StepOut]


def query_out(q: DataQuery, today: date | None = None) -> dict[str, Any]:
    return {
        "id": q.pk, "subject_id": q.subject.subject_id, "site": q.site.code, "record": q.record,
        "field_name": q.field_name, "text": q.text, "status": q.status, "answer": q.answer, "raised_at": q.raised_at,
        "raised_by": q.raised_by.username if q.raised_by else "",
        "assignee": q.assignee.username if q.assignee else None, "due_date": q.due_date,
        "overdue": is_overdue(q, today),
    }


def _detail(q: DataQuery) -> dict[str, Any]:
    return {**query_out(q), "thread": [vars(s) for s in query_thread(q)]}


@router.get("/studies/{study_id}/queries", response=list[QueryOut])
def list_queries(request: HttpRequest, study_id: int, status: str = "", site: str = "", assignee: str = "",
                 overdue: bool = False) -> list[dict[str, Any]]:
    """Queries in scope; ``status`` (open, answered, closed, reopened, or ``waiting`` = open or
    re-opened), ``site`` code, ``assignee`` (a username, ``me`` or ``none``), ``overdue``."""
    study = permissions.get_study_for(request.user, study_id, "view")
    qs = permissions.scope(request.user, study, DataQuery.objects.select_related(
        "subject", "site", "assignee", "raised_by"))
    qs = filter_queries(qs, request.user, status=status, site=site, assignee=assignee, overdue=overdue)
    today = timezone.localdate()
    return [query_out(q, today) for q in qs]


@router.get("/studies/{study_id}/queries/{query_id}", response=QueryDetailOut)
def get_query(request: HttpRequest, study_id: int, query_id: int) -> dict[str, Any]:
    study, q = permissions.get_object_for(request.user, study_id, DataQuery.objects.all(), query_id, "view")
    return _detail(q)


@router.post("/studies/{study_id}/subjects/{subject_pk}/queries", response={201: QueryDetailOut})
def raise_query_route(request: HttpRequest, study_id: int, subject_pk: int, payload: QueryIn) -> Status:
    study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk, "raise_query")
    q = raise_query(subject, field_name=payload.field_name, text=payload.text, user=request.user,
                    record=payload.record, assignee=payload.assignee, due_date=payload.due_date)
    return Status(201, _detail(q))


@router.post("/studies/{study_id}/queries/{query_id}/answer", response=QueryDetailOut)
def answer_query_route(request: HttpRequest, study_id: int, query_id: int, payload: AnswerIn) -> dict[str, Any]:
    study, q = permissions.get_object_for(request.user, study_id, DataQuery.objects.all(), query_id, "answer_query")
    return _detail(answer_query(q, answer=payload.answer, user=request.user))


@router.post("/studies/{study_id}/queries/{query_id}/close", response=QueryDetailOut)
def close_query_route(request: HttpRequest, study_id: int, query_id: int, payload: CloseIn) -> dict[str, Any]:
    study, q = permissions.get_object_for(request.user, study_id, DataQuery.objects.all(), query_id, "raise_query")
    return _detail(close_query(q, user=request.user, note=payload.note))


@router.post("/studies/{study_id}/queries/{query_id}/reopen", response=QueryDetailOut)
def reopen_query_route(request: HttpRequest, study_id: int, query_id: int, payload: ReopenIn) -> dict[str, Any]:
    study, q = permissions.get_object_for(request.user, study_id, DataQuery.objects.all(), query_id, "raise_query")
    return _detail(reopen_query(q, user=request.user, reason=payload.reason, due_date=payload.due_date))


@router.post("/studies/{study_id}/queries/{query_id}/assign", response=QueryDetailOut)
def assign_query_route(request: HttpRequest, study_id: int, query_id: int, payload: AssignIn) -> dict[str, Any]:
    """Set the assignee (a username; null or "" = the site's team) and the due date (null = none)."""
    study, q = permissions.get_object_for(request.user, study_id, DataQuery.objects.all(), query_id, "raise_query")
    return _detail(assign_query(q, user=request.user, assignee=payload.assignee, due_date=payload.due_date))
