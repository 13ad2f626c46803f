"""Study-level status dashboard: subjects x events, filterable by site and status, with the
overdue and upcoming visits of the subjects in the user's sites.

One :func:`npctrial.web.clinical.casebook_state.load_states` call for every subject shown, then
:func:`npctrial.web.clinical.grid.build_grid` per subject (pure Python, no further queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

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
    """The dashboard of ``subjects`` (already scoped to the user's sites and filtered by site)."""
    versions = _versions(subjects, study)
    current = study.current_protocol
    base_events = versions[current.pk][0] if current is not None else ()
    columns = tuple(Column(e.id, e.label, e.short) for e in base_events)
    states = load_states(subjects)
    rows, overdue, upcoming = [], [], []
    counts = dict.fromkeys(FILTERS, 0)
    for subject in subjects:
        events, log_forms = versions[subject.protocol_version_id]
        g = grid.build_grid(states[subject.pk], events, log_forms, today)
        by_key = {r.key: r for r in g.rows}
        statuses = frozenset({r.status for r in g.rows} | {r.timing for r in g.rows})
        for f in FILTERS:
            counts[f] += f in statuses
        for r in g.rows:
            p = r.planned
            if p is None or p.window_start is None or p.window_end is None:
                continue
            if r.timing == "overdue":
                overdue.append(VisitRow(subject, r, (today - p.window_end).days))
            elif r.timing in ("due", "upcoming"):
                upcoming.append(VisitRow(subject, r, max(0, (p.window_start - today).days)))
        if status and status not in statuses:
            continue
        rows.append(SubjectRow(subject, tuple(by_key.get(c.key) for c in columns), statuses))
    overdue.sort(key=lambda v: (-v.days, v.subject.site.code, v.subject.seq))
    upcoming.sort(key=lambda v: (v.days, v.subject.site.code, v.subject.seq))
    return Board(columns, tuple(rows), tuple(overdue), tuple(upcoming), counts)
