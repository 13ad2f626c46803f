"""``{% load clinical_terms %}``: coded clinical terms shown in the active language.

``{{ ae.term|term:"ctcae_term" }}`` -> ``口干 (Dry mouth)`` in Chinese, ``Dry mouth`` in
English; kinds: ctcae_term, ctcae_grade, ctcae_soc, rtog_organ, rtog_scale, recist_response,
stage_group (npctrial.domain.term_labels). The coded value itself is never changed.
``{{ criterion.wording|localised }}``: protocol text in the active language when the protocol
gives one (``{en: ..., zh: ...}``), else the published English.
``{{ value|choice }}`` / ``{{ value|choice:"stage_group" }}``: a coded choice by its readable name;
``{{ value|number }}``: a number without a spurious ``.0``; ``{{ value|stored }}``: a value as stored
(ISO dates) for audit trails; ``{% for lang, text in wording|versions %}``: every language version
of a protocol text (amendment reviews: a changed translation is a change) (npctrial.web.languages.display).
"""

from __future__ import annotations

from django import template
from django.utils import translation

from npctrial.domain import localised_text
from npctrial.domain.localised_text import localise
from npctrial.domain.term_labels import term_label
from npctrial.web.languages import display

register = template.Library()


@register.filter(name="term")
def term(code: object, kind: str) -> str:
    if code is None or code == "":
        return ""
    return term_label(kind, code, translation.get_language()).text


@register.filter(name="localised")
def localised(text: object) -> str:
    """Protocol text in the active language when the protocol gives that version, else as is."""
    return localise(text, translation.get_language())


@register.filter(name="choice")
def choice(code: object, kind: str | None = None) -> str:
    return display.choice_label(code, kind)


@register.filter(name="number")
def number(value: object) -> str:
    return display.format_number(value)


@register.filter(name="stored")
def stored(value: object) -> str:
    return display.stored_value(value)


@register.filter(name="versions")
def versions(text: object) -> list[tuple[str, str]]:
    return list(localised_text.versions(text).items())
