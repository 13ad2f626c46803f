"""Schedule pages: a subject's event x form grid and event page, the study status dashboard, and
"nothing to report" / "not done" marks on a form at an event."""

from __future__ import annotations

import html
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs, grid, labels, locks, schedule, status_board
from npctrial.web.clinical.casebook_state import load_state
from npctrial.web.clinical.declared import declared_specs, declared_table
from npctrial.web.clinical.marks import add_mark, remove_mark
from npctrial.web.clinical.models import NothingToReport
from npctrial.web.clinical.views.common import subject_for, today
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages import display

PAGE_SIZE = 100


def subject_grid(subject: Subject, state: Any = None) -> grid.Grid:
    """The grid of one subject under the protocol version it was enrolled with."""
    version = subject.protocol_version
    return grid.build_grid(state or load_state(subject), schedule.events_of(version),
                           schedule.log_forms_of_text(version.yaml_text), today())


def grid_context(study: Any, subject: Subject, g: grid.Grid, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Template rows: each cell with the page it opens; ``hidden`` forms (no access) are left out.
    Each event's page is reversed once per row (a grid has dozens of cells per row)."""
    screening = reverse("screening-detail", kwargs={"study_pk": study.pk, "pk": subject.screening_id}) \
        if subject.screening_id else ""

    def rows(items: tuple[grid.EventRow, ...], scheduled: bool) -> list[dict[str, Any]]:
        out = []
        for r in items:
            event = reverse("event-detail", kwargs={"study_pk": study.pk, "pk": subject.pk, "event": r.key})
            cells = [{"cell": c, "url": screening if c.form == grid.SCREENING else f"{event}#form-{c.form}"}
                     for c in r.cells if c.form not in hidden]
            out.append({"row": r, "cells": cells, "cells_html": cells_html(cells) if scheduled else ""})
        return out

    declared = declared_specs(subject.protocol_version)
    return {"grid": g, "grid_forms": [(f, declared[f].label if f in declared else grid.form_label(f))
                                      for f in g.forms if f not in hidden],
            "grid_rows": rows(g.rows, True), "grid_extra": rows(g.extra, False)}


def _cell_html(cell: grid.Cell, url: str, badges: dict[str, str]) -> str:
    """One scheduled cell: its status link, record count and badges (open queries, SDV, window)."""
    form = html.escape(cell.form)
    if not cell.status:
        return f'<td class="cell na" data-form="{form}"></td>'
    status = html.escape(cell.status)
    count = f" ({len(cell.records)})" if len(cell.records) > 1 else ""
    out = [f'<td class="cell" data-form="{form}" data-status="{status}"><a class="st s-{status}" '
           f'href="{html.escape(url)}">{html.escape(cell.label)}{count}</a>\n']
    if cell.queries:
        out.append(f'<span class="badge q-open" title="{badges["queries"]}">Q{cell.queries}</span>')
    if cell.sdv == "verified":
        out.append(f'<span class="badge sdv-ok" title="{badges["verified"]}">SDV</span>')
    elif cell.sdv == "partial":
        out.append(f'<span class="badge sdv-part" title="{badges["partial"]}">SDV½</span>')
    if cell.out_of_window:
        out.append(f'<span class="badge t-overdue" title="{badges["window"]}">{badges["window_label"]}</span>')
    out.append("</td>\n")
    return "".join(out)


def cells_html(cells: list[dict[str, Any]]) -> SafeString:
    """The cells of one scheduled event row as HTML, every value escaped: a grid has hundreds of
    cells, which the template engine renders about ten times slower than this."""
    badges = {k: html.escape(str(v)) for k, v in (
        ("queries", _("open data queries")), ("verified", _("source data verified")),
        ("partial", _("partly source data verified")), ("window", _("a record is dated outside the window")),
        ("window_label", _("out of window")))}
    return mark_safe("".join(_cell_html(c["cell"], c["url"], badges) for c in cells))  # noqa: S308 - escaped above


def form_levels(request: HttpRequest, study: Any, subject: Subject) -> dict[str, str]:
    """The user's level on every CRF and declared form at the subject's site."""
    forms = [*crfs.CRFS, *declared_specs(subject.protocol_version)]
    return form_access.form_levels(request.user, study, forms, subject.site)


def hidden_of(levels: dict[str, str]) -> frozenset[str]:
    return frozenset(f for f, level in levels.items() if level == "none")


def event_detail(request: HttpRequest, study_pk: int, pk: int, event: str) -> HttpResponse:
    """One event of a subject: every form it collects, with the records entered there."""
    study, subject = subject_for(request, study_pk, pk, "view")
    state = load_state(subject)
    g = subject_grid(subject, state)
    row = g.row(event)
    if row is None:
        raise Http404("no such event")
    can_edit = permissions.can(request.user, study, "edit_crf", subject.site) and not state.locked
    levels = form_levels(request, study, subject)
    hidden = hidden_of(levels)
    protocol = protocol_of(subject.protocol_version)
    declared = declared_specs(subject.protocol_version)
    forms = []
    for cell in row.cells:
        if not (cell.expected or cell.records) or cell.form == grid.SCREENING or cell.form in hidden:
            continue
        editable = levels[cell.form] == "edit"
        spec = declared.get(cell.form) or crfs.CRFS[cell.form]
        if cell.form in declared:
            columns, rows = declared_table(declared[cell.form], cell.records)
        else:
            cols = labels.summary_columns(cell.form, spec.fields)
            columns = [labels.label_with_unit(labels.field_text(c, protocol)) for c in cols]
            rows = [(r, [labels.display(spec.model, c, getattr(r, c)) for c in cols]) for r in cell.records]
        forms.append({"cell": cell, "spec": spec, "columns": columns, "rows": rows,
                      "can_add": can_edit and editable and row.planned is not None and cell.expected
                      and not (spec.single and state.records.get(cell.form))})
    return render(request, "clinical/event_detail.html", {
        "study": study, "subject": subject, "row": row, "forms": forms, "can_edit": can_edit,
        "mark_kinds": NothingToReport._meta.get_field("kind").choices, "next": request.get_full_path()})


@require_POST
def form_mark(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Mark a form at an event "nothing to report" / "not done" (with a reason), or remove a mark."""
    study, subject = subject_for(request, study_pk, pk, "edit_crf")
    p = request.POST
    event = p.get("event", "")
    try:
        if p.get("action") == "remove":
            mark = NothingToReport.objects.filter(subject=subject, pk=int(p.get("mark", "0") or 0)).first()
            if mark is None:
                raise Http404("no such mark")
            event = mark.event
            remove_mark(mark, request.user, p.get("reason", ""))
            messages.success(request, _("Mark removed"))
        else:
            add_mark(subject, event, p.get("form", ""), p.get("kind", ""), p.get("reason", ""), request.user)
            messages.success(request, _("Form marked"))
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
    if event and event in {e.id for e in schedule.events_of(subject.protocol_version)}:
        return redirect("event-detail", study_pk=study.pk, pk=subject.pk, event=event)
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


def status_dashboard(request: HttpRequest, study_pk: int) -> HttpResponse:
    """Subjects x events with status, filterable by site and status; overdue and upcoming visits."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    sites = list(permissions.visible_sites(request.user, study).order_by("code"))
    qs = permissions.scope(request.user, study, Subject.objects.select_related("site", "screening")).order_by(
        "site__code", "seq")
    site = request.GET.get("site", "")
    if site in {s.code for s in sites}:
        qs = qs.filter(site__code=site)
    else:
        site = ""
    status = request.GET.get("status", "")
    if status not in status_board.FILTERS:
        status = ""
    board = status_board.build_board(study, list(qs), today(), status=status)
    page = Paginator(board.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = {**grid.STATUS_LABELS, **grid.TIMING_LABELS}
    return render(request, "clinical/status_dashboard.html", {
        "study": study, "board": board, "page": page, "page_rows": status_board.page_cells(study, list(page)),
        "sites": sites, "site": site, "status": status,
        "filters": [(f, labels[f], board.counts[f]) for f in status_board.FILTERS],
        "legend": [(k, grid.STATUS_SYMBOLS[k], v) for k, v in grid.STATUS_LABELS.items()],
        "study_locked": locks.study_locked(study)})
