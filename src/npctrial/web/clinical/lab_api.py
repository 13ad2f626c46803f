"""API routes of the lab panel and the site laboratory reference ranges (mounted in the clinical router).

The panel is saved by the same service as the page (:func:`npctrial.web.clinical.lab_panel.save_panel`):
a refused panel is 422 with every problem by ``row`` (0-based), ``analyte`` and ``field``
(``rows.3.value``), and nothing is saved. Reference ranges are listed for the sites in the
caller's scope and added by the study admin or data manager (``manage_lab_ranges``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from npctrial.domain.lab_panels import lab_panel, lab_panels
from npctrial.errors import ValidationError
from npctrial.web.clinical import lab_panel as panel_service
from npctrial.web.clinical import lab_ranges
from npctrial.web.clinical.models import LabReferenceRange
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject
from npctrial.web.languages import display

router = Router(tags=["lab"])


class PanelRowIn(Schema):
    analyte: Any = None
    value: Any = None
    unit: Any = None
    grade: Any = None
    override_reason: Any = None


class PanelIn(Schema):
    panel: str = Field(default_factory=lambda: lab_panels()[0].key)
    sample_date: Any = None
    week: Any = None
    event: str | None = None
    rows: list[PanelRowIn]


class RangeIn(Schema):
    site: str
    analyte: str
    unit: str
    lln: Any = None
    uln: Any = None
    effective_from: Any = None
    note: str = ""


class RangeFilter(Schema):
    site: str | None = None
    analyte: str | None = None


def _date(value: Any) -> Any:
    """An ISO date from a JSON string (anything else is passed on and refused by the service, naming the field)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


def range_out(r: LabReferenceRange | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"id": r.pk, "site": r.site.code, "analyte": r.analyte, "unit": r.unit, "lln": r.lln, "uln": r.uln,
            "effective_from": r.effective_from.isoformat(), "note": r.note, "version": r.version,
            "created_by": r.created_by.get_username() if r.created_by else None,
            "created_at": r.created_at.isoformat()}


def _subject(request: HttpRequest, study_id: int, subject_pk: int, capability: str) -> tuple[Any, Subject]:
    return permissions.get_object_for(request.user, study_id, Subject.objects.select_related("site", "study"),
                                      subject_pk, capability)


@router.get("/studies/{study_id}/subjects/{subject_pk}/lab-panel")
def lab_panel_rows(request: HttpRequest, study_id: int, subject_pk: int, panel: str | None = None,
                   sample_date: str | None = None) -> dict[str, Any]:
    """The panel's rows for a sample date: each analyte's units and the site's range in force on that date."""
    study, subject = _subject(request, study_id, subject_pk, "view")
    form_access.require_form(request.user, study, "lab", "read", subject.site)
    p = lab_panel(panel or lab_panels()[0].key)
    on = _date(sample_date) if sample_date else None
    if on is not None and not isinstance(on, date):
        raise ValidationError(_("sample_date must be a date (YYYY-MM-DD)"), field="sample_date")
    rows = []
    for section in p.sections:
        for a in section.analytes:
            r = panel_service.row_reference(subject, a, on)
            rows.append({"section": section.key, "analyte": a.key, "label": a.label, "ctcae_term": a.ctcae_term,
                         "units": list(a.unit_names), "unit": r.unit if r is not None else a.canonical_unit,
                         "range": range_out(r)})
    return {"panel": p.key, "label": str(p.label), "sample_date": on.isoformat() if on else None, "rows": rows}


@router.post("/studies/{study_id}/subjects/{subject_pk}/lab-panel", response={201: dict, 422: dict})
def save_lab_panel(request: HttpRequest, study_id: int, subject_pk: int, payload: PanelIn) -> Status:
    """Save every non-blank row as a lab record, all or nothing (422 lists every problem by row and field)."""
    from npctrial.web.clinical.api import _record_out

    _, subject = _subject(request, study_id, subject_pk, "edit_crf")
    try:
        saved = panel_service.save_panel(subject, payload.panel, sample_date=_date(payload.sample_date),
                                         week=payload.week, rows=[r.dict() for r in payload.rows],
                                         user=request.user, event=payload.event)
    except panel_service.PanelRefused as exc:
        return Status(422, {"detail": display.message_text(exc), "errors": [
            {"row": p.row, "analyte": p.analyte or None, "field": p.path, "message": p.english or p.message,
             **({"code": p.code} if p.code else {})} for p in exc.problems]})
    return Status(201, {"records": [_record_out("lab", rec) for rec, _ in saved],
                        "notes": [n for _, notes in saved for n in notes]})


@router.get("/studies/{study_id}/lab-ranges")
def list_lab_ranges(request: HttpRequest, study_id: int, filters: Query[RangeFilter]) -> dict[str, Any]:
    """Every version of the reference ranges at the sites in the caller's scope (newest first)."""
    study = permissions.get_study_for(request.user, study_id, "view")
    qs = lab_ranges.scoped_ranges(request.user, study)
    for name, lookup in (("site", "site__code"), ("analyte", "analyte")):
        value = getattr(filters, name)
        if value:  # NUL cannot be stored, so nothing matches it (PostgreSQL would refuse the query)
            qs = qs.filter(**{lookup: value}) if "\x00" not in value else qs.none()
    return {"ranges": [range_out(r) for r in qs]}


@router.post("/studies/{study_id}/lab-ranges", response={201: dict})
def create_lab_range(request: HttpRequest, study_id: int, payload: RangeIn) -> Status:
    """Record a new version of a site's range (validated as on the reference-range page)."""
    study = permissions.get_study_for(request.user, study_id, "view")
    r = lab_ranges.add_range(study, payload.site, analyte=payload.analyte, unit=payload.unit, lln=payload.lln,
                             uln=payload.uln, effective_from=_date(payload.effective_from), note=payload.note,
                             user=request.user)
    return Status(201, range_out(r))
