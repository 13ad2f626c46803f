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

__all__ = ["LANGUAGES", "catalogue", "check_language", "language_key", "translator"]

#: Output languages: code -> gettext catalogue directory.
LANGUAGES = {"en": None, "zh": "zh_Hans"}
_ALIASES = {"en": "en", "en-gb": "en", "en-us": "en", "zh": "zh", "zh-hans": "zh", "zh-cn": "zh", "zh_hans": "zh",
            "zh-sg": "zh"}


def check_language(code: str | None) -> str:
    """``en`` or ``zh`` for a language code (``zh-Hans``, ``zh-CN`` -> ``zh``); raises otherwise."""
    key = _ALIASES.get((code or "en").strip().lower())
    if key is None:
        raise ValidationError(f"language must be one of {', '.join(LANGUAGES)}, got {code!r}", field="lang")
    return key


def language_key(code: str | None) -> str:
    """``en`` or ``zh`` for a language code; English for a language npctrial does not have."""
    key = _ALIASES.get((code or "en").strip().lower().replace("_", "-"))
    return key or "en"


def catalogue(language: str | None = "en", domain: str = "npctrial") -> gettext.NullTranslations:
    """The gettext catalogue ``domain`` of ``language`` (``gettext``, ``pgettext``); English (the
    source texts unchanged) for ``en`` and for languages npctrial has no catalogue of.

    Domains: ``npctrial`` (cohort reports and figures), ``npctrial-messages`` (the coded messages
    of the domain layer, :mod:`npctrial.messages`)."""
    return _catalogue(language_key(language), domain)


@lru_cache(maxsize=8)
def _catalogue(key: str, domain: str = "npctrial") -> gettext.NullTranslations:
    directory = LANGUAGES[key]
    if directory is None:
        return gettext.NullTranslations()
    localedir = str(resources.files("npctrial").joinpath("locale"))
    return gettext.translation(domain, localedir=localedir, languages=[directory])


def translator(language: str | None = "en") -> Callable[[str], str]:
    """The ``gettext`` function of ``language`` (identity for English); unknown languages raise."""
    key = check_language(language)
    return str if LANGUAGES[key] is None else _catalogue(key).gettext
