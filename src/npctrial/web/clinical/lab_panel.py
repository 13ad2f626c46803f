"""Entering a whole lab panel (blood count, liver, renal ...) of one subject, date and week at once.

:func:`save_panel`, used by the panel page and the API alike:

1. The header: ``sample_date`` (a date) and ``week`` (a whole number >= 0) are required; the
   panel is one of :func:`npctrial.domain.lab_panels` (``field="panel"``).
2. Each row names an analyte of the panel (once), its value and unit; a row without value,
   grade and override reason is blank and skipped (not an error).
3. LLN and ULN are not typed: they are copied from the site's reference range in force on the
   sample date (:func:`npctrial.web.clinical.lab_ranges.effective_range`), with their unit, and
   the version copied is named in the record's audit trail. An analyte without a range at the
   site on that date is refused (the data manager records the range first).
4. Every non-blank row is saved as an ordinary "lab" CRF record by
   :func:`npctrial.web.clinical.crfs.save_crf` (unit checks, suggested CTCAE grade, override
   reason, edit checks and queries, e.g. the same analyte twice on one date) -- all rows in one
   transaction: if any row is refused nothing is saved, and :class:`PanelRefused` lists every
   problem by row (0-based index), analyte and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from npctrial.domain import grade_lab
from npctrial.domain._inputs import check_number
from npctrial.domain.lab_analytes import Analyte
from npctrial.domain.lab_panels import LabPanel, lab_panel
from npctrial.errors import ValidationError
from npctrial.web.clinical import checks, crfs, lab_ranges
from npctrial.web.clinical.models import LabReferenceRange
from npctrial.web.core.models import Subject
from npctrial.web.core.text_input import clean_text
from npctrial.web.languages import display
from npctrial.web.languages.display import protocol_text

__all__ = ["HEADER_FIELDS", "ROW_FIELDS", "PanelRefused", "RowProblem", "row_reference", "save_panel",
           "suggest_row_grade"]

ROW_FIELDS = ("analyte", "value", "unit", "grade", "override_reason")
HEADER_FIELDS = ("sample_date", "week", "event", "panel", "form")


@dataclass(frozen=True)
class RowProblem:
    row: int | None  # 0-based row of the submission; None for the header
    analyte: str
    field: str
    message: str  # in the reader's language
    english: str = ""  # the English text of a coded domain message, with its code (what API clients match)
    code: str | None = None

    @property
    def path(self) -> str:
        """The field as the API names it: ``rows.3.value`` (or the header field)."""
        return self.field if self.row is None else f"rows.{self.row}.{self.field}"


class PanelRefused(ValidationError):
    """Nothing was saved; ``problems`` holds every refusal by row and field."""

    def __init__(self, problems: list[RowProblem]):
        first = problems[0]
        text = first.message if first.row is None else _("row %(n)s (%(analyte)s): %(message)s") % {
            "n": first.row + 1, "analyte": first.analyte, "message": first.message}
        if len(problems) > 1:
            text += " " + _("(and %(n)s more)") % {"n": len(problems) - 1}
        super().__init__(text, field=first.path)
        self.problems = problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_header(sample_date: Any, week: Any) -> list[RowProblem]:
    out = []
    if not isinstance(sample_date, date):
        out.append(RowProblem(None, "", "sample_date", _("sample_date is required (YYYY-MM-DD)")))
    if isinstance(week, bool) or not isinstance(week, int) or not 0 <= week <= 32767:
        out.append(RowProblem(None, "", "week", _("week is required: a whole number (week of radiotherapy)")))
    return out


def row_reference(subject: Subject, analyte: Analyte, on: date | None) -> LabReferenceRange | None:
    """The site's reference range of the analyte in force on the sample date."""
    return None if on is None else lab_ranges.effective_range(subject.study, subject.site, analyte.key, on)


def suggest_row_grade(subject: Subject, analyte: Analyte, value: Any, unit: Any, on: date | None) -> tuple[int, Any]:
    """(suggested CTCAE v4.03 grade, range used) of one row, graded by the domain against the site's range."""
    r = row_reference(subject, analyte, on)
    if r is None:
        raise ValidationError(_("no reference range of %(analyte)s at site %(site)s on this date")
                              % {"analyte": protocol_text(analyte.label), "site": subject.site.code}, field="lln")
    grade = grade_lab(str(analyte.ctcae_term), check_number(value, "value"), unit, lln=r.lln, uln=r.uln,
                      lln_unit=r.unit, uln_unit=r.unit)
    return grade, r


