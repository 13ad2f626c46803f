"""How a cohort cell is read as a category: missing or not, and its level label.

Spreadsheets and statistical files store codes as floats (``1.0``) next to text (``"1"``);
every cohort step that compares or groups cell values reads them through these two functions
so that both spell the same level.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from npctrial.errors import ValidationError


def is_missing(value: object) -> bool:
    """True for None, NaN and NaT (text, even empty, is a value)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def check_columns(frame: pd.DataFrame, columns: Sequence[str], analysis: str) -> None:
    """Raise a ValidationError naming the first of ``columns`` that ``frame`` lacks."""
    for col in columns:
        if col not in frame.columns:
            raise ValidationError(f"{analysis}: no column {col!r} in the cohort", field=col)


def as_level(value: object) -> str | None:
    """The level label of a cell: None when missing, ``"2"`` for the float 2.0, ``str(value)`` otherwise."""
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
