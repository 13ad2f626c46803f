"""The one boundary validator for the arguments the layers share.

Each ``check_*`` takes the value a caller passed and either returns it as the typed value the
computation uses or raises a :class:`~npctrial.errors.ValidationError` whose message and
``field`` name the argument. Numbers must be real numbers (Python or NumPy; not bool, not
strings): a text that happens to parse is not silently read as a probability.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from npctrial.errors import ValidationError

__all__ = [
    "check_choice",
    "check_conf_level",
    "check_count",
    "check_flag",
    "check_number",
    "check_positive",
    "check_probability",
]


def check_number(value: Any, field: str) -> float:
    """A finite real number (int, float or NumPy scalar; bool and strings refused)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValidationError(f"{field} must be a number, got {value!r}", field=field)
    x = float(value)
    if not math.isfinite(x):
        raise ValidationError(f"{field} must be finite, got {value!r}", field=field)
    return x


def check_probability(value: Any, field: str, *, open_low: bool = True, open_high: bool = True) -> float:
    """A number in (0, 1) (a bound included when ``open_low``/``open_high`` is False)."""
    x = check_number(value, field)
    low_ok = x > 0 if open_low else x >= 0
    high_ok = x < 1 if open_high else x <= 1
    if not (low_ok and high_ok):
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ValidationError(f"{field} must be in {lo}0, 1{hi}, got {value!r}", field=field)
    return x


def check_conf_level(value: Any, field: str = "conf_level") -> float:
    """A confidence level strictly between 0 and 1 (0.95 for 95% intervals)."""
    return check_probability(value, field)


def check_positive(value: Any, field: str, *, allow_zero: bool = False) -> float:
    """A finite number > 0 (>= 0 with ``allow_zero``)."""
    x = check_number(value, field)
    if not (x >= 0 if allow_zero else x > 0):
        raise ValidationError(f"{field} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}", field=field)
    return x


def check_count(value: Any, field: str, *, minimum: int = 0) -> int:
    """An integer >= ``minimum`` (whole floats such as 3.0 are not integers)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValidationError(f"{field} must be an integer >= {minimum}, got {value!r}", field=field)
    return int(value)


def check_choice(value: Any, choices: Iterable[str], field: str) -> str:
    """One of ``choices`` (exact spelling)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValidationError(f"{field} must be one of {list(options)}, got {value!r}", field=field)
    return value


def check_flag(value: Any, field: str) -> bool:
    """True or False (1/0 and strings refused: a flag is not guessed)."""
    if not isinstance(value, bool | np.bool_):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return bool(value)
