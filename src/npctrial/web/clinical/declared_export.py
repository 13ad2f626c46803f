"""Exports of protocol-declared forms: one dataset per form (CSV, or XLSX with its voided records apart).

Columns: the record's identity (subject, site, record id, event, date, versions) then every field
of the form in declaration order, entered and calculated, as stored (choice codes, true/false,
numbers, ISO dates). The dataset holds live records only: a record voided as entered in error
leaves it, as it leaves every analysis, and is listed on the XLSX sheet ``voided`` (and in the
voided-records listing) with who voided it, when and why. De-identified files shift or remove
the date fields and drop the text fields (a person typed them), as for the typed CRFs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from npctrial.domain.declared_forms import DeclaredForm
from npctrial.web.clinical import exports
from npctrial.web.clinical.models import DeclaredRecord
from npctrial.web.core.screening import protocol_of

__all__ = ["declared_columns", "declared_export_forms", "declared_rows", "declared_xlsx"]

_HEAD = ("subject_id", "site", "record_id", "event", "record_date", "version", "protocol_version")
_VOID = ("voided_at", "voided_by", "void_reason")


def declared_export_forms(study: Any) -> dict[str, DeclaredForm]:
    """The declared forms of the study's current protocol, by id (what the export page lists)."""
    version = study.current_protocol
    return {f.id: f for f in protocol_of(version).forms} if version is not None else {}


def _dates(form: DeclaredForm) -> tuple[str, ...]:
    return ("record_date", *(f.name for f in form.fields if f.type == "date"))


def _free_text(form: DeclaredForm) -> tuple[str, ...]:
    return tuple(f.name for f in form.fields if f.type == "text")


def declared_columns(form: DeclaredForm, deid: Any = None, *, voided: bool = False) -> list[str]:
    cols = [*_HEAD, *form.field_names, *(_VOID if voided else ())]
    return cols if deid is None else deid.columns(cols, _dates(form), (*_free_text(form), "void_reason"))


def _rows(form: DeclaredForm, subjects: Any, voided: bool) -> Iterator[dict[str, Any]]:
    qs = (DeclaredRecord.all_objects.filter(subject__in=subjects, form=form.id, voided_at__isnull=not voided)
          .select_related("subject__site", "protocol_version", "voided_by")
          .order_by("subject__site__code", "subject__seq", "record_date", "pk"))
    for r in qs.iterator(chunk_size=2000):
        row: dict[str, Any] = {"subject_id": r.subject.subject_id, "site": r.subject.site.code, "record_id": r.pk,
                               "event": r.event, "record_date": r.record_date.isoformat(), "version": r.version,
                               "protocol_version": r.protocol_version.label}
        row.update({name: (r.calculated or {}).get(name, (r.values or {}).get(name)) for name in form.field_names})
        if voided:
            row.update(voided_at=r.voided_at.isoformat(), void_reason=r.void_reason,
                       voided_by=r.voided_by.get_username() if r.voided_by else "")
        yield row


def declared_rows(form: DeclaredForm, subjects: Any, deid: Any = None, *,
                  voided: bool = False) -> Iterator[dict[str, Any]]:
    """The live records of ``form`` for the (already scoped) subjects; ``voided=True``: the voided ones."""
    rows = _rows(form, subjects, voided)
    if deid is None:
        return rows
    return deid.rows(rows, "subject_id", _dates(form), (*_free_text(form), "void_reason"))


def declared_xlsx(form: DeclaredForm, subjects: Any, deid: Any = None) -> bytes:
    """XLSX of one declared form: sheet ``records`` (live) and sheet ``voided`` (listed, not analysed)."""
    import pandas as pd

    frames = {"records": pd.DataFrame(list(declared_rows(form, subjects, deid)), columns=declared_columns(form, deid)),
              "voided": pd.DataFrame(list(declared_rows(form, subjects, deid, voided=True)),
                                     columns=declared_columns(form, deid, voided=True))}
    return exports.xlsx_bytes(frames)
