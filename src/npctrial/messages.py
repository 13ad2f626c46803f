"""User-facing texts of the lower layers as data: a stable code, an English template, parameters.

The domain layer has no Django and no notion of a reader. What it tells people (why a value is
refused, why a patient is high risk, how a dose was derived) is a :class:`Message`::

    message("field.below_min", "%(field)s must be >= %(min)s%(unit)s, got %(value)s",
            field=..., min="100", unit=" cm", value="1.7")

- ``str(msg)`` is the English text (what logs, the CLI, the API and the audit trail show; it
  is the same text these layers produced before).
- :meth:`Message.render` gives the text in a language from the gettext catalogue
  ``npctrial-messages`` (``npctrial/locale``; the code is the message context, the English
  template the msgid; ``make messages`` extracts every ``message(code, template)`` call), so
  the web layer translates at its boundary (``npctrial.web.languages.display.message_text``).
- ``code`` and ``params`` are stable: API clients can match on the code instead of the text.

Parameters are rendered in the same language: a :class:`Message` in its language, a protocol
text (:class:`~npctrial.domain.localised_text.LocalisedText`, e.g. a field label) in its version
for the language, a float with ``:g``, a tuple as a comma-separated list, anything else ``str``.
A field is passed as :func:`npctrial.domain.localised_text.field_ref` (its name in English, as
the API and the forms name it; its protocol label in a translation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from npctrial.i18n import catalogue, language_key

__all__ = ["Message", "message", "message_list", "problem_at"]


@dataclass(frozen=True)
class Message:
    """A user-facing text: stable ``code``, English ``template`` (``%(name)s`` placeholders), ``params``."""

    code: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def render(self, language: str | None = "en") -> str:
        """The text in ``language`` (``zh``, ``zh-hans``...); English when the catalogue has none."""
        template = catalogue(language, "npctrial-messages").pgettext(self.code, self.template)
        values = {k: _render(v, language) for k, v in self.params.items()}
        return template % values if values else template

    def __str__(self) -> str:
        return self.render("en")


def message(code: str, template: str, /, **params: Any) -> Message:
    """A :class:`Message` (the catalogue tools extract ``message(code, template)`` calls)."""
    return Message(code, template, params)


def problem_at(path: str, problem: object) -> Message:
    """A problem of a document at ``path`` (``criteria[3].rule: unknown field 'hb'``); ``problem`` a
    message, or a text from elsewhere (pydantic's own, shown as it is)."""
    return message("document.problem_at", "%(path)s: %(problem)s", path=path, problem=problem)


def message_list(items: Sequence[Message]) -> Message:
    """``items`` one after the other, ``"; "`` between them (a list of problems read as one text).

    Nested two by two (``"%(first)s; %(rest)s"``), so that any number of items renders without
    deep recursion; the English is exactly ``"; ".join(str(item) for item in items)``.
    """
    if not items:
        raise ValueError("message_list needs at least one message")
    if len(items) == 1:
        return items[0]
    half = len(items) // 2
    return message("list.semicolon", "%(first)s; %(rest)s", first=message_list(items[:half]),
                   rest=message_list(items[half:]))


def _render(value: Any, language: str | None) -> str:
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, str):
        in_language = getattr(value, "in_language", None)  # a protocol text (LocalisedText)
        return str.__str__(value) if in_language is None else in_language(language)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return ("、" if language_key(language) == "zh" else ", ").join(_render(v, language) for v in value)
    return str(value)
