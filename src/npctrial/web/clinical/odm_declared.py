"""Protocol-declared forms in the CDISC ODM 1.3 export, beside the typed CRFs.

Each declared form of the study's current protocol is a ``FormDef`` ``F.<form id>`` with one
``ItemGroupDef`` and an ``ItemDef`` per field (ODM data types from the field's type: number ->
float, integer, date, boolean, text and choice -> text with the choice codes as values).
ClinicalData holds the live records (a voided record leaves the export as it leaves the
analyses; it stays in the voided-records listing), the entered fields and the calculated ones
(an import recomputes those, it does not read them). De-identified: dates shifted, text dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from npctrial.domain.declared_forms import DeclaredForm
from npctrial.web.clinical.models import DeclaredRecord

__all__ = ["declared_odm_defs", "declared_odm_forms", "declared_odm_items", "odm_text"]

_ODM_TYPE = {"number": "float", "int": "integer", "date": "date", "bool": "boolean"}


def odm_text(v: Any) -> str:
    """An ODM ItemData value: true/false, ISO dates and date-times, else the text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


def _items(form: DeclaredForm, deid: Any) -> list[str]:
    names = list(form.field_names)
    if deid is None:
        return names
    return [n for n in deid.columns(names, _dates(form), _free_text(form)) if n in names]


def _dates(form: DeclaredForm) -> tuple[str, ...]:
    return tuple(f.name for f in form.fields if f.type == "date")


def _free_text(form: DeclaredForm) -> tuple[str, ...]:
    return tuple(f.name for f in form.fields if f.type == "text")


def declared_odm_forms(study: Any) -> list[DeclaredForm]:
    """The declared forms of the study's current protocol, in declaration order."""
    from npctrial.web.core.screening import protocol_of

    version = study.current_protocol
    return list(protocol_of(version).forms) if version is not None else []


def declared_odm_defs(forms: Iterable[DeclaredForm], deid: Any = None) -> tuple[list[str], list[str], list[str]]:
    """The FormDef, ItemGroupDef and ItemDef elements of the declared forms (three lists of XML text)."""
    form_defs, group_defs, item_defs = [], [], []
    for form in forms:
        label = quoteattr(str(form.label))  # the published English
        form_defs.append(f'<FormDef OID="F.{form.id}" Name={label} Repeating="Yes">'
                         f'<ItemGroupRef ItemGroupOID="IG.{form.id}" Mandatory="Yes"/></FormDef>\n')
        items = _items(form, deid)
        group_defs.append(f'<ItemGroupDef OID="IG.{form.id}" Name={label} Repeating="Yes">' + "".join(
            f'<ItemRef ItemOID="IT.{form.id}.{n}" Mandatory="No"/>' for n in items) + "</ItemGroupDef>\n")
        for n in items:
            item_defs.append(f'<ItemDef OID="IT.{form.id}.{n}" Name="{n}" '
                             f'DataType="{_ODM_TYPE.get(form.field(n).type, "text")}"/>\n')
    return form_defs, group_defs, item_defs


def declared_odm_items(forms: Iterable[DeclaredForm], subject_pks: Iterable[int], keys: dict[int, str],
                       deid: Any = None) -> dict[int, list[str]]:
    """FormData of the live declared records of a chunk of subjects (one query), by subject pk."""
    by_id = {f.id: f for f in forms}
    out: dict[int, list[str]] = {}
    repeat: dict[tuple[int, str], int] = {}
    records = (DeclaredRecord.objects.filter(subject_id__in=list(subject_pks), form__in=list(by_id))
               .order_by("subject_id", "form", "record_date", "pk"))
    for r in records:
        form = by_id[r.form]
        values = {n: (r.calculated or {}).get(n, (r.values or {}).get(n)) for n in _items(form, deid)}
        if deid is not None:
            values = deid.row(values, keys[r.subject_id], _dates(form), ())
        k = repeat[(r.subject_id, r.form)] = repeat.get((r.subject_id, r.form), 0) + 1
        items = "".join(f'<ItemData ItemOID="IT.{r.form}.{n}" Value={quoteattr(odm_text(v))}/>'
                        for n, v in values.items() if v not in (None, ""))
        out.setdefault(r.subject_id, []).append(
            f'<FormData FormOID="F.{r.form}" FormRepeatKey="{k}"><ItemGroupData ItemGroupOID="IG.{r.form}" '
            f'ItemGroupRepeatKey="{r.pk}">{items}</ItemGroupData></FormData>')
    return out
