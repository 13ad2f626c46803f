"""Fonts for every rendered output: figures (matplotlib), PDFs (reportlab) and Word files.

Chinese labels need a CJK font: this package finds one (Noto Sans CJK SC from Debian's
``fonts-noto-cjk`` by default, ``NPCTRIAL_CJK_FONT`` to choose another), builds the font chain
(DejaVu Sans, then the CJK face), and checks every text against the fonts' character maps, so
a label that no available font can draw is a :class:`~npctrial.errors.MissingGlyphWarning`
naming the text, never a silent box. No Django, no I/O beyond reading font files.

* :func:`font_fallback` / :func:`with_font_fallback` / :func:`configure_matplotlib` /
  :func:`check_figure_glyphs` - figures
* :func:`pdf_fonts_for` -> :class:`PdfFonts`, :func:`build_with_fonts` - subset-embedded
  TrueType fonts for reportlab
* :func:`set_docx_fonts` - East Asian font and language of a python-docx document
* :func:`find_font_chain`, :func:`find_missing_glyphs` - the lower-level pieces
"""

from npctrial.fonts.discovery import FontFace, find_cjk_font, find_font_chain, find_latin_font
from npctrial.fonts.docx_fonts import set_docx_fonts
from npctrial.fonts.figure_fonts import (
    check_figure_glyphs,
    configure_matplotlib,
    font_fallback,
    with_font_fallback,
)
from npctrial.fonts.glyphs import MissingGlyphs, find_missing_glyphs, warn_missing_glyphs
from npctrial.fonts.pdf_fonts import PdfFonts, build_with_fonts, pdf_fonts_for

__all__ = [
    "FontFace",
    "MissingGlyphs",
    "PdfFonts",
    "build_with_fonts",
    "check_figure_glyphs",
    "configure_matplotlib",
    "find_cjk_font",
    "find_font_chain",
    "find_latin_font",
    "find_missing_glyphs",
    "font_fallback",
    "pdf_fonts_for",
    "set_docx_fonts",
    "warn_missing_glyphs",
    "with_font_fallback",
]
