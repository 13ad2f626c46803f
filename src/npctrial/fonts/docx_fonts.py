"""python-docx: the East Asian font (``w:eastAsia``) and language of a Word document.

Word picks the font of each run by script: ``w:ascii``/``w:hAnsi`` for Latin, ``w:eastAsia``
for CJK ideographs. The default template names only *theme* fonts (``w:eastAsiaTheme``),
which take precedence over an explicit name, so they are removed where an explicit CJK
family is set: in the document defaults and in every style that declares fonts. The East
Asian language (``w:lang w:eastAsia``) makes Word choose Simplified Chinese glyph forms and
line breaking. Word files embed no fonts here: the reader's Word substitutes an installed
Chinese font when the named one is missing, and the texts are checked against the fonts
available here (:class:`~npctrial.errors.MissingGlyphWarning`), as for the PDF.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from npctrial.fonts.discovery import find_cjk_font, find_font_chain
from npctrial.fonts.glyphs import MissingGlyphs, warn_missing_glyphs

__all__ = ["DEFAULT_EAST_ASIA_FONT", "set_docx_fonts"]

#: The family named when no CJK font is installed here (Word's classic Simplified Chinese font).
DEFAULT_EAST_ASIA_FONT = "SimSun"


def _set_rfonts(rpr: Any, east_asia: str) -> None:
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.attrib.pop(qn("w:eastAsiaTheme"), None)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _set_lang(rpr: Any, east_asia_lang: str) -> None:
    from docx.oxml.ns import qn

    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), east_asia_lang)


def set_docx_fonts(document: Any, texts: Iterable[str] = (), *, east_asia_lang: str = "zh-CN") -> tuple[MissingGlyphs, ...]:
    """Name the CJK font for East Asian text in ``document`` (defaults and every style with
    fonts) and its East Asian language; warn for ``texts`` no available font can draw."""
    from docx.oxml.ns import qn

    cjk = find_cjk_font(400)
    family = cjk.family if cjk is not None else DEFAULT_EAST_ASIA_FONT
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if rpr_default is not None:
        rpr = rpr_default.find(qn("w:rPr"))
        if rpr is not None:
            _set_rfonts(rpr, family)
            _set_lang(rpr, east_asia_lang)
    for style in styles.findall(qn("w:style")):
        rpr = style.find(qn("w:rPr"))
        if rpr is not None and rpr.find(qn("w:rFonts")) is not None:
            _set_rfonts(rpr, family)
    return warn_missing_glyphs(texts, find_font_chain(), where="DOCX", stacklevel=2)
