"""A radiotherapy course as recorded: its dates and the fractions planned and delivered.

Rules (each raises :class:`~npctrial.errors.ValidationError` naming the field):

1. :func:`check_rt_course_dates`: the last day of treatment is not before the first
   (``end_date >= start_date``; a course of one day ends on its start date).
2. :func:`check_delivered_fractions`: a course delivers at most the fractions planned
   (``0 <= delivered_fractions <= fractions``): fewer is an incomplete course, recorded as such;
   a fraction more than planned contradicts the prescription (the planned number is corrected).

The doses of the course (BED, EQD2) are :mod:`npctrial.domain.radiobiology`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from npctrial.domain._inputs import check_date
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["check_delivered_fractions", "check_rt_course_dates"]


def check_rt_course_dates(start_date: dt.date | str, end_date: dt.date | str | None) -> dt.date | None:
    """The end date (None while the course is under way) if it is not before the start date (rule 1)."""
    start = check_date(start_date, "start_date")
    if end_date is None:
        return None
    end = check_date(end_date, "end_date")
    if end < start:
        raise ValidationError(message("rt.end_before_start",
                                      "end_date (%(end)s) must not be before start_date (%(start)s)",
                                      end=end.isoformat(), start=start.isoformat()), field="end_date")
    return end


def _whole(value: Any, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(message("field.below_min", "%(field)s must be >= %(limit)s%(unit)s, got %(value)s",
                                      field=field, limit=str(minimum), unit="", value=repr(value)), field=field)
    return value


def check_delivered_fractions(fractions: int, delivered_fractions: int | None) -> int | None:
    """The fractions delivered (None: not yet known) if 0 <= delivered <= planned (rule 2)."""
    planned = _whole(fractions, "fractions", 1)
    if delivered_fractions is None:
        return None
    delivered = _whole(delivered_fractions, "delivered_fractions", 0)
    if delivered > planned:
        raise ValidationError(message("rt.delivered_above_planned",
                                      "delivered_fractions must be <= planned fractions (%(planned)s), got %(got)s",
                                      planned=planned, got=delivered), field="delivered_fractions")
    return delivered
