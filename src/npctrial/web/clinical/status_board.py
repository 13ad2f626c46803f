"""Study-level status dashboard: subjects x events, filterable by site and status, with the
overdue and upcoming visits of the subjects in the user's sites.

Two stages, each with a number of SQL queries that does not grow with the number of subjects:

1. :func:`build_board`, for every subject in scope: one
   :func:`npctrial.web.clinical.casebook_state.load_states` call in summary mode (one
   ``values_list`` query per form: only the columns statuses read, no model instances), then
   :func:`npctrial.web.clinical.grid.event_summary` per subject (each event's status and timing,
   computed from the forms the event collects or holds; pure Python). This gives the filter
   counts, the subjects matching the status filter and the overdue and upcoming lists, which
   concern every subject, not only one page.
2. :func:`page_cells`, for the subjects of the page shown only: each cell's link, title and
   symbol (no queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from npctrial.domain.localised_text import localise
from npctrial.web.clinical import grid, schedule
from npctrial.web.clinical.casebook_state import load_states
from npctrial.web.core.models import ProtocolVersion, Subject

#: statuses and timings the dashboard filters on
FILTERS = ("overdue", "due", "upcoming", "query", "incomplete", "not_started", "complete", "verified",
           "signed", "locked")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    short: str


@dataclass(frozen=True)
class SubjectRow:
    subject: Subject
    cells: tuple[grid.EventRow | None, ...]  # one per column (None: not an event of the subject's protocol)
    statuses: frozenset[str]  # statuses and timings of the subject's events


@dataclass(frozen=True)
class VisitRow:
    subject: Subject
    event: grid.EventRow
    days: int  # days overdue (overdue list) or until the window opens (upcoming; 0 = due now)


@dataclass(frozen=True)
class Board:
    columns: tuple[Column, ...]
    rows: tuple[SubjectRow, ...]
    overdue: tuple[VisitRow, ...]
    upcoming: tuple[VisitRow, ...]
    counts: dict[str, int]  # filter -> subjects matching


def _versions(subjects: list[Subject], study: Any) -> dict[int, tuple[Any, Any]]:
    ids = {s.protocol_version_id for s in subjects}
    current = study.current_protocol
    if current is not None:
        ids.add(current.pk)
    out = {}
    for pk, text in ProtocolVersion.objects.filter(pk__in=ids).values_list("pk", "yaml_text"):
        out[pk] = (schedule.events_of_text(text), schedule.log_forms_of_text(text))
    return out


def build_board(study: Any, subjects: list[Subject], today: date, *, status: str = "") -> Board:
    """The dashboard of ``subjects`` (already scoped to the user's sites and filtered by site);
    ``rows`` are the subjects with an event in ``status`` (all when empty)."""
    versions = _versions(subjects, study)
    current = study.current_protocol
    base_events = versions[current.pk][0] if current is not None else ()
    columns = tuple(Column(e.id, e.label, e.short) for e in base_events)
    states = load_states(subjects, summary=True)
    rows: list[SubjectRow] = []
    overdue: list[VisitRow] = []
    upcoming: list[VisitRow] = []
    counts = dict.fromkeys(FILTERS, 0)
    for subject in subjects:
        events, log_forms = versions[subject.protocol_version_id]
        summary = grid.event_summary(states[subject.pk], events, log_forms, today)
        statuses = frozenset({r.status for r in summary} | {r.timing for r in summary})
        for f in FILTERS:
            counts[f] += f in statuses
        _visits(subject, summary, today, overdue, upcoming)
        if status and status not in statuses:
            continue
        by_key = {r.key: r for r in summary}
        rows.append(SubjectRow(subject, tuple(by_key.get(c.key) for c in columns), statuses))
    overdue.sort(key=lambda v: (-v.days, v.subject.site.code, v.subject.seq))
    upcoming.sort(key=lambda v: (v.days, v.subject.site.code, v.subject.seq))
    return Board(columns, tuple(rows), tuple(overdue), tuple(upcoming), counts)


def _visits(subject: Subject, summary: tuple[grid.EventRow, ...], today: date, overdue: list[VisitRow],
            upcoming: list[VisitRow]) -> None:
    for r in summary:
        p = r.planned
        if p is None or p.window_start is None or p.window_end is None:
            continue
        if r.timing == "overdue":
            overdue.append(VisitRow(subject, r, (today - p.window_end).days))
        elif r.timing in ("due", "upcoming"):
            upcoming.append(VisitRow(subject, r, max(0, (p.window_start - today).days)))


_CELL = ('<td class="cell" data-event="{}" data-status="{}" data-timing="{}"><a class="dot s-{}{}" href="{}" '
         'title="{}"><span class="sr-only">{}</span><span aria-hidden="true">{}</span></a></td>')


def page_cells(study: Any, rows: list[SubjectRow]) -> list[tuple[SubjectRow, SafeString]]:
    """The event cells (``<td>``) of the page's ``rows``: status symbol, link, title (no queries).

    Rendered here rather than in the template: a page is 100 subjects x ~30 events, and the
    template engine's per-variable cost was most of the page's time.
    """
    language = get_language()
    words = {k: str(v) for k, v in {**grid.STATUS_LABELS, **grid.TIMING_LABELS}.items()}
    labels: dict[Any, str] = {}
    out = []
    for row in rows:
        base = reverse("casebook", kwargs={"study_pk": study.pk, "pk": row.subject.pk})  # + events/<id>/
        cells = []
        for e in row.cells:
            if e is None:
                cells.append(mark_safe('<td class="cell na"></td>'))  # noqa: S308 (a constant)
                continue
            label = labels.get(e.label) or labels.setdefault(e.label, localise(e.label, language))
            state, timing = words.get(e.status, ""), words.get(e.timing, "")
            overdue = e.timing == "overdue"
            cells.append(format_html(_CELL, e.key, e.status, e.timing, e.status, " overdue" if overdue else "",
                                     f"{base}events/{e.key}/", f"{label}: {state} · {timing}",
                                     f"{state}, {timing}" if overdue else state, e.symbol))
        out.append((row, mark_safe("".join(cells))))  # noqa: S308 (each part escaped by format_html)
    return out
