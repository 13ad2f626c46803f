"""Finding the fonts that figures, PDFs and Word files draw with, and what each can draw.

The font chain is the Latin font matplotlib ships (DejaVu Sans, always present) followed by a
CJK-capable font found on the system, so English output looks as before and Chinese text has
real glyphs. The CJK font is, in order:

1. ``NPCTRIAL_CJK_FONT`` (``/path/font.ttc`` or ``/path/font.ttc#2`` for the face index), for
   sites with their own fonts (SimSun, Microsoft YaHei, ...);
2. the first installed family of :data:`CJK_FAMILIES` (Noto Sans CJK SC from Debian's
   ``fonts-noto-cjk`` first), as matplotlib's font manager lists them;
3. the files of ``fonts-noto-cjk`` added to matplotlib's font manager when its cache predates
   the package.

What a face can draw is its character map (the ``cmap`` table, read by FreeType), so a missing
glyph is known before anything is drawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from npctrial.errors import ValidationError

__all__ = ["CJK_FAMILIES", "FontFace", "face_charmap", "find_cjk_font", "find_font_chain", "find_latin_font"]

#: Simplified-Chinese-capable families, best first (Simplified Chinese glyph forms before
#: the Japanese/Traditional faces of the same collections).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "SimHei",
    "Noto Sans CJK TC", "Noto Sans CJK JP", "Droid Sans Fallback",
)
#: Where Debian's fonts-noto-cjk puts its collections (face 2 is Simplified Chinese).
NOTO_CJK_FILES = {
    400: Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    700: Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
}
LATIN_FAMILY = "DejaVu Sans"
_ENV = "NPCTRIAL_CJK_FONT"


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: ``index`` selects the face of a collection (.ttc)."""

    family: str
    path: str
    index: int = 0
    weight: int = 400

    @property
    def is_bold(self) -> bool:
        return self.weight >= 600

    def covers(self, char: str) -> bool:
        """Whether the face has a glyph for ``char``."""
        return ord(char) in face_charmap(self)


@lru_cache(maxsize=32)
def face_charmap(face: FontFace) -> frozenset[int]:
    """The code points the face maps to a glyph (its cmap), read once per face."""
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(face.path, face_index=face.index).get_charmap())


def _face_from_env(weight: int) -> FontFace | None:
    spec = os.environ.get(_ENV, "").strip()
    if not spec:
        return None
    path, _, index = spec.partition("#")
    if not Path(path).is_file():
        raise ValidationError(f"{_ENV}={spec!r}: no such font file", field=_ENV)
    try:
        face_index = int(index or 0)
    except ValueError:
        raise ValidationError(f"{_ENV}={spec!r}: the face index after '#' must be an integer",
                              field=_ENV) from None
    from matplotlib.ft2font import FT2Font

    try:
        family = FT2Font(path, face_index=face_index).family_name
    except (OSError, RuntimeError) as exc:
        raise ValidationError(f"{_ENV}={spec!r}: FreeType cannot read it ({exc})", field=_ENV) from None
    return FontFace(family, path, face_index, weight)


def _installed_faces() -> dict[tuple[str, int], FontFace]:
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {Path(e.fname) for e in manager.ttflist}
    for path in NOTO_CJK_FILES.values():
        if path.is_file() and path not in known:
            manager.addfont(str(path))  # the font cache was built before fonts-noto-cjk
    faces: dict[tuple[str, int], FontFace] = {}
    for e in manager.ttflist:
        if e.style != "normal":
            continue
        weight = int(e.weight) if str(e.weight).isdigit() else (700 if "bold" in str(e.weight) else 400)
        key = (e.name, 700 if weight >= 600 else 400)
        faces.setdefault(key, FontFace(e.name, e.fname, int(getattr(e, "index", 0)), weight))
    return faces


@lru_cache(maxsize=4)
def find_cjk_font(weight: int = 400) -> FontFace | None:
    """The CJK-capable face to draw Chinese with (``weight`` 400 regular or 700 bold), or None.

    A bold request falls back to the regular face of the same family when no bold face exists.
    """
    env = _face_from_env(weight)
    if env is not None:
        return env
    want = 700 if weight >= 600 else 400
    faces = _installed_faces()
    for family in CJK_FAMILIES:
        face = faces.get((family, want)) or faces.get((family, 400))
        if face is not None:
            return face
    return None


@lru_cache(maxsize=4)
def find_latin_font(weight: int = 400) -> FontFace:
    """matplotlib's own DejaVu Sans (shipped in its mpl-data, so always present)."""
    from matplotlib import font_manager

    props = font_manager.FontProperties(family=LATIN_FAMILY, weight="bold" if weight >= 600 else "normal")
    path = font_manager.findfont(props, fallback_to_default=True)
    return FontFace(LATIN_FAMILY, str(path), int(getattr(path, "face_index", 0)), 700 if weight >= 600 else 400)


def find_font_chain(weight: int = 400) -> tuple[FontFace, ...]:
    """The faces tried in order for each character: DejaVu Sans, then the CJK face if any."""
    cjk = find_cjk_font(weight)
    latin = find_latin_font(weight)
    return (latin,) if cjk is None else (latin, cjk)
