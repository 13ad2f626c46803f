"""XLSX workbook: a Summary sheet (what was analysed, the list of tables, the warnings), then one
sheet per table (title in A1, table from row 3, notes below)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from npctrial.cohort.report import CohortReport, freeze_zip_timestamps
from npctrial.i18n import translator

_FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def write_xlsx(report: CohortReport, path: Path) -> Path:
    """Write the workbook with fixed document properties so re-runs are identical in content."""
    import datetime as _dt

    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    summary.cell(row=1, column=1, value=report.title).font = Font(bold=True)
    summary.cell(row=2, column=1, value=f"{report.cohort_file}: {report.n_rows} rows read, {report.n_analysed} analysed")
    for i, t in enumerate(report.tables, start=4):
        summary.cell(row=i, column=1, value=t.sheet_name)
        summary.cell(row=i, column=2, value=t.title)
    notes = [("Data", n) for n in report.reading] + [("Guessed", n) for n in report.inferred]
    notes += [("Not run", n) for n in report.omitted] + [("Warning", n) for n in report.warnings]
    for r, (kind, note) in enumerate(notes, start=5 + len(report.tables)):
        summary.cell(row=r, column=1, value=kind)
        summary.cell(row=r, column=2, value=note)
    used: set[str] = {"Summary"}
    sheets = list(report.tables)
    for t in sheets:
        name = t.sheet_name
        k = 2
        while name in used:
            name = f"{t.sheet_name[:28]}_{k}"
            k += 1
        used.add(name)
        ws = wb.create_sheet(name)
        ws.cell(row=1, column=1, value=t.title).font = Font(bold=True)
        for j, col in enumerate(t.frame.columns, start=1):
            ws.cell(row=3, column=j, value=str(col)).font = Font(bold=True)
        for i, rec in enumerate(t.frame.itertuples(index=False), start=4):
            for j, v in enumerate(rec, start=1):
                if v is None or (isinstance(v, float) and v != v):
                    continue
                ws.cell(row=i, column=j, value=v.item() if hasattr(v, "item") else v)
        r = 4 + len(t.frame) + 1
        for n in t.notes:
            ws.cell(row=r, column=1, value=n)
            r += 1
    if len(report.excluded):
        ws = wb.create_sheet(translator(report.language)("Excluded rows")[:31])
        for j, col in enumerate(report.excluded.columns, start=1):
            ws.cell(row=1, column=j, value=str(col)).font = Font(bold=True)
        for i, rec in enumerate(report.excluded.itertuples(index=False), start=2):
            for j, v in enumerate(rec, start=1):
                ws.cell(row=i, column=j, value=None if v is None or v != v else (v.item() if hasattr(v, "item") else v))
    fixed = _dt.datetime(*_FIXED_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "npctrial"
    wb.save(path)
    freeze_zip_timestamps(path)
    return path
