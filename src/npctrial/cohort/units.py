"""Time units of a cohort report: days, weeks, months and years, their conversion, default
landmarks, axis ticks that fit the unit, and how a time is printed.

A month is 365.25 / 12 = 30.4375 days and a year 365.25 days (the Julian year, as R's
``lubridate`` durations and most survival software); a week is 7 days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

TimeUnit = Literal["days", "weeks", "months", "years"]
DAYS: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}

#: Default landmarks: 1, 2, 3 and 5 years in each unit (5 years = 1826 days).
DEFAULT_LANDMARKS: dict[str, tuple[float, ...]] = {
    "days": (365.0, 730.0, 1095.0, 1826.0),
    "weeks": (52.0, 104.0, 156.0, 260.0),
    "months": (12.0, 24.0, 36.0, 60.0),
    "years": (1.0, 2.0, 3.0, 5.0),
}

#: Candidate tick steps per unit, from fine to coarse (calendar-like: a month, a quarter, a year ...).
_STEPS: dict[str, tuple[float, ...]] = {
    "days": (7, 14, 30, 60, 90, 180, 365, 730, 1825),
    "weeks": (1, 2, 4, 13, 26, 52, 104, 260),
    "months": (1, 3, 6, 12, 24, 60),
    "years": (0.5, 1, 2, 5, 10),
}


def convert(values: np.ndarray | float, source: str, target: str) -> np.ndarray | float:
    """``values`` in ``source`` units expressed in ``target`` units."""
    if source == target:
        return values
    return values * (DAYS[source] / DAYS[target])


def axis_label(unit: str | None) -> str:
    return f"Time ({unit})" if unit else "Time"


def _nice_step(tmax: float, target: int) -> float:
    """The smallest 1-2-5 step giving at most ``target`` intervals up to ``tmax``."""
    raw = tmax / target
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw * (1 - 1e-12))


def axis_ticks(tmax: float, unit: str | None, *, target: int = 8) -> list[float]:
    """Ticks from 0 to ``tmax`` at a step that fits the unit (at most about ``target``
    intervals): days by weeks/months/quarters/years, months by 3/6/12, years by 1/2/5; 1-2-5
    steps when the unit is unknown."""
    if not np.isfinite(tmax) or tmax <= 0:
        return [0.0]
    steps = _STEPS.get(unit or "", ())
    if steps:
        step = next((s for s in steps if tmax / s <= target), steps[-1])
    else:
        step = _nice_step(tmax, target)
    return [float(v) for v in np.arange(0.0, tmax + 1e-9 * max(1.0, tmax), step)]


def data_landmarks(tmax: float) -> tuple[float, ...]:
    """Landmarks when the unit is unknown: 1-2-5 steps over the follow-up (about four of them)."""
    ticks = axis_ticks(tmax, None, target=6)
    return tuple(t for t in ticks[1:] if t < tmax)[:5] or (tmax,)


def landmarks_for(unit: str | None, tmax: float | None = None) -> tuple[float, ...]:
    """The default landmarks of a unit; from the data when the unit is unknown."""
    if unit in DEFAULT_LANDMARKS:
        return DEFAULT_LANDMARKS[unit]
    return data_landmarks(tmax if tmax is not None else 1.0)


def format_time(t: float) -> str:
    """A time as printed in tables: ``12`` not ``12.0``; up to two decimals otherwise."""
    if float(t).is_integer():
        return str(int(t))
    return f"{t:.2f}".rstrip("0").rstrip(".")


def format_times(times: Sequence[float]) -> list[str]:
    return [format_time(t) for t in times]
