"""Boundary checks for the clinical inputs shared by the domain modules: numbers and dates.

Each check returns the typed value or raises :class:`~npctrial.errors.ValidationError` naming
the field and the problem ("weight_kg must be > 0, got -3").
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from npctrial.errors import ValidationError
from npctrial.messages import message

#: Plausible adult and paediatric body weight (kg); outside it the value is rejected.
WEIGHT_RANGE_KG = (1.0, 400.0)


def check_number(value: Any, field: str) -> float:
    """A finite real number (bool, NaN and infinities are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(message("number.not_finite", "%(field)s must be a finite number, got %(value)s",
                                      field=field, value=repr(value)), field=field)
    return float(value)


def check_positive(value: Any, field: str) -> float:
    """A finite number > 0."""
    x = check_number(value, field)
    if x <= 0:
        raise ValidationError(message("number.not_positive", "%(field)s must be > 0, got %(value)s",
                                      field=field, value=repr(value)), field=field)
    return x


def check_weight_kg(value: Any, field: str = "weight_kg") -> float:
    """A body weight in kg within :data:`WEIGHT_RANGE_KG`."""
    w = check_positive(value, field)
    lo, hi = WEIGHT_RANGE_KG
    if not lo <= w <= hi:
        raise ValidationError(message("weight.out_of_range", "%(field)s must be between %(low)s and %(high)s kg, "
                                      "got %(value)s", field=field, low=lo, high=hi, value=repr(value)), field=field)
    return w


def check_date(value: Any, field: str) -> dt.date:
    """A date from a ``date``, a ``datetime`` (its date) or an ISO 'YYYY-MM-DD' string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(message("date.not_a_date", "%(field)s must be a date (YYYY-MM-DD), got %(value)s",
                                  field=field, value=repr(value)), field=field)
