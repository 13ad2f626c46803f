"""PDF version of the report (reportlab): tables, notes, figures and methods."""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from npctrial.cohort.report import CohortReport
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
    for t in report.tables:
        story.append(Paragraph(escape(t.title), styles["Heading4"]))
        data = [[Paragraph(escape(str(c)), cell) for c in t.frame.columns]]
        for rec in t.frame.itertuples(index=False):
            data.append([Paragraph(escape("" if v is None or (isinstance(v, float) and v != v) else str(v)), cell)
                         for v in rec])
        tab = LongTable(data, repeatRows=1)
        tab.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black),
                                 ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                                 ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.black),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(tab)
        story += [Paragraph(escape(n), small) for n in t.notes]
        story.append(Spacer(1, 0.4 * cm))
    for f in report.figures:
        story.append(PageBreak())
        story.append(Paragraph(escape(f.title), styles["Heading4"]))
        img = Image(_pdf_image(figure_root / f.png))
        scale = min(24 * cm / img.drawWidth, 15 * cm / img.drawHeight)
        img.drawWidth *= scale
        img.drawHeight *= scale
        story.append(img)
    story.append(Spacer(1, 0.4 * cm))
    story.append(Paragraph(escape(tr("Software: ") + ", ".join(f"{k} {v}" for k, v in report.software)), small))
    doc.build(story)
    return path
