"""Edit checks as protocol data: an expression over a record and its subject's timeline, hard or soft.

An edit check belongs to one case report form and names the field it is about::

    - id: DEATH-BEFORE-ALIVE
      form: event
      field: event_date
      when: 'kind == "death" and event_date < last_alive_date'
      severity: hard
      message: "death on {event_date} is before the 'alive' follow-up visit of {last_alive_date}"

``when`` is written in the safe rule language of eligibility (:mod:`npctrial.domain.rules`) and
describes the discrepancy: the check *fires* when it is true. A check that cannot be decided
(a date it reads is missing) does not fire. ``hard`` checks refuse the record with a
field-level error; ``soft`` checks store it and open a data query. ``message`` may name values
in braces (``{event_date}``); a missing value prints as "-". It may carry a version per language
(``message: {en: "...", zh: "..."}``, the English the source): a finding's message is filled in
every version, so an automatic query reads in the coordinator's language.

Generic checks hold for every protocol (``data/edit_checks.yaml``: future dates, the order of
consent, enrolment, treatment and death, acute RTOG beyond day 90, CTCAE grade 5 without a
death, duplicate assessments); a protocol adds its own under ``edit_checks:`` (a check with the
id of a generic one replaces it, e.g. to make it hard).

Names a check may read (the EDC provides them, :data:`CONTEXT_NAMES`): the fields of the record
of its form, and the subject's timeline -- ``today``, ``now``, ``consent_date``,
``screening_date``, ``enrolment_date``, ``randomisation_date``, ``arm``, ``rt_start``,
``rt_end``, ``death_date``, ``withdrawal_date``, ``last_alive_date``, ``treatment_weeks``, and for the record
``same_day_duplicates`` (other records of the form on the same date for the same item).

Evaluation (:func:`evaluate_edit_checks`):
1. Take the checks of the form.
2. Evaluate ``when`` on the values (record fields over the subject context).
3. Return every check that fired, hard ones first, with its message filled in.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from npctrial.domain._tables import read_rule_table
from npctrial.domain.localised_text import LocalisedStr, parse_localised_text
from npctrial.domain.rules import Rule, parse_rule
from npctrial.errors import ProtocolError, ValidationError
from npctrial.messages import Message, message, message_list, problem_at

__all__ = [
    "CONTEXT_NAMES",
    "EditCheck",
    "EditCheckFinding",
    "check_edit_checks",
    "edit_check_problems",
    "edit_checks_for",
    "evaluate_edit_checks",
    "generic_edit_checks",
    "message_in_language",
    "treatment_weeks",
]

#: Subject-level names the EDC puts in every check's namespace (besides the record's fields).
CONTEXT_NAMES = frozenset({
    "today", "now", "consent_date", "screening_date", "enrolment_date", "randomisation_date", "arm",
    "rt_start", "rt_end", "death_date", "withdrawal_date", "last_alive_date", "treatment_weeks",
    "same_day_duplicates",
})


class EditCheck(BaseModel):
    """One declared edit check (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]*$", max_length=40)
    form: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: str = Field(min_length=1)
    severity: Literal["hard", "soft"]
    message: LocalisedStr  # "{field} ..." in English, or {en: ..., zh: ...}
    source: str | None = None

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_rule(value)  # raises ValidationError with the reason
        return value

    @field_validator("message")
    @classmethod
    def _same_values_in_every_language(cls, value: str) -> str:
        """Every version names the same values as the English (a translation cannot drop one)."""
        text = parse_localised_text(value)
        english = _names(text.english)
        for language, version in text.translations.items():
            if _names(version) != english:
                raise ValueError(message("edit_check.translation_values", "the %(language)s message names "
                                         "%(theirs)s, the English %(ours)s", language=language,
                                         theirs=tuple(sorted(_names(version))) or "nothing",
                                         ours=tuple(sorted(english)) or "nothing"))
        return text

    def rule(self) -> Rule:
        return _compiled(self.when)

    @property
    def reads(self) -> tuple[str, ...]:
        """The names the expression reads (record fields and context names)."""
        return self.rule().fields


@cache
def _compiled(text: str) -> Rule:
    return parse_rule(text)


@dataclass(frozen=True)
class EditCheckFinding:
    """A check that fired on a record."""

    check: str
    form: str
    field: str
    severity: str
    message: str  # a LocalisedText: the English filled in, with the filled translations beside it

    @property
    def hard(self) -> bool:
        return self.severity == "hard"


def _parse_checks(items: Iterable[Any], origin: str) -> tuple[EditCheck, ...]:
    out: list[EditCheck] = []
    problems: list[Message] = []
    for i, item in enumerate(items):
        try:
            out.append(EditCheck.model_validate(item))
        except ValidationError as exc:
            problems.append(problem_at(f"{origin}[{i}]", exc.message or str(exc)))
        except PydanticValidationError as exc:
            problems.append(problem_at(f"{origin}[{i}]", str(exc)))
    ids = [c.id for c in out]
    problems += _duplicate_ids(origin, ids)
    if problems:
        raise ProtocolError(message_list(problems), field="edit_checks", problems=problems)
    return tuple(out)


