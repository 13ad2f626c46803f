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
from npctrial.errors import ValidationError

__all__ = ["check_enrolment_date", "check_randomisation_date", "check_screening_date"]


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise ValidationError(f"{field} {day.isoformat()} is in the future (today is {today.isoformat()})",
                              field=field)


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
        raise ValidationError(f"enrolment_date {day.isoformat()} is before the consent date {signed.isoformat()}",
                              field="enrolment_date")
    if screening is not None:
        screened = check_date(screening, "screening_date")
        if day < screened:
            raise ValidationError(f"enrolment_date {day.isoformat()} is before the screening date "
                                  f"{screened.isoformat()}", field="enrolment_date")
    return day


def check_randomisation_date(randomisation: dt.date | str, *, enrolment: dt.date | str,
                             today: dt.date | str) -> dt.date:
    """The randomisation date if it is not in the future and not before enrolment (rules 1 and 3)."""
    day = check_date(randomisation, "randomisation_date")
    _not_future(day, check_date(today, "today"), "randomisation_date")
    enrolled = check_date(enrolment, "enrolment_date")
    if day < enrolled:
        raise ValidationError(f"randomisation_date {day.isoformat()} is before the enrolment date "
                              f"{enrolled.isoformat()}", field="randomisation_date")
    return day
