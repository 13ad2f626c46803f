"""Column conversion helpers shared by the validated survival inputs (internal).

Every helper names the argument and the first offending row (0-based position, plus the pandas
index label for a Series) in its error message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError

__all__ = [
    "as_1d",
    "as_float_array",
    "event_codes_fast",
    "first_bad",
    "format_level",
    "frame_numbers",
    "index_of",
    "missing_mask",
    "row_label",
    "show",
]




def row_label(index: pd.Index | None, pos: int) -> str:
    """'row 3' or 'row 3 (index label 'a')' for messages."""
    if index is None:
        return f"row {pos}"
    return f"row {pos} (index label {index[pos]!r})"


def index_of(values: Any) -> pd.Index | None:
    """The pandas index of a Series (None for arrays/lists or a default RangeIndex)."""
    if isinstance(values, pd.Series):
        idx = values.index
        if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
            return None
        return idx
    return None


def as_1d(values: Any, name: str) -> np.ndarray:
    """A 1-d numpy array (object dtype kept) from an array, list or Series."""
    if values is None:
        raise ValidationError(f"{name} is required, got None", field=name)
    if isinstance(values, pd.Series | pd.Index):
        arr = values.to_numpy()
    elif isinstance(values, pd.DataFrame):
        raise ValidationError(f"{name} must be 1-dimensional, got a DataFrame", field=name)
    else:
        arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be 1-dimensional, got shape {arr.shape}", field=name)
    return arr


def as_float_array(values: Any, name: str) -> np.ndarray:
    """Convert to float64, naming the first row that is not a number.

    Missing values (None, pandas NA) become NaN; the caller decides what NaN means.
    """
    arr = as_1d(values, name)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "O" or isinstance(getattr(values, "dtype", None), pd.api.extensions.ExtensionDtype):
        try:
            return pd.to_numeric(pd.Series(arr), errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            pass
    idx = index_of(values)
    for pos, v in enumerate(arr):
        try:
            float(v) if v is not None and not pd.isna(v) else 0.0
        except (TypeError, ValueError):
            raise ValidationError(
                f"{name} must be numeric; {row_label(idx, pos)} is {show(v)}", field=name, row=pos
            ) from None
    raise ValidationError(f"{name} must be numeric, got dtype {arr.dtype}", field=name)


def missing_mask(values: Any) -> np.ndarray | None:
    """Boolean mask of missing values, or None when the column cannot or does not hold any."""
    arr = as_1d(values, "values")
    if arr.shape[0] == 0:
        return None
    if arr.dtype.kind == "f":
        return np.isnan(arr) if np.isnan(arr.min()) else None
    if arr.dtype.kind in "iub":
        return None
    return np.asarray(pd.isna(pd.Series(arr, dtype=object)).to_numpy(), dtype=bool)


def show(v: Any) -> str:
    """A value for an error message (numpy scalars shown as plain Python values)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v)


def event_codes_fast(ev: np.ndarray, allowed: tuple[int, ...]) -> np.ndarray | None:
    """int64 event codes when ``ev`` is a bool/integer array whose values are all allowed and the
    allowed codes form a contiguous range (checked by min/max only); None otherwise."""
    if ev.dtype.kind not in "biu" or ev.shape[0] == 0:
        return None
    lo, hi = min(allowed), max(allowed)
    if hi - lo + 1 != len(allowed):
        return None
    if ev.dtype.kind == "b":
        return ev.astype(np.int64) if lo <= 0 and hi >= 1 else None
    if int(ev.min()) < lo or int(ev.max()) > hi:
        return None
    return ev.astype(np.int64, copy=True)


def first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def format_level(level: Any) -> str:
    """R-like label: integral floats print without '.0'."""
    if isinstance(level, float | np.floating) and np.isfinite(level) and float(level).is_integer():
        return str(int(level))
    if isinstance(level, np.generic):
        return str(level.item())
    return str(level)


def frame_numbers(frame: pd.DataFrame, name: str, what: str = "data") -> np.ndarray:
    """Column ``name`` of the DataFrame ``frame`` (called ``what`` in messages) as finite floats;
    a ValidationError names a missing column, a non-numeric one or the first bad row."""
    if name not in frame.columns:
        raise ValidationError(f"{what}: column {name!r} not found", field=name)
    try:
        values = frame[name].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what}: column {name!r} must be numeric", field=name) from exc
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"{what}: {name} must be a finite number; row {frame.index[i]!r} is "
                              f"{frame[name].iloc[i]!r}", field=name, row=i)
    return values