def _row_values(panel: LabPanel, row: Any, seen: set[str]) -> tuple[Analyte, dict[str, Any]] | None:
    """The analyte and the record values of one submitted row (None: a blank row)."""
    if not isinstance(row, dict):
        raise ValidationError(_("each row is an object with analyte, value and unit"), field="analyte")
    unknown = sorted(set(row) - set(ROW_FIELDS))
    if unknown:
        raise ValidationError(_("unknown field %(name)s") % {"name": unknown[0]}, field=str(unknown[0]))
    analyte = next((a for a in panel.analytes if a.key == row.get("analyte")), None)
    if analyte is None:
        raise ValidationError(_("analyte %(value)r is not in the panel; expected one of %(keys)s")
                              % {"value": row.get("analyte"), "keys": ", ".join(a.key for a in panel.analytes)},
                              field="analyte")
    if analyte.key in seen:
        raise ValidationError(_("%(analyte)s appears twice in the panel") % {"analyte": protocol_text(analyte.label)},
                              field="analyte")
    seen.add(analyte.key)
    if all(_blank(row.get(k)) for k in ("value", "grade", "override_reason")):
        return None
    if _blank(row.get("value")):
        raise ValidationError(_("enter the value (or clear the row)"), field="value")
    if _blank(row.get("unit")):
        raise ValidationError(_("unit is required"), field="unit")
    reason = row.get("override_reason")
    if not _blank(reason) and not isinstance(reason, str):
        raise ValidationError(_("override_reason must be a text"), field="override_reason")
    reason = clean_text(reason, "override_reason", 300)
    if not isinstance(row["unit"], str) or "\x00" in row["unit"]:
        raise ValidationError(_("unit must be one of %(units)s") % {"units": ", ".join(analyte.unit_names)},
                              field="unit")
    grade = row.get("grade")
    if not _blank(grade) and (isinstance(grade, bool) or not isinstance(grade, int)):
        raise ValidationError(_("grade must be a whole number 0-4 (empty: the suggested grade)"), field="grade")
    return analyte, {"term": analyte.ctcae_term, "value": check_number(row["value"], "value"),
                     "unit": row["unit"], "grade": None if _blank(grade) else grade,
                     "override_reason": reason}


def _with_range(subject: Subject, analyte: Analyte, values: dict[str, Any], on: date) -> tuple[dict[str, Any], Any]:
    r = row_reference(subject, analyte, on)
    if r is None:
        raise ValidationError(_("no reference range of %(analyte)s at site %(site)s is in force on %(date)s: the data "
                                "manager records the laboratory's range first")
                              % {"analyte": protocol_text(analyte.label), "site": subject.site.code, "date": on.isoformat()},
                              field="lln")
    return {**values, "lln": r.lln, "lln_unit": r.unit if r.lln is not None else "",
            "uln": r.uln, "uln_unit": r.unit if r.uln is not None else ""}, r


def _save_rows(subject: Subject, panel: LabPanel, rows: list[Any], head: dict[str, Any], user: Any,
               event: str | None) -> tuple[list[tuple[Any, list[str]]], list[RowProblem]]:
    saved: list[tuple[Any, list[str]]] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        key = str(row.get("analyte", "")) if isinstance(row, dict) else ""
        try:
            parsed = _row_values(panel, row, seen)
            if parsed is None:
                continue
            analyte, values = parsed
            values, r = _with_range(subject, analyte, {**values, **head}, head["sample_date"])
            with transaction.atomic():
                saved.append(crfs.save_crf("lab", subject, values, user, reason=lab_ranges.range_source(r),
                                           event=event, resync=False))
        except ValidationError as exc:
            field = exc.field or "value"
            problems.append(RowProblem(None if field in HEADER_FIELDS else i, key, field, display.message_text(exc),
                                       str(exc), exc.code))
    return saved, problems


def save_panel(subject: Subject, panel_key: Any, *, sample_date: Any, week: Any, rows: Any, user: Any,
               event: str | None = None) -> list[tuple[Any, list[str]]]:
    """Save every non-blank row as a lab record, all or nothing (module docstring); (record, notes) per row."""
    panel = lab_panel(panel_key)
    problems = check_header(sample_date, week)
    if not isinstance(rows, list):
        problems.append(RowProblem(None, "", "rows", _("rows must be a list")))
    if problems:
        raise PanelRefused(problems)
    head = {"sample_date": sample_date, "week": week}
    with transaction.atomic():
        saved, problems = _save_rows(subject, panel, rows, head, user, event)
        header = {(p.field, p.message, p.english, p.code) for p in problems if p.row is None}
        problems = [*(RowProblem(None, "", *h) for h in sorted(header, key=lambda h: h[:3])),
                    *(p for p in problems if p.row is not None)]
        if not problems and not saved:
            problems = [RowProblem(None, "", "rows", _("the panel is empty: enter at least one value"))]
        if problems:
            raise PanelRefused(problems)  # leaves the atomic block: every row saved above is rolled back
        checks.resync_open_queries(subject, exclude={("lab", record.pk) for record, _notes in saved})  # once
    return saved
