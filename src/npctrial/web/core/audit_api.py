"""``GET /api/v1/studies/{id}/audit-log``: the study-wide audit log as JSON (same filters and scope as the page).

Query parameters: ``user``, ``subject``, ``form``, ``action``, ``since``, ``until`` (ISO dates,
inclusive), ``page`` (from 1; 100 entries per page). Downloads (CSV, ODM) are the page's
``/studies/{id}/audit/export.csv|xml`` with the same parameters (session login).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from npctrial.web.core import permissions
from npctrial.web.core.audit_log import page_of
from npctrial.web.core.protocols import jsonable as _jsonable
from npctrial.web.core.views.audit import PAGE_SIZE, parse_filter

router = Router(tags=["audit"])


class ChangeOut(Schema):
    field: str
    old: Any
    new: Any


class LogEntryOut(Schema):
    at: datetime
    user: str
    action: str
    action_label: str
    record: str
    form: str
    subject: str
    site: str
    reason: str
    summary: str
    changes: list[ChangeOut]
    source: str
    ip_address: str


class LogPageOut(Schema):
    total: int
    page: int
    pages: int
    page_size: int
    entries: list[LogEntryOut]


@router.get("/studies/{study_id}/audit-log", response=LogPageOut)
def audit_log_route(request: HttpRequest, study_id: int) -> dict[str, Any]:
    study = permissions.get_study_for(request.user, study_id, "view_audit_log")
    flt, number = parse_filter(request.GET)
    page = page_of(request.user, study, flt, page=number, page_size=PAGE_SIZE)
    return {"total": page.total, "page": page.page, "pages": page.pages, "page_size": page.page_size,
            "entries": [{"at": e.at, "user": e.user, "action": e.action, "action_label": e.action_label,
                         "record": e.record, "form": e.form, "subject": e.subject, "site": e.site, "reason": e.reason,
                         "summary": e.summary, "source": e.source, "ip_address": e.ip_address,
                         "changes": [{"field": c.field, "old": _jsonable(c.old), "new": _jsonable(c.new)}
                                     for c in e.changes]}
                        for e in page.entries]}
