"""Languages of npctrial's own outputs outside the web EDC (cohort reports, figures, CLI).

The catalogue is GNU gettext (``npctrial/locale/<lang>/LC_MESSAGES/npctrial.po``, compiled
``.mo`` committed next to it; ``make messages`` refreshes both and a test checks they agree),
read with the standard library, so no Django is needed. English is the source language; a
string without a translation is shown in English.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from npctrial.errors import ValidationError

__all__ = ["LANGUAGES", "check_language", "translator"]

#: Output languages: code -> gettext catalogue directory.
LANGUAGES = {"en": None, "zh": "zh_Hans"}
_ALIASES = {"en": "en", "en-gb": "en", "en-us": "en", "zh": "zh", "zh-hans": "zh", "zh-cn": "zh", "zh_hans": "zh"}


def check_language(code: str | None) -> str:
    """``en`` or ``zh`` for a language code (``zh-Hans``, ``zh-CN`` -> ``zh``); raises otherwise."""
    key = _ALIASES.get((code or "en").strip().lower())
    if key is None:
        raise ValidationError(f"language must be one of {', '.join(LANGUAGES)}, got {code!r}", field="lang")
    return key


@lru_cache(maxsize=4)
def translator(language: str | None = "en") -> Callable[[str], str]:
    """The ``gettext`` function of ``language`` (identity for English)."""
    catalogue = LANGUAGES[check_language(language)]
    if catalogue is None:
        return str
    localedir = str(resources.files("npctrial").joinpath("locale"))
    return gettext.translation("npctrial", localedir=localedir, languages=[catalogue]).gettext