def _duplicate_ids(path: str, ids: list[str]) -> list[Message]:
    return [message("edit_check.duplicate_id", "%(path)s: duplicate edit check id %(id)s", path=path, id=repr(i))
            for i in sorted({i for i in ids if ids.count(i) > 1})]


def edit_check_problems(data: Mapping[str, Any]) -> list[Message]:
    """Protocol-level problems pydantic cannot see: duplicate check ids (with their path)."""
    items = data.get("edit_checks")
    ids = [str(c.get("id")) for c in items if isinstance(c, Mapping)] if isinstance(items, list | tuple) else []
    return _duplicate_ids("edit_checks", ids)


@cache
def generic_edit_checks() -> tuple[EditCheck, ...]:
    """The checks every protocol gets (``data/edit_checks.yaml``)."""
    return _parse_checks(read_rule_table("edit_checks.yaml")["checks"], "edit_checks.yaml")


def edit_checks_for(protocol: Any) -> tuple[EditCheck, ...]:
    """Generic checks, then the protocol's (a protocol check with a generic id replaces it)."""
    own = tuple(getattr(protocol, "edit_checks", ()) or ())
    replaced = {c.id for c in own}
    return tuple(c for c in generic_edit_checks() if c.id not in replaced) + own


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def _text(value: Any) -> Any:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _names(template: str) -> set[str]:
    """The ``{name}`` values a message template names (empty for a malformed template)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError:
        return set()


def _message(template: str, values: Mapping[str, Any]) -> str:
    names = _names(template)
    try:
        return template.format_map(_Blank({n: _text(values.get(n)) for n in names}))
    except (ValueError, IndexError, KeyError):  # a malformed template is shown as written
        return template


def message_in_language(check: EditCheck | str, english: str, language: str | None) -> str:
    """The message of a fired ``check`` (or a message template with its versions) in ``language``,
    recovered from its filled English text (what an automatic data query stores).

    Steps: 1. the English template as a pattern, each ``{name}`` a group (the literal text between
    the values anchors them; a repeated name must repeat its value); 2. match the whole English
    text; 3. fill the ``language`` version with the values read. The English text itself when the
    check has no such version or the text does not match (a template changed since the query).
    """
    text = parse_localised_text(check.message if isinstance(check, EditCheck) else check)
    version = text.in_language(language)
    if version == text.english:
        return english
    found = _template_pattern(text.english).fullmatch(english)
    if found is None:
        return english
    return _message(version, found.groupdict())


@cache
def _template_pattern(template: str) -> re.Pattern[str]:
    parts, seen = [], set()
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError:
        return re.compile(re.escape(template))
    for literal, name, _spec, _conversion in pieces:
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
    return re.compile("".join(parts), re.S)


def evaluate_edit_checks(checks: Iterable[EditCheck], form: str, values: Mapping[str, Any]) -> list[EditCheckFinding]:
    """Every check of ``form`` that fires on ``values`` (steps 1-3 of the module docstring)."""
    fired = []
    for check in checks:
        if check.form != form:
            continue
        if check.rule().evaluate(values) is True:
            text = parse_localised_text(check.message).map(lambda template: _message(template, values))
            fired.append(EditCheckFinding(check.id, form, check.field, check.severity, text))
    return sorted(fired, key=lambda f: (not f.hard, f.check))


def check_edit_checks(checks: Iterable[EditCheck], form: str, values: Mapping[str, Any]) -> list[EditCheckFinding]:
    """Raise ValidationError (the first hard check's field and message); else the soft findings."""
    findings = evaluate_edit_checks(checks, form, values)
    hard = [f for f in findings if f.hard]
    if hard:
        raise ValidationError(message("edit_check.hard", "%(text)s [%(check)s]", text=hard[0].message,
                                      check=hard[0].check), field=hard[0].field)
    return findings


def treatment_weeks(protocol: Any, rt_start: dt.date | None = None, rt_end: dt.date | None = None) -> int | None:
    """The weeks a weekly treatment record (lab, AE week) may name, 1..n.

    n = the weekly events of the protocol's schedule anchored at the start of radiotherapy ("CCRT
    week 1..7"), or the week of the subject's last radiotherapy day when the course lasted longer
    (an interrupted course). None when neither is known (the week checks then do not fire).
    """
    schedule = getattr(protocol, "schedule", None)
    planned = [ev.repeat for ev in (schedule.events if schedule is not None else ())
               if ev.anchor == "rt_start" and ev.repeat > 1 and ev.every_days == 7]
    actual = [(rt_end - rt_start).days // 7 + 1] if rt_start is not None and rt_end is not None else []
    weeks = planned + actual
    return max(weeks) if weeks else None
