"""Protocol text with per-language versions: ``label: {en: ..., zh: ...}`` or a plain string.

The published English wording is the source: a :class:`LocalisedText` *is* that English string
(a ``str`` subclass, so rules, hashes, exports and every existing consumer see exactly the
published text) and carries the translations beside it. A reader's language picks a version
with :func:`localise`; the English original stays available (``.english``) to show on request.

Accepted YAML::

    wording: "Age 18-70 years"                       # English only
    wording: {en: "Age 18-70 years", zh: "年龄 18-70 岁"}

Language keys: ``en`` (required when a mapping is given) and ``zh`` (``zh-Hans``, ``zh-CN``,
``zh_hans`` are read as ``zh``). Anything else is an error naming the key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from npctrial.messages import message

__all__ = ["LANGUAGES", "LocalisedStr", "LocalisedText", "field_ref", "localise", "map_versions",
           "parse_localised_text", "versions"]

#: Language keys a protocol text may carry (the first is the published source).
LANGUAGES = ("en", "zh")
_ALIASES = {"en": "en", "en-gb": "en", "en-us": "en", "zh": "zh", "zh-hans": "zh", "zh-cn": "zh", "zh_hans": "zh",
            "zh_cn": "zh", "zh-sg": "zh"}


def _language(code: str | None) -> str | None:
    return _ALIASES.get((code or "").strip().lower().replace("_", "-")) or _ALIASES.get((code or "").strip().lower())


class LocalisedText(str):
    """The published English text, with ``translations`` (language -> text) beside it."""

    translations: Mapping[str, str]

    def __new__(cls, english: str, translations: Mapping[str, str] | None = None) -> LocalisedText:
        obj = super().__new__(cls, english)
        obj.translations = MappingProxyType(dict(translations or {}))
        return obj

    @property
    def english(self) -> str:
        """The published wording (the source)."""
        return str.__str__(self)

    def in_language(self, language: str | None) -> str:
        """The version for ``language`` (``zh-hans``, ``zh``, ``en``...), else the English."""
        key = _language(language)
        return self.translations.get(key, self.english) if key and key != "en" else self.english

    def has(self, language: str | None) -> bool:
        key = _language(language)
        return key == "en" or (key is not None and key in self.translations)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalisedText, (self.english, dict(self.translations)))

    def map(self, func: Callable[[str], str]) -> LocalisedText:
        """``func`` applied to every version (``"CCRT week {n}"`` -> week 3 in each language)."""
        return LocalisedText(func(self.english), {k: func(v) for k, v in self.translations.items()})


def parse_localised_text(value: Any) -> LocalisedText:
    """A string, or a mapping with ``en`` and optional ``zh``; raises ValueError naming the problem."""
    if isinstance(value, LocalisedText):
        return value
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(message("text.empty", "text must not be empty"))
        return LocalisedText(value)
    if isinstance(value, Mapping):
        versions: dict[str, str] = {}
        for key, text in value.items():
            lang = _language(str(key))
            if lang is None:
                raise ValueError(message("text.unknown_language", "unknown language %(language)s: use %(languages)s",
                                         language=repr(key), languages=" or ".join(LANGUAGES)))
            if not isinstance(text, str) or not text.strip():
                raise ValueError(message("text.version_empty", "the %(language)s text must be a non-empty string",
                                         language=repr(key)))
            if lang in versions:
                raise ValueError(message("text.language_twice", "language %(language)s given twice",
                                         language=repr(key)))
            versions[lang] = text
        if "en" not in versions:
            raise ValueError(message("text.english_required",
                                     "the published English text ('en') is required beside the translations"))
        english = versions.pop("en")
        return LocalisedText(english, versions)
    raise ValueError(message("text.not_text", "text must be a string or a mapping {en: ..., zh: ...}, got %(type)s",
                             type=type(value).__name__))


def _serialise(value: str) -> str | dict[str, str]:
    if isinstance(value, LocalisedText) and value.translations:
        return {"en": value.english, **value.translations}
    return str(value)


#: Field type for protocol models: validates like :func:`parse_localised_text` (the value is a
#: :class:`LocalisedText`; typed ``str`` so models can still be built from plain strings).
LocalisedStr = Annotated[
    str,
    PlainValidator(parse_localised_text),
    PlainSerializer(_serialise),
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1},
                              {"type": "object", "required": ["en"],
                               "properties": {lang: {"type": "string"} for lang in LANGUAGES}}]}),
]


def localise(text: object, language: str | None) -> str:
    """``text`` in ``language`` when it is a :class:`LocalisedText` with that version, else as is."""
    if isinstance(text, LocalisedText):
        return text.in_language(language)
    return "" if text is None else str(text)


def versions(text: object) -> dict[str, str]:
    """Every version of ``text``: ``{"en": ..., "zh": ...}`` (``{"en": text}`` for a plain string).

    Compare these, not the strings, when a change of a translation matters (amendments): a
    :class:`LocalisedText` compares equal to its English alone."""
    if isinstance(text, LocalisedText):
        return {"en": text.english, **text.translations}
    return {"en": "" if text is None else str(text)}


def map_versions(text: str, func: Callable[[str], str]) -> str:
    """``func`` applied to every version of ``text`` (a plain string stays a plain string)."""
    return text.map(func) if isinstance(text, LocalisedText) else func(text)


def field_ref(name: str, label: object = None) -> LocalisedText:
    """A field named in a message (:mod:`npctrial.messages`): ``name`` in English (as forms and
    the API name it), the translations of its protocol ``label`` in the other languages."""
    translations = dict(label.translations) if isinstance(label, LocalisedText) else {}
    return LocalisedText(name, translations)
