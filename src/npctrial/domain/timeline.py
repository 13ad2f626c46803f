"""Date-order rules for the start of a subject's timeline: consent, screening, enrolment, randomisation.

These dates are the origins of every endpoint (shared/domain/endpoints.md: OS and PFS run "from
the date of enrollment" or of randomisation), so they are entered, never taken from the moment
a button was clicked, and an impossible order is refused:

1. No date lies in the future (after ``today``, the site's calendar date).
2. Enrolment is on or after the consent date (ICH E6(R2) 4.8.8: consent is obtained before the
   subject takes part in the trial) and on or after the screening date.
3. Randomisation is on or after enrolment (a subject is enrolled, then allocated).

Each check returns the date or raises :class:`~npctrial.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import datetime as dt

from npctrial.domain._inputs import check_date
from npctrial.domain.localised_text import LocalisedText
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["check_enrolment_date", "check_randomisation_date", "check_screening_date"]


#: The dates named in messages: the field name in English (as forms and the API name it), Chinese beside.
_DATES = {"screening_date": "筛选日期", "consent_date": "知情同意日期", "enrolment_date": "入组日期",
          "randomisation_date": "随机化日期"}


def _field(name: str) -> LocalisedText:
    return LocalisedText(name, {"zh": _DATES[name]})


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise ValidationError(message("date.in_future", "%(field)s %(day)s is in the future (today is %(today)s)",
                                      field=_field(field), day=day.isoformat(), today=today.isoformat()),
                              field=field)


def _before(day: dt.date, field: str, earlier: dt.date, earlier_field: str) -> ValidationError:
    """``field`` on ``day`` lies before ``earlier_field`` on ``earlier`` (rules 2 and 3)."""
    return ValidationError(message("date.before", "%(field)s %(day)s is before the %(other)s %(other_day)s",
                                   field=_field(field), day=day.isoformat(), other=_OTHER[earlier_field],
                                   other_day=earlier.isoformat()), field=field)


_OTHER = {"consent_date": LocalisedText("consent date", {"zh": "知情同意日期"}),
          "screening_date": LocalisedText("screening date", {"zh": "筛选日期"}),
          "enrolment_date": LocalisedText("enrolment date", {"zh": "入组日期"})}


def check_screening_date(screening: dt.date | str, *, today: dt.date | str) -> dt.date:
    """The screening date if it is not in the future (rule 1)."""
    day = check_date(screening, "screening_date")
    _not_future(day, check_date(today, "today"), "screening_date")
    return day


def check_enrolment_date(enrolment: dt.date | str, *, consent: dt.date | str, today: dt.date | str,
                         screening: dt.date | str | None = None) -> dt.date:
    """The enrolment date if it is not in the future and not before consent or screening (rules 1-2)."""
    day = check_date(enrolment, "enrolment_date")
    now = check_date(today, "today")
    signed = check_date(consent, "consent_date")
    _not_future(signed, now, "consent_date")
    _not_future(day, now, "enrolment_date")
    if day < signed:
        raise _before(day, "enrolment_date", signed, "consent_date")
    if screening is not None:
        screened = check_date(screening, "screening_date")
        if day < screened:
            raise _before(day, "enrolment_date", screened, "screening_date")
    return day


def check_randomisation_date(randomisation: dt.date | str, *, enrolment: dt.date | str,
                             today: dt.date | str) -> dt.date:
    """The randomisation date if it is not in the future and not before enrolment (rules 1 and 3)."""
    day = check_date(randomisation, "randomisation_date")
    _not_future(day, check_date(today, "today"), "randomisation_date")
    enrolled = check_date(enrolment, "enrolment_date")
    if day < enrolled:
        raise _before(day, "randomisation_date", enrolled, "enrolment_date")
    return day
