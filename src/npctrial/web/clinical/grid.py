"""The event x form grid of a subject and the status of each cell, event and subject.

Cell status (one form at one event), in this order of precedence once data exist:

1. ``locked``: the subject or the study is locked;
2. ``signed``: the investigator's signature still covers the casebook;
3. ``query``: a data query on one of the cell's records is not closed;
4. ``verified``: every record is source-data verified at its current version (:mod:`.sdv`; the
   SDV mark is ``partial`` when some records or some critical fields are);
5. ``incomplete``: a record lacks a field a complete record has (``CrfSpec.expected``);
6. ``complete``.

Without records the cell is ``not_started``, or ``complete``/``not_done`` when the coordinator
marked the form "nothing to report"/"not done" at that event. An event's status is
``not_started`` when none of its forms is started, ``query`` when any form has an open query,
``incomplete`` while any form is not started or incomplete, else the lowest status of its forms
(complete < verified < signed < locked). The event's timing (done / overdue / due / upcoming /
planned / unscheduled) comes from :func:`npctrial.domain.classify_timing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from npctrial.domain import EventDefinition, PlannedEvent, classify_timing, follow_up_stop
from npctrial.web.clinical import crfs, schedule
from npctrial.web.clinical.casebook_state import SubjectState

STATUS_LABELS = {
    "not_started": _("not started"), "incomplete": _("incomplete"), "complete": _("complete"),
    "not_done": _("not done"), "query": _("query open"), "verified": _("verified"), "signed": _("signed"),
    "locked": _("locked"),
}
#: one-character codes of the dashboard cells (the legend and each cell's title give the words)
STATUS_SYMBOLS = {"not_started": "○", "incomplete": "◐", "complete": "●", "not_done": "⊘", "query": "?",
                  "verified": "✓", "signed": "S", "locked": "L"}
TIMING_LABELS = {
    "done": _("done"), "overdue": _("overdue"), "due": _("due now"), "upcoming": _("upcoming"),
    "planned": _("planned"), "unscheduled": _("date not known yet"),
}
_RANK = {"incomplete": 1, "complete": 2, "not_done": 2, "verified": 3, "signed": 4, "locked": 5}
SCREENING = "screening"


@dataclass(frozen=True)
class Cell:
    form: str
    expected: bool
    status: str  # a key of STATUS_LABELS, or "" for a form the event does not collect and has no data
    records: tuple[Any, ...] = ()
    queries: int = 0
    mark: Any = None
    sdv: str = ""  # "", "partial", "verified"
    out_of_window: bool = False

    @property
    def label(self) -> str:
        return str(STATUS_LABELS.get(self.status, ""))


@dataclass(frozen=True)
class EventRow:
    key: str
    label: str
    planned: PlannedEvent | None
    timing: str
    status: str
    cells: tuple[Cell, ...]

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, ""))

    @property
    def symbol(self) -> str:
        return STATUS_SYMBOLS.get(self.status, "")

    @property
    def timing_label(self) -> str:
        return str(TIMING_LABELS.get(self.timing, ""))


@dataclass(frozen=True)
class Grid:
    forms: tuple[str, ...]
    rows: tuple[EventRow, ...]  # scheduled events
    extra: tuple[EventRow, ...]  # log forms, then unscheduled records

    def row(self, key: str) -> EventRow | None:
        return next((r for r in (*self.rows, *self.extra) if r.key == key), None)


def date_field_of(slug: str) -> str:
    """The attribute that dates a record of form ``slug`` (``record_date`` for protocol-declared forms)."""
    spec = crfs.CRFS.get(slug)
    return spec.date_field if spec is not None else "record_date"


def form_label(slug: str) -> str:
    if slug == SCREENING:
        return str(_("Screening"))
    spec = crfs.CRFS.get(slug)
    return str(spec.label) if spec is not None else slug


def record_complete(slug: str, record: Any) -> bool:
    spec = crfs.CRFS.get(slug)
    return spec is None or all(getattr(record, f) not in (None, "") for f in spec.expected)


def cell_status(state: SubjectState, slug: str, records: list[Any], mark: Any) -> tuple[str, int, str]:
    """(status, open queries, SDV state) of one form's records at one event (module docstring)."""
    if not records:
        if mark is None:
            return "not_started", 0, ""
        return ("not_done" if mark.kind == "not_done" else "complete"), 0, ""
    refs = [SCREENING if slug == SCREENING else crfs.query_record(slug, r.pk) for r in records]
    queries = sum(state.open_queries.get(ref, 0) for ref in refs)
    pairs = list(zip(refs, records, strict=True))
    verified = sum(1 for ref, r in pairs if state.verified.get(ref) == r.version)
    some = any(r.version in state.fields_verified.get(ref, ()) for ref, r in pairs)
    sdv = "verified" if verified == len(records) else ("partial" if verified or some else "")
    if state.locked:
        return "locked", queries, sdv
    if state.signed:
        return "signed", queries, sdv
    if queries:
        return "query", queries, sdv
    if sdv == "verified":
        return "verified", queries, sdv
    if not all(record_complete(slug, r) for r in records):
        return "incomplete", queries, sdv
    return "complete", queries, sdv


