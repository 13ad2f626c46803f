"""The lab panel page: every analyte of a weekly panel of one subject, date and week in one submission.

LLN and ULN are shown, not typed: they come from the site's reference range in force on the
sample date (a monitor checks them against one versioned, audited range per laboratory instead
of a transcription per record; a wrong range is corrected on the reference-range page, and a
value from another laboratory goes through the single lab form with its own LLN/ULN). Changing
the date re-reads the ranges (htmx GET of the rows); each row's suggested CTCAE grade is asked of
the domain grader as the value is typed (:func:`lab_panel_grade`). Saving is all or nothing
(:func:`npctrial.web.clinical.lab_panel.save_panel`), each problem shown on its row and field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.domain.lab_analytes import Analyte
from npctrial.domain.lab_panels import LabPanel, lab_panel, lab_panels
from npctrial.errors import ValidationError
from npctrial.web.clinical import lab_panel as service
from npctrial.web.clinical.views.common import subject_for
from npctrial.web.clinical.views.crf import _event_of
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject
from npctrial.web.languages import display


def _date(text: str | None) -> date | str | None:
    """An ISO date, or the text as typed (refused by the service), or None when empty."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return text


def _number(text: str | None, kind: type = float) -> Any:
    """A number parsed from the text, or the text itself (the service names the field it refuses)."""
    if text is None or not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        return text


def _panel_of(data: QueryDict) -> LabPanel:
    try:
        return lab_panel(data.get("panel") or lab_panels()[0].key)
    except ValidationError:
        return lab_panels()[0]


def _rows_of(panel: LabPanel, data: QueryDict) -> list[dict[str, Any]]:
    return [{"analyte": a.key, "value": _number(data.get(f"{a.key}-value")), "unit": data.get(f"{a.key}-unit", ""),
             "grade": _number(data.get(f"{a.key}-grade"), int),
             "override_reason": data.get(f"{a.key}-override_reason", "")} for a in panel.analytes]


def _suggestion(subject: Subject, analyte: Analyte, value: Any, unit: str, on: Any) -> dict[str, Any]:
    if value is None:
        return {"grade": None, "message": ""}
    try:
        grade, _r = service.suggest_row_grade(subject, analyte, value, unit, on if isinstance(on, date) else None)
    except ValidationError as exc:
        return {"grade": None, "message": display.message_text(exc)}
    return {"grade": grade, "message": ""}


def _row(subject: Subject, analyte: Analyte, data: QueryDict, on: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    r = service.row_reference(subject, analyte, on if isinstance(on, date) else None)
    unit = data.get(f"{analyte.key}-unit") or (r.unit if r is not None else analyte.canonical_unit)
    value = data.get(f"{analyte.key}-value", "")
    return {"analyte": analyte, "range": r, "unit": unit, "value": value,
            "grade": data.get(f"{analyte.key}-grade", ""),
            "override_reason": data.get(f"{analyte.key}-override_reason", ""), "errors": errors,
            "suggested": _suggestion(subject, analyte, _number(value), unit, on)}


def _context(subject: Subject, panel: LabPanel, data: QueryDict, problems: list[service.RowProblem]) -> dict[str, Any]:
    on = _date(data.get("sample_date"))
    by_row: dict[str, dict[str, list[str]]] = {}
    for p in problems:
        if p.row is not None:
            by_row.setdefault(p.analyte, {}).setdefault(p.field, []).append(p.message)
    sections = [{"section": s, "rows": [_row(subject, a, data, on, by_row.get(a.key, {})) for a in s.analytes]}
                for s in panel.sections]
    return {"panel": panel, "sections": sections, "sample_date": data.get("sample_date", ""),
            "week": data.get("week", ""), "header_errors": [p for p in problems if p.row is None],
            "panels": lab_panels()}


def _initial(subject: Subject, event: Any, data: QueryDict) -> QueryDict:
    out = data.copy()
    if event is not None and event.occurrence and event.anchor == "rt_start" and not out.get("week"):
        out["week"] = str(event.occurrence)
    return out


def lab_panel_page(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """GET: the empty panel (or its rows again for another date); POST: save every non-blank row."""
    study, subject = subject_for(request, study_pk, pk, "view")
    permissions.require(request.user, study, "edit_crf", subject.site)
    form_access.require_form(request.user, study, "lab", "edit", subject.site)
    data = request.POST if request.method == "POST" else request.GET
    panel = _panel_of(data)
    event = _event_of(subject, data.get("event") or "", None)
    problems: list[service.RowProblem] = []
    if request.method == "POST":
        try:
            saved = service.save_panel(subject, panel.key, sample_date=_date(data.get("sample_date")),
                                       week=_number(data.get("week"), int), rows=_rows_of(panel, data),
                                       user=request.user, event=event.id if event is not None else None)
        except service.PanelRefused as exc:
            problems = exc.problems
        else:
            for _record, notes in saved:
                for n in notes:
                    messages.warning(request, n)
            messages.success(request, _("Lab panel saved: %(n)s values") % {"n": len(saved)})
            if event is not None:
                return redirect("event-detail", study_pk=study.pk, pk=subject.pk, event=event.id)
            return redirect("casebook", study_pk=study.pk, pk=subject.pk)
    ctx = {"study": study, "subject": subject, "event": event,
           **_context(subject, panel, _initial(subject, event, data), problems)}
    if request.method == "GET" and data.get("ranges") and request.headers.get("HX-Request"):
        # a new sample date: only the ranges in force are swapped in; the rows ask for their grades again
        response = render(request, "clinical/_lab_panel_ranges.html", ctx)
        response["HX-Trigger-After-Settle"] = "lab-ranges-changed"
        return response
    return render(request, "clinical/lab_panel.html", ctx, status=400 if problems else 200)


@require_POST
def lab_panel_grade(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """htmx: the suggested CTCAE v4.03 grade of one row (``analyte``) against the site's range on the date."""
    _study, subject = subject_for(request, study_pk, pk, "view")
    p = request.POST
    panel = _panel_of(p)
    analyte = next((a for a in panel.analytes if a.key == p.get("analyte")), None)
    if analyte is None:
        return HttpResponse(_("unknown analyte"), status=400)
    s = _suggestion(subject, analyte, _number(p.get(f"{analyte.key}-value")), p.get(f"{analyte.key}-unit", ""),
                    _date(p.get("sample_date")))
    return HttpResponse(render_to_string("clinical/_lab_panel_grade.html",
                                         {"key": analyte.key, "suggested": s}, request=request))
