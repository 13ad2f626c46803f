"""Site laboratory reference ranges: versions by effective date, kept for ever and audited.

* :func:`add_range` records a new version (study admin or data manager: ``manage_lab_ranges``
  at the site). The values are checked by :func:`npctrial.domain.check_reference_range` (unit
  from the analyte's controlled list, the limit the CTCAE grade needs, plausible limits, LLN <
  ULN); the site must be a site of the study. A version with the same effective date as an
  existing one replaces it for every lab date from then on, and needs a note saying why (a
  correction); both stay in the database and the audit trail.
* :func:`effective_range`: the range of a lab date is the version with the latest
  ``effective_from`` on or before that date (same date: the later entry). A new version starting
  on the lab date applies to it.
* :func:`scoped_ranges`: what a user may read (the sites in the user's scope).

Lab records copy the LLN/ULN of the effective version when they are entered (the lab panel), so a
later version never changes a stored record or its grade.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from npctrial.domain.lab_panels import check_reference_range
from npctrial.errors import ValidationError
from npctrial.web.clinical.models import LabReferenceRange
from npctrial.web.core import permissions
from npctrial.web.core.models import Site, Study
from npctrial.web.core.text_input import clean_text

__all__ = ["add_range", "effective_range", "effective_ranges", "range_source", "scoped_ranges", "site_of"]


def site_of(study: Study, code: Any) -> Site:
    """The study's site with ``code`` (ValidationError ``field="site"``)."""
    text = code.strip() if isinstance(code, str) else ""
    site = Site.objects.filter(code=text, study_sites__study=study).first() if text and "\x00" not in text else None
    if site is None:
        raise ValidationError(_("site %(code)r is not a site of this study") % {"code": code}, field="site")
    return site


def _check_date(value: Any) -> date:
    if not isinstance(value, date):
        raise ValidationError(_("effective_from must be a date (YYYY-MM-DD)"), field="effective_from")
    return value


def add_range(study: Study, site_code: Any, *, analyte: Any, unit: Any, lln: Any, uln: Any, effective_from: Any,
              note: str = "", user: Any = None) -> LabReferenceRange:
    """Record a new version of a site's reference range (module docstring); returns it."""
    site = site_of(study, site_code)
    permissions.require(user, study, "manage_lab_ranges", site)
    checked = check_reference_range(analyte, unit, lln, uln)
    when = _check_date(effective_from)
    note = clean_text(note if isinstance(note, str) else None, "note", 300)
    same_day = LabReferenceRange.objects.filter(study=study, site=site, analyte=checked.analyte, effective_from=when)
    if same_day.exists() and not note:
        raise ValidationError(_("a range of %(analyte)s at %(site)s is already effective from %(date)s: say in the "
                                "note why this version replaces it") % {"analyte": checked.analyte,
                                                                      "site": site.code, "date": when.isoformat()},
                              field="note")
    record = LabReferenceRange(study=study, site=site, analyte=checked.analyte, unit=checked.unit, lln=checked.lln,
                               uln=checked.uln, effective_from=when, note=note,
                               created_by=user if getattr(user, "is_authenticated", False) else None)
    if getattr(user, "is_authenticated", False):
        record._history_user = user
    record.save(reason=note or None)
    return record


def effective_range(study: Study, site: Site, analyte: str, on: date) -> LabReferenceRange | None:
    """The version of the site's range of ``analyte`` in force on ``on`` (None: no range yet)."""
    return (LabReferenceRange.objects.filter(study=study, site=site, analyte=analyte, effective_from__lte=on)
            .order_by("-effective_from", "-pk").first())


def effective_ranges(study: Study, site: Site, on: date | None) -> dict[str, LabReferenceRange]:
    """Analyte key -> the version in force on ``on`` (nothing without a date)."""
    if on is None:
        return {}
    out: dict[str, LabReferenceRange] = {}
    for r in (LabReferenceRange.objects.filter(study=study, site=site, effective_from__lte=on)
              .order_by("analyte", "-effective_from", "-pk")):
        out.setdefault(r.analyte, r)
    return out


def scoped_ranges(user: Any, study: Study) -> QuerySet[LabReferenceRange]:
    """Every version at the sites in the user's scope, newest first per site and analyte."""
    return (permissions.scope(user, study, LabReferenceRange.objects.select_related("site", "created_by"))
            .order_by("site__code", "analyte", "-effective_from", "-pk"))


def range_source(r: LabReferenceRange) -> str:
    """How a lab record names the range it copied (kept in the record's audit trail)."""
    return _("reference range of site %(site)s for %(analyte)s effective from %(date)s (#%(pk)s)") % {
        "site": r.site.code, "analyte": r.analyte, "date": r.effective_from.isoformat(), "pk": r.pk}