def event_status(cells: list[Cell]) -> str:
    expected = [c for c in cells if c.expected]
    if not expected or all(c.status == "not_started" for c in expected):
        return "not_started"
    if any(c.status == "query" for c in cells):
        return "query"
    if any(c.status in ("not_started", "incomplete") for c in expected):
        return "incomplete"
    return min((c.status for c in expected), key=lambda s: _RANK[s])


def _screening_records(state: SubjectState) -> list[Any]:
    return [state.subject.screening]


def _placed(state: SubjectState, planned: tuple[PlannedEvent, ...]) -> dict[tuple[str, str], list[Any]]:
    """(event id or "", form) -> records of the subject placed in that event."""
    out: dict[tuple[str, str], list[Any]] = {}
    ids = frozenset(p.id for p in planned)
    for slug, records in state.records.items():
        date_field = date_field_of(slug)
        for r in records:
            out.setdefault((schedule.event_of_record(r, slug, date_field, planned, ids), slug), []).append(r)
    return out


def _out_of_window(p: PlannedEvent, slug: str, records: list[Any]) -> bool:
    date_field = "" if slug == SCREENING else date_field_of(slug)
    days = [getattr(r, date_field, None) for r in records] if date_field else []
    return p.window_start is not None and any(d is not None and not p.contains(d) for d in days)


def _cell(state: SubjectState, p: PlannedEvent, slug: str, placed: dict[tuple[str, str], list[Any]],
          window: bool = True) -> Cell:
    """Form ``slug`` at event ``p`` (``window=False``: out-of-window dates not checked)."""
    expected = p.event.expects(slug)
    records = _screening_records(state) if slug == SCREENING and expected else placed.get((p.id, slug), [])
    if not expected and not records:
        return Cell(slug, False, "")
    mark = state.marks.get((p.id, slug))
    status, queries, sdv = cell_status(state, slug, records, mark)
    return Cell(slug, expected, status, tuple(records), queries, mark, sdv, window and _out_of_window(p, slug, records))


def _event_row(p: PlannedEvent, cells: list[Cell], today: date, stopped: date | None) -> EventRow:
    started = any(c.records or c.mark is not None for c in cells)
    return EventRow(p.id, p.event.label, p, classify_timing(p, started, today, stopped_on=stopped),
                    event_status(cells), tuple(cells))


def _forms(events: tuple[EventDefinition, ...], log_forms: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([f for e in events for f in e.forms] + list(log_forms)))


def _stop(state: SubjectState) -> date | None:
    return follow_up_stop((e.kind, e.event_date) for e in state.records.get("event", []))  # death, withdrawal


def event_summary(state: SubjectState, events: tuple[EventDefinition, ...], log_forms: tuple[str, ...],
                  today: date) -> tuple[EventRow, ...]:
    """The scheduled rows of :func:`build_grid` with the same key, status and timing, for the status
    dashboard: each row's cells are only the forms the event collects or holds records of (those
    its status and timing depend on), without the out-of-window check."""
    planned = schedule.planned_for(state.subject, state.rt, events)
    stopped = _stop(state)
    forms = set(_forms(events, log_forms))
    placed = _placed(state, planned)
    entered: dict[str, list[str]] = {}
    for event_id, slug in placed:
        if slug in forms:
            entered.setdefault(event_id, []).append(slug)
    marked = {event_id for event_id, _slug in state.marks}
    rows = []
    for p in planned:
        if p.id not in entered and p.id not in marked and not p.event.expects(SCREENING):
            # nothing entered or marked: every form not started (event_status), the event not started
            rows.append(EventRow(p.id, p.event.label, p, classify_timing(p, False, today, stopped_on=stopped),
                                 "not_started", ()))
            continue
        slugs = dict.fromkeys((*p.event.forms, *entered.get(p.id, ())))
        rows.append(_event_row(p, [_cell(state, p, slug, placed, window=False) for slug in slugs], today, stopped))
    return tuple(rows)


def build_grid(state: SubjectState, events: tuple[EventDefinition, ...], log_forms: tuple[str, ...],
               today: date) -> Grid:
    """The grid of one subject: one row per event, one column per form of the schedule."""
    planned = schedule.planned_for(state.subject, state.rt, events)
    stopped = _stop(state)
    forms = _forms(events, log_forms)
    placed = _placed(state, planned)
    rows = [_event_row(p, [_cell(state, p, slug, placed) for slug in forms], today, stopped) for p in planned]
    extra = []
    for key, label, pick in (("log", _("Log forms (any time)"), lambda f: f in log_forms),
                             ("unscheduled", _("Unscheduled"), lambda f: f not in log_forms)):
        cells = []
        for slug in forms:
            records = placed.get(("", slug), []) if pick(slug) else []
            if records:
                status, queries, sdv = cell_status(state, slug, records, None)
                cells.append(Cell(slug, key == "log", status, tuple(records), queries, None, sdv))
            else:
                cells.append(Cell(slug, key == "log" and pick(slug), ""))
        if any(c.records for c in cells) or key == "log" and log_forms:
            extra.append(EventRow(key, str(label), None, "", "", tuple(cells)))
    return Grid(forms, tuple(rows), tuple(extra))
