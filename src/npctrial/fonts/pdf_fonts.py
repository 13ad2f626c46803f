"""reportlab: embed a font that can draw every text of a PDF (Chinese included), as a subset.

reportlab's base-14 Helvetica has no CJK glyphs (Chinese comes out as black boxes) and its
TrueType embedding refuses PostScript (CFF) outlines, which is what Noto Sans CJK ships in a
``.ttc`` collection. :func:`pdf_fonts_for` therefore:

1. collects the characters of every text of the document;
2. keeps base-14 Helvetica when all of them are in its WinAnsi encoding (English output is
   unchanged and embeds nothing);
3. otherwise subsets the CJK face (or DejaVu Sans when none is installed) to those characters
   with fontTools (layout tables dropped), and, for CFF outlines, converts the subset's cubic
   curves to TrueType quadratics (``cu2qu``, 1 font unit tolerance) into a ``glyf`` table;
4. registers the subset with reportlab under a name derived from its content, and with a
   PostScript name unique to its characters (reportlab keeps the first font registered under
   a face name: documents with different subsets must not share one), plus DejaVu Sans as the fallback for
   characters the CJK face lacks; reportlab subsets again and embeds only the glyphs drawn;
5. warns (:class:`~npctrial.errors.MissingGlyphWarning`) for each text with characters that
   neither font has, naming the text.

:meth:`PdfFonts.markup` escapes a text for a ``Paragraph`` and routes runs the primary font
lacks to the fallback font; it refuses a text that was not declared in step 1 (its glyphs
would be missing from the subset).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from npctrial.errors import ValidationError
from npctrial.fonts.discovery import FontFace, face_charmap, find_cjk_font, find_latin_font
from npctrial.fonts.glyphs import MissingGlyphs, warn_missing_glyphs

__all__ = ["PdfFonts", "build_with_fonts", "pdf_fonts_for"]

_BASE14 = ("Helvetica", "Helvetica-Bold")
_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F))  # ASCII: page furniture, numbers


def _winansi(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _to_truetype_outlines(font: Any) -> None:
    """Replace the CFF table of a (subset) fontTools font by an equivalent ``glyf`` table."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    del font["CFF "]
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0  # no glyph names (CID-keyed sources have none worth keeping)
    font.sfntVersion = "\x00\x01\x00\x00"


def _unique_postscript_name(font: Any, tag: str) -> None:
    """Suffix the PostScript name (name ID 6): reportlab keeps the first font registered under
    a face name, so two subsets of one face must not share it."""
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = f"{record.toUnicode()}-{tag}"


@lru_cache(maxsize=16)
def truetype_subset(face: FontFace, characters: frozenset[str]) -> bytes:
    """A TrueType-outline font with the glyphs of ``characters`` that ``face`` has."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "VORG", "vhea", "vmtx", "DSIG", "FFTM"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"):
            if tag in font:
                del font[tag]  # never decompiled: 1 s less per document for Noto CJK
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(characters)))
        subsetter.subset(font)
        if "CFF " in font:
            _to_truetype_outlines(font)
        _unique_postscript_name(font, hashlib.sha256("".join(sorted(characters)).encode()).hexdigest()[:8])
        buf = io.BytesIO()
        font.save(buf)
    return buf.getvalue()


def _register(face: FontFace, characters: frozenset[str]) -> str:
    """Register the subset with reportlab; the name is unique to the subset's content."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    data = truetype_subset(face, characters)
    stem = "".join(ch for ch in face.family if ch.isalnum())
    name = f"{stem}{'-Bold' if face.is_bold else ''}-{hashlib.sha256(data).hexdigest()[:10]}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
    return name


