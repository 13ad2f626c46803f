"""matplotlib: draw with the font chain (per-glyph fallback) and find texts it cannot draw.

matplotlib falls back glyph by glyph only along an explicit ``font.family`` list, and a text
keeps the family list in force when it was created. So figures are built *and* saved inside
:func:`font_fallback`; :func:`configure_matplotlib` sets the same list globally for scripts
and notebooks. :func:`check_figure_glyphs` lays the figure out (ticks included), resolves
each visible text's font list exactly as matplotlib will, and warns for every text with
characters none of those fonts has (before the figure shows them as empty boxes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from npctrial.fonts.discovery import FontFace, find_font_chain
from npctrial.fonts.glyphs import MissingGlyphs, warn_missing_glyphs

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

__all__ = ["check_figure_glyphs", "configure_matplotlib", "figure_font_families", "font_fallback",
           "with_font_fallback"]

P = ParamSpec("P")
R = TypeVar("R")

_GENERIC = ("sans-serif", "serif", "monospace", "cursive", "fantasy")


def figure_font_families() -> list[str]:
    """The ``font.family`` list: DejaVu Sans, then the CJK family when one is installed."""
    return list(dict.fromkeys(f.family for f in find_font_chain()))


@contextmanager
def font_fallback() -> Iterator[list[str]]:
    """Within the block, new texts draw with the font chain; yields the family list."""
    import matplotlib

    families = figure_font_families()
    with matplotlib.rc_context({"font.family": families}):
        yield families


def with_font_fallback(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: the texts ``func`` creates draw with the font chain (:func:`font_fallback`)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with font_fallback():
            return func(*args, **kwargs)

    return wrapper


def configure_matplotlib() -> list[str]:
    """Set the font chain as matplotlib's global ``font.family``; returns the family list."""
    import matplotlib

    families = figure_font_families()
    matplotlib.rcParams["font.family"] = families
    return families


def _resolved_faces(prop: FontProperties) -> tuple[FontFace, ...]:
    """The faces matplotlib draws ``prop`` with, in fallback order (public font-manager API)."""
    from matplotlib import font_manager

    faces: list[FontFace] = []
    for family in prop.get_family():
        single = prop.copy()
        single.set_family(family)
        try:
            path = font_manager.findfont(single, fallback_to_default=family in _GENERIC)
        except ValueError:  # family not installed: matplotlib skips it too
            continue
        name = font_manager.get_font(path).family_name
        faces.append(FontFace(name, str(path), int(getattr(path, "face_index", 0))))
    return tuple(dict.fromkeys(faces))


def check_figure_glyphs(fig: Figure, *, where: str = "") -> tuple[MissingGlyphs, ...]:
    """Warn (:class:`~npctrial.errors.MissingGlyphWarning`) for each visible text of ``fig``
    with characters that none of its fonts can draw; returns the findings."""
    import warnings

    from matplotlib.cbook import is_math_text
    from matplotlib.text import Text

    with warnings.catch_warnings():  # matplotlib's per-glyph warning: ours below names the text
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.draw_without_rendering()  # creates the tick labels the figure will show
    by_fonts: dict[tuple[FontFace, ...], list[str]] = {}
    for artist in fig.findobj(Text):
        text = artist.get_text()
        if not artist.get_visible() or not text or is_math_text(text):
            continue
        by_fonts.setdefault(_resolved_faces(artist.get_fontproperties()), []).append(text)
    found: list[MissingGlyphs] = []
    for faces, texts in by_fonts.items():
        found += warn_missing_glyphs(texts, faces, where=where or "figure", stacklevel=3)
    return tuple(found)
