"""PDF version of the report (reportlab): tables, notes, figures and methods.

Layout rules: a table's title is never the last line of a page (short tables are kept whole with
their title and notes; long ones keep the title with their first rows and repeat the header);
a figure is kept on one page with its caption below it."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from npctrial.cohort.report import CohortReport, ReportTable
from npctrial.fonts import pdf_fonts_for
from npctrial.i18n import translator


def _pdf_image(png: Path) -> io.BytesIO:
    """A 150-dpi copy of a 300-dpi figure: sharp in print, and fast to embed."""
    from PIL import Image as PILImage

    with PILImage.open(png) as im:
        small = im.convert("RGB").resize((im.width // 2, im.height // 2), PILImage.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="PNG")
    buf.seek(0)
    return buf


#: Tables up to this many rows are kept on one page with their title and notes.
_KEEP_ROWS = 30


def _table_flowables(t: ReportTable, title: Paragraph, escape: Callable[[str], str], cell: ParagraphStyle,
                     small: ParagraphStyle) -> list[Flowable]:
    """A table with its title and notes: kept together on one page when it fits; a longer table
    keeps its title with its first rows (``keepWithNext``) and repeats its header row."""
    data = [[Paragraph(escape(str(c)), cell) for c in t.frame.columns]]
    for rec in t.frame.itertuples(index=False):
        data.append([Paragraph(escape("" if v is None or (isinstance(v, float) and v != v) else str(v)), cell)
                     for v in rec])
    tab = LongTable(data, repeatRows=1)
    tab.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black),
                             ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                             ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.black),
                             ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    notes = [Paragraph(escape(n), small) for n in t.notes]
    if len(t.frame) <= _KEEP_ROWS:
        return [KeepTogether([title, tab, *notes]), Spacer(1, 0.4 * cm)]
    return [title, tab, KeepTogether(notes), Spacer(1, 0.4 * cm)]


def _figure_flowable(png: Path, caption: Paragraph) -> Flowable:
    """The figure scaled to the page with its caption below it, never split across pages."""
    img = Image(_pdf_image(png))
    scale = min(24 * cm / img.drawWidth, 14 * cm / img.drawHeight)
    img.drawWidth *= scale
    img.drawHeight *= scale
    return KeepTogether([img, caption, Spacer(1, 0.4 * cm)])


def write_pdf(report: CohortReport, path: Path, figure_root: Path) -> Path:
    """Write the PDF with invariant metadata (reportlab's ``invariant`` mode: fixed dates and ids).

    Fonts cover every text of the report (a CJK font is embedded as a subset when a text needs
    one; see :func:`npctrial.fonts.pdf_fonts_for`)."""
    tr = translator(report.language)
    fonts = pdf_fonts_for([*report.texts(), *(tr(t) for t in ("Warning: ", "Software: ", "Data: ", "Not run: ",
                                                                "Guessed: ")), ", "])
    escape = fonts.markup
    styles = fonts.stylesheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=9)
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8)
    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                            topMargin=1.5 * cm, bottomMargin=1.5 * cm, title=report.title, author="npctrial",
                            invariant=1)
    story: list = [Paragraph(escape(report.title), styles["Title"]),
                   Paragraph(escape(report.methods), styles["BodyText"]), Spacer(1, 0.4 * cm)]
    for r in report.reading:
        story.append(Paragraph(escape(tr("Data: ")) + escape(r), small))
    for g in report.inferred:
        story.append(Paragraph(escape(tr("Guessed: ")) + escape(g), small))
    for o in report.omitted:
        story.append(Paragraph(escape(tr("Not run: ")) + escape(o), small))
    for w in report.warnings:
        story.append(Paragraph(escape(tr("Warning: ") + w), small))
    heading = styles["Heading4"].clone("table_title", keepWithNext=1)
    for t in report.tables:
        story += _table_flowables(t, Paragraph(escape(t.title), heading), escape, cell, small)
    for f in report.figures:
        story.append(_figure_flowable(figure_root / f.png, Paragraph(escape(f.title), styles["Heading4"])))
    story.append(Spacer(1, 0.4 * cm))
    story.append(Paragraph(escape(tr("Software: ") + ", ".join(f"{k} {v}" for k, v in report.software)), small))
    doc.build(story)
    return path