@dataclass(frozen=True)
class PdfFonts:
    """The registered fonts of one document and the characters each can draw."""

    regular: str = _BASE14[0]
    bold: str = _BASE14[1]
    fallback: str | None = None
    fallback_bold: str | None = None
    primary_chars: frozenset[str] | None = None  # None: base-14 (WinAnsi)
    fallback_chars: frozenset[str] = frozenset()
    declared: frozenset[str] = frozenset()
    missing: tuple[MissingGlyphs, ...] = field(default=())

    @property
    def embedded(self) -> bool:
        return self.primary_chars is not None

    def _in_primary(self, ch: str) -> bool:
        return _winansi(ch) if self.primary_chars is None else ch in self.primary_chars

    def markup(self, text: object, *, bold: bool = False) -> str:
        """``text`` escaped for a reportlab Paragraph, with fallback-font runs where needed."""
        s = "" if text is None else str(text)
        undeclared = set(s) - self.declared - set(_ALWAYS)
        if undeclared and self.embedded:
            raise ValidationError(f"PDF text {s!r} was not declared to pdf_fonts_for (characters "
                                  f"{''.join(sorted(undeclared))!r} are not in the embedded subset)", field="text")
        fallback = self.fallback_bold if bold else self.fallback
        out: list[str] = []
        for use_fallback, run in groupby(s, key=lambda ch: fallback is not None and not self._in_primary(ch)
                                         and ch in self.fallback_chars):
            piece = escape("".join(run))
            out.append(f'<font name="{fallback}">{piece}</font>' if use_fallback else piece)
        return "".join(out)

    def stylesheet(self) -> Any:
        """reportlab's sample stylesheet with every style drawn in these fonts."""
        from reportlab.lib.styles import getSampleStyleSheet

        sheet = getSampleStyleSheet()
        for style in sheet.byName.values():
            current = getattr(style, "fontName", None)
            if current is not None:
                style.fontName = self.bold if "Bold" in current else self.regular
        return sheet


def _register_family(regular: str, bold: str) -> None:
    from reportlab.lib.fonts import addMapping

    for is_bold, is_italic, name in ((0, 0, regular), (1, 0, bold), (0, 1, regular), (1, 1, bold)):
        addMapping(regular, is_bold, is_italic, name)


def pdf_fonts_for(texts: Iterable[object]) -> PdfFonts:
    """Fonts for a document made of ``texts`` (every string it will draw); registers them."""
    strings = ["" if t is None else str(t) for t in texts]
    chars = frozenset("".join(strings)) | frozenset(_ALWAYS)
    if all(_winansi(c) for c in chars):
        return PdfFonts(declared=chars)
    latin, latin_bold = find_latin_font(400), find_latin_font(700)
    primary = find_cjk_font(400) or latin
    primary_bold = find_cjk_font(700) or latin_bold
    in_primary = frozenset(c for c in chars if ord(c) in face_charmap(primary))
    in_fallback = frozenset(c for c in chars - in_primary if ord(c) in face_charmap(latin))
    regular = _register(primary, in_primary)
    bold = _register(primary_bold, frozenset(c for c in chars if ord(c) in face_charmap(primary_bold)))
    _register_family(regular, bold)
    fallback = fallback_bold = None
    if in_fallback and primary != latin:
        fallback, fallback_bold = _register(latin, in_fallback), _register(latin_bold, in_fallback)
        _register_family(fallback, fallback_bold)
    chain = (primary, latin) if primary != latin else (primary,)
    missing = warn_missing_glyphs(strings, chain, where="PDF", stacklevel=2)
    return PdfFonts(regular, bold, fallback, fallback_bold, in_primary, in_fallback, chars, missing)


@dataclass(frozen=True)
class _RecordingFonts(PdfFonts):
    """Base-14 fonts that record every text passed to :meth:`markup` (first pass)."""

    texts: list[str] = field(default_factory=list)

    def markup(self, text: object, *, bold: bool = False) -> str:
        s = "" if text is None else str(text)
        self.texts.append(s)
        return escape(s)


T = TypeVar("T")


def build_with_fonts(make: Callable[[PdfFonts], T]) -> tuple[T, PdfFonts]:
    """Call ``make(fonts)`` twice: once to record every text it marks up, then with the fonts
    :func:`pdf_fonts_for` chose for those texts; returns the second result and the fonts.
    ``make`` must draw every text through ``fonts.markup`` and style it with ``fonts``."""
    recorder = _RecordingFonts()
    make(recorder)
    fonts = pdf_fonts_for(recorder.texts)
    return make(fonts), fonts
