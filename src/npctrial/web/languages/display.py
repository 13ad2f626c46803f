"""How a stored value reads on a page in the active language; never how it is stored or exported.

- Protocol text (:func:`protocol_text`): the reader's version when the protocol gives one
  (``label: {en: ..., zh: ...}``), else the published English.
- Coded choices (:func:`choice_label`): RECIST categories and stage groups by their clinical
  name (``部分缓解 (PR)``), other codes (``female``) through the catalogue; the code itself is
  what forms submit, the database holds and exports write.
- Refusals of the domain layer (:func:`message_text`): a coded message
  (:mod:`npctrial.messages`) in the reader's language, the field named by its protocol label;
  the English text (what the API and the audit trail keep) for a plain-text error.
- Problems of a refused protocol document (:func:`problem_texts`): coded, in the reader's language.
- Numbers (:func:`format_number`): the value as entered, without a spurious ``.0`` (``350``, not
  ``350.0``) and without rounding an entered value; a decimal point and no digit grouping in
  both languages (the zh-Hans convention of Django and of Chinese laboratory reports).
  Dates stay ISO 8601 (``2026-01-05``) in both languages: ``01/05`` reads differently in
  different hospitals.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from npctrial.domain.localised_text import localise
from npctrial.domain.term_labels import term_label
from npctrial.errors import ProtocolError, ValidationError

__all__ = ["choice_label", "format_number", "message_text", "problem_texts", "protocol_text", "stored_value"]

_RECIST = frozenset({"CR", "PR", "SD", "PD", "NE", "NON_CR_NON_PD"})


def protocol_text(text: object) -> str:
    """``text`` (a protocol label, wording, help) in the active language."""
    return localise(text, get_language())


def message_text(error: ValidationError) -> str:
    """The text of ``error`` for the reader: its coded message in the active language, else ``str(error)``."""
    return str(error) if error.message is None else error.message.render(get_language())


def problem_texts(error: ProtocolError) -> list[str]:
    """The problems of a refused protocol document for the reader: its coded problems in the
    active language, else its English texts."""
    if error.problems:
        return [p.render(get_language()) for p in error.problems]
    return list(error.errors)


def choice_label(code: object, kind: str | None = None) -> str:
    """The readable label of a coded choice; ``kind`` names a term table (``recist_response``,
    ``stage_group``); without it RECIST categories are recognised and other codes translated."""
    if code is None or code == "":
        return ""
    text = str(code)
    if kind is None and text in _RECIST:
        kind = "recist_response"
    if kind is not None:
        return term_label(kind, text, get_language()).text
    return _(text)


def format_number(value: Any, places: int | None = None) -> str:
    """A number as people read it: whole floats without ``.0``, others as entered (at most 10
    significant digits), or rounded to ``places`` decimals (derived values) without trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if places is not None:
        value = round(value, places)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def stored_value(value: Any) -> str:
    """A value as the database holds it, for audit trails: ISO dates and times in every language
    (Django would print ``2026年1月5日`` or ``Jan. 5, 2026``), numbers exactly (``repr``)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
