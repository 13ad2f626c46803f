"""DOCX with the manuscript tables (title, table, notes) and the figures."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from docx import Document
from docx.shared import Inches, Pt

from npctrial.cohort.report import CohortReport, freeze_zip_timestamps
from npctrial.fonts import set_docx_fonts


def write_docx(report: CohortReport, path: Path, figure_root: Path) -> Path:
    doc = Document()
    doc.core_properties.created = _dt.datetime(2000, 1, 1)
    doc.core_properties.modified = _dt.datetime(2000, 1, 1)
    doc.core_properties.author = "npctrial"
    set_docx_fonts(doc, report.texts())  # w:eastAsia: Chinese labels in a CJK font
    if report.language == "zh":
        doc.core_properties.language = "zh-CN"
    doc.add_heading(report.title, level=1)
    doc.add_paragraph(report.methods)
    for t in report.tables:
        doc.add_paragraph().add_run(t.title).bold = True
        table = doc.add_table(rows=1, cols=len(t.frame.columns))
        table.style = "Table Grid"
        for j, col in enumerate(t.frame.columns):
            table.rows[0].cells[j].text = str(col)
        for rec in t.frame.itertuples(index=False):
            cells = table.add_row().cells
            for j, v in enumerate(rec):
                cells[j].text = "" if v is None or (isinstance(v, float) and v != v) else str(v)
        for row in table.rows:
            for cell in row.cells:
                for par in cell.paragraphs:
                    for run in par.runs:
                        run.font.size = Pt(8)
        for n in t.notes:
            doc.add_paragraph(n).runs[0].font.size = Pt(8)
    for f in report.figures:
        doc.add_picture(str(figure_root / f.png), width=Inches(6))
        doc.add_paragraph(f.title)
    doc.save(str(path))
    freeze_zip_timestamps(path)
    return path
