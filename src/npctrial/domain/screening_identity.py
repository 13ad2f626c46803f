"""Who was screened: the identity a GCP screening log keeps, age at screening, the duplicate rule.

A screening log (ICH E6(R2) 8.3.20, "subject screening log") names every patient screened so that
the same person is not screened as two people. The identity of a screening is:

- ``initials``: 2 to 4 Latin letters, kept upper-case (Chinese hospitals record the pinyin
  initials, e.g. 张伟 -> ZW). Spaces, dots and hyphens typed between letters are removed
  ("Z.W." -> ZW); any other character is refused.
- ``birth_date``: not before 1900-01-01, not in the future, not after the screening date.
- ``hospital_number``: the site's medical record number (optional; means something only within
  one site; up to 40 characters, compared without surrounding spaces and case-insensitively).

**Duplicate rule** (:func:`check_same_person`): two screenings of one study are the same person when

1. both record initials and a birth date, the initials are equal ignoring case, and the birth
   dates are the same day (a day apart is another person); the sites may differ; or
2. both are at the same site and record the same hospital number.

A screening without initials or birth date (e.g. recorded before these fields existed) matches
nobody under rule 1.

**Age** (:func:`compute_age`) is in completed years on the screening date; a person born on
29 February has a birthday on 1 March in common years.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from npctrial.domain._inputs import check_date
from npctrial.domain.localised_text import LocalisedText
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = [
    "AGE_FIELDS", "SameBy", "ScreeningIdentity", "check_birth_date", "check_hospital_number", "check_initials",
    "check_same_person", "compute_age", "derive_age_value", "find_same_person",
]

EARLIEST_BIRTH = dt.date(1900, 1, 1)
HOSPITAL_NUMBER_MAX = 40
#: protocol fields that hold the age at screening: computed from the birth date when it is recorded.
AGE_FIELDS = ("age", "age_years")

_SEPARATORS = re.compile(r"[\s.\-]+")
_INITIALS = re.compile(r"[A-Z]{2,4}")
_FIELDS = {"initials": "姓名缩写", "birth_date": "出生日期", "hospital_number": "住院号", "age": "年龄",
           "age_years": "年龄"}


def _field(name: str) -> LocalisedText:
    return LocalisedText(name, {"zh": _FIELDS[name]})


def check_initials(text: Any) -> str:
    """Upper-cased initials: 2-4 Latin letters once spaces, dots and hyphens are removed."""
    if not isinstance(text, str):
        raise ValidationError(message("initials.not_text", "%(field)s must be text, got %(value)s",
                                      field=_field("initials"), value=repr(text)), field="initials")
    letters = _SEPARATORS.sub("", text).upper()
    if not _INITIALS.fullmatch(letters):
        raise ValidationError(message(
            "initials.invalid", "%(field)s must be 2 to 4 Latin letters (pinyin initials, e.g. ZW), got %(value)s",
            field=_field("initials"), value=repr(text.strip())), field="initials")
    return letters


def check_birth_date(birth: dt.date | str, *, screening_date: dt.date | str, today: dt.date | str) -> dt.date:
    """The birth date if it is from 1900 on, not in the future and not after the screening date."""
    day = check_date(birth, "birth_date")
    now = check_date(today, "today")
    screened = check_date(screening_date, "screening_date")
    if day > now:
        raise ValidationError(message("date.in_future", "%(field)s %(day)s is in the future (today is %(today)s)",
                                      field=_field("birth_date"), day=day.isoformat(), today=now.isoformat()),
                              field="birth_date")
    if day > screened:
        raise ValidationError(message("birth_date.after_screening",
                                      "%(field)s %(day)s is after the screening date %(screening)s",
                                      field=_field("birth_date"), day=day.isoformat(),
                                      screening=screened.isoformat()), field="birth_date")
    if day < EARLIEST_BIRTH:
        raise ValidationError(message("birth_date.too_early", "%(field)s %(day)s is before %(earliest)s",
                                      field=_field("birth_date"), day=day.isoformat(),
                                      earliest=EARLIEST_BIRTH.isoformat()), field="birth_date")
    return day


def check_hospital_number(text: Any) -> str:
    """The hospital record number stripped ("" when not given); at most 40 printable characters."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValidationError(message("hospital_number.not_text", "%(field)s must be text, got %(value)s",
                                      field=_field("hospital_number"), value=repr(text)), field="hospital_number")
    value = text.strip()
    if len(value) > HOSPITAL_NUMBER_MAX or not value.isprintable():
        raise ValidationError(message(
            "hospital_number.invalid", "%(field)s must be at most %(max)s printable characters",
            field=_field("hospital_number"), max=str(HOSPITAL_NUMBER_MAX)), field="hospital_number")
    return value


def compute_age(birth: dt.date, on: dt.date) -> int:
    """Age in completed years on ``on`` (29 February birthdays fall on 1 March in common years)."""
    if on < birth:
        raise ValidationError(message("age.birth_date_later", "age on %(day)s: birth date %(birth)s is later",
                                      day=on.isoformat(), birth=birth.isoformat()), field="birth_date")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def derive_age_value(field_names: Iterable[str], values: dict[str, Any], birth: dt.date | None,
                     screening_date: dt.date) -> dict[str, Any]:
    """``values`` with the protocol's age field (:data:`AGE_FIELDS`) computed from the birth date.

    Without a birth date the typed age stays. A typed age that differs from the computed one is
    refused (the criterion is checked from the birth date, never from a contradicting typed age).
    """
    if birth is None:
        return dict(values)
    out = dict(values)
    age = compute_age(birth, screening_date)
    for name in AGE_FIELDS:
        if name not in set(field_names):
            continue
        typed = out.get(name)
        if typed not in (None, "") and _as_number(typed) != age:
            raise ValidationError(message(
                "age.contradicts_birth_date",
                "%(field)s %(typed)s contradicts the birth date: %(age)s years on the screening date",
                field=_field(name), typed=str(typed), age=str(age)), field=name)
        out[name] = age
    return out


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ScreeningIdentity:
    """The identity of one screening (``initials`` "" and ``birth_date`` None when not recorded)."""

    site: str
    initials: str = ""
    birth_date: dt.date | None = None
    hospital_number: str = ""


SameBy = Literal["initials_birth_date", "hospital_number"]


def check_same_person(a: ScreeningIdentity, b: ScreeningIdentity) -> SameBy | None:
    """Why ``a`` and ``b`` are the same person under the duplicate rule (module docstring), or None."""
    if a.site == b.site and a.hospital_number.strip() and \
            a.hospital_number.strip().casefold() == b.hospital_number.strip().casefold():
        return "hospital_number"
    if a.initials and b.initials and a.birth_date is not None and a.birth_date == b.birth_date \
            and a.initials.casefold() == b.initials.casefold():
        return "initials_birth_date"
    return None


def find_same_person(new: ScreeningIdentity, earlier: Iterable[tuple[Any, ScreeningIdentity]]
                     ) -> list[tuple[Any, SameBy]]:
    """The earlier screenings ``(key, identity)`` that are the same person as ``new``, in the given order."""
    found: list[tuple[Any, SameBy]] = []
    for key, identity in earlier:
        why = check_same_person(new, identity)
        if why is not None:
            found.append((key, why))
    return found
