"""Which characters of a text no font of a chain can draw, and the warning that names them."""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from npctrial.errors import MissingGlyphWarning
from npctrial.fonts.discovery import FontFace, face_charmap

__all__ = ["MissingGlyphs", "find_missing_glyphs", "warn_missing_glyphs"]


@dataclass(frozen=True)
class MissingGlyphs:
    """A text, the characters in it that none of ``fonts`` has, and where it appears."""

    text: str
    characters: str
    fonts: tuple[str, ...]
    where: str = ""

    @property
    def message(self) -> str:
        codes = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in self.characters)
        place = f"{self.where}: " if self.where else ""
        fonts = ", ".join(self.fonts) or "no font"
        return (f"{place}no available font can draw {self.characters!r} ({codes}) in {self.text!r}; "
                f"fonts tried: {fonts} (install fonts-noto-cjk or set NPCTRIAL_CJK_FONT)")


def _drawable(char: str) -> bool:
    """Whitespace, control and format characters need no glyph."""
    return not (char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"})


def find_missing_glyphs(texts: Iterable[str], fonts: Sequence[FontFace], *, where: str = "") -> tuple[MissingGlyphs, ...]:
    """One entry per distinct text with characters that no face of ``fonts`` covers."""
    maps = [face_charmap(f) for f in fonts]
    names = tuple(dict.fromkeys(f.family for f in fonts))
    out: list[MissingGlyphs] = []
    seen: set[str] = set()
    for text in texts:
        if not text or text in seen:
            continue
        seen.add(text)
        missing = "".join(dict.fromkeys(c for c in text if _drawable(c) and not any(ord(c) in m for m in maps)))
        if missing:
            out.append(MissingGlyphs(text, missing, names, where))
    return tuple(out)


def warn_missing_glyphs(texts: Iterable[str], fonts: Sequence[FontFace], *, where: str = "",
                        stacklevel: int = 2) -> tuple[MissingGlyphs, ...]:
    """:func:`find_missing_glyphs`, each finding issued as a :class:`MissingGlyphWarning`."""
    found = find_missing_glyphs(texts, fonts, where=where)
    for m in found:
        warnings.warn(m.message, MissingGlyphWarning, stacklevel=stacklevel + 1)
    return found
