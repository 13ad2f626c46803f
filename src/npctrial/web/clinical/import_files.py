"""Reading import files into rows: CSV (one row per record, the export's columns) and CDISC ODM 1.3.

Nothing here decides whether a value is valid (the data-entry validation does that, see
:mod:`npctrial.web.clinical.imports`); this module only turns bytes into :class:`SourceRow` s and
reports what cannot be read, by row and column:

1. The file must be UTF-8 (a byte-order mark is accepted); anything else is one problem naming the
   byte offset.
2. CSV: the header must name each column once; a row with more cells than the header is a problem
   (cells would be lost); blank lines are skipped and counted in the notes.
3. ODM: ``ClinicalData/SubjectData/.../FormData/ItemGroupData/ItemData`` with form OIDs ``F.<form>``
   and item OIDs ``IT.<form>.<field>`` (as the EDC exports them); the subject is ``SubjectKey``,
   the record id ``ItemGroupRepeatKey``. Items of another form than their FormData, and forms not
   named ``F.<form>``, are problems (never dropped).
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"


@dataclass(frozen=True)
class Problem:
    """One problem of an import: ``row`` is the data row (1 = the first after the header; 0 = the file)."""

    row: int
    field: str
    message: str
    location: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message, "location": self.location}


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: its form, and its cells as text (column -> value)."""

    number: int
    form: str
    cells: dict[str, str]
    location: str = ""


@dataclass
class ReadResult:
    rows: list[SourceRow] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _text(data: bytes, result: ReadResult) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.problems.append(Problem(0, "file", _("the file is not UTF-8 text (byte %(byte)s); save it as UTF-8 CSV")
                                       % {"byte": exc.start}))
        return None


def read_csv(data: bytes, form: str) -> ReadResult:
    """Rules 1-2 of the module docstring."""
    result = ReadResult()
    text = _text(data, result)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        result.problems.append(Problem(0, "file", _("the file has no header row")))
        return result
    columns = [h.strip() for h in header]
    seen: set[str] = set()
    for name in columns:
        if not name or name in seen:
            result.problems.append(Problem(0, name or "(empty)", _("each column must have a name, once")))
        seen.add(name)
    result.columns = columns
    blank = 0
    for number, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            blank += 1
            continue
        if len(cells) > len(columns):
            result.problems.append(Problem(number, "file", _("%(cells)s cells for %(columns)s columns")
                                           % {"cells": len(cells), "columns": len(columns)}))
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)}
        result.rows.append(SourceRow(number, form, values, f"row {number}"))
    if blank:
        result.notes.append(_("%(count)s blank line(s) skipped") % {"count": blank})
    return result


def read_odm(data: bytes) -> ReadResult:
    """Rule 3 of the module docstring: one row per ItemGroupData, in file order."""
    result = ReadResult()
    text = _text(data, result)
    if text is None:
        return result
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        result.problems.append(Problem(0, "file", _("not well-formed XML: %(error)s") % {"error": exc}))
        return result
    ns = {"o": ODM_NS}
    if root.tag != f"{{{ODM_NS}}}ODM":
        result.problems.append(Problem(0, "file", _("not a CDISC ODM 1.3 document (root %(root)r)") % {"root": root.tag}))
        return result
    number = 0
    for subject in root.iterfind(".//o:ClinicalData/o:SubjectData", ns):
        key = subject.get("SubjectKey", "")
        for form_data in subject.iterfind(".//o:FormData", ns):
            oid = form_data.get("FormOID", "")
            for group in form_data.iterfind("o:ItemGroupData", ns):
                number += 1
                where = f"{key} {oid} {group.get('ItemGroupRepeatKey', '')}".strip()
                if not oid.startswith("F."):
                    result.problems.append(Problem(number, "FormOID", _("form OID %(oid)r is not F.<form>") % {"oid": oid},
                                                   where))
                    continue
                form = oid[2:]
                cells = {"subject_id": key, "record_id": group.get("ItemGroupRepeatKey", "")}
                for item in group.iterfind("o:ItemData", ns):
                    item_oid = item.get("ItemOID", "")
                    prefix, _dot, name = item_oid.rpartition(".")
                    if prefix != f"IT.{form}":
                        result.problems.append(Problem(number, item_oid or "ItemOID",
                                                       _("item %(item)r is not an item of form %(form)s")
                                                       % {"item": item_oid, "form": form}, where))
                        continue
                    cells[name] = item.get("Value", "")
                result.rows.append(SourceRow(number, form, cells, where))
    if number == 0:
        result.problems.append(Problem(0, "file", _("the ODM file holds no ClinicalData records")))
    return result
