"""Read-only results: what a frozen result object holds cannot be changed in place.

A ``@dataclass(frozen=True)`` forbids re-assigning attributes but not writing into the NumPy
arrays, dicts or DataFrames it holds. Result classes derive from :class:`FrozenResult`, whose
``__post_init__`` replaces every field value by a read-only equivalent (:func:`readonly`):

* NumPy arrays become read-only views (the producer's own array is untouched);
* dicts become :class:`types.MappingProxyType` of read-only values, lists become tuples, tuples
  hold read-only values;
* DataFrames and Series become copies whose NumPy columns are read-only (assigning a value
  raises ``ValueError: assignment destination is read-only``; categorical and other extension
  columns are copied as they are). Results that hold a frame keep it private and hand out
  copies, so adding a column to what a caller received never changes the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FrozenResult", "readonly"]


def _readonly_array(a: np.ndarray) -> np.ndarray:
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def _readonly_frame(df: pd.DataFrame) -> pd.DataFrame:
    cols = {}
    for j in range(df.shape[1]):
        col = df.iloc[:, j]
        if isinstance(col.dtype, np.dtype):  # NumPy columns: read-only arrays
            values = col.to_numpy(copy=True)
            values.flags.writeable = False
            cols[j] = pd.Series(values, index=df.index, copy=False)
        else:  # categorical, nullable, string columns keep their dtype (a copy)
            cols[j] = col.copy()
    out = pd.DataFrame(cols, index=df.index, copy=False)
    out.columns = df.columns
    return out


#: values that are immutable already: returned before any (ABC) isinstance check, the common case
_IMMUTABLE = frozenset({type(None), bool, int, float, complex, str, bytes, np.float64, np.int64, np.bool_})


def readonly(value: Any) -> Any:
    """A read-only equivalent of ``value`` (see the module docstring); other values unchanged."""
    if type(value) in _IMMUTABLE:
        return value
    if isinstance(value, np.ndarray):
        return _readonly_array(value)
    if isinstance(value, pd.DataFrame):
        return _readonly_frame(value)
    if isinstance(value, pd.Series):
        values = value.to_numpy(copy=True)
        values.flags.writeable = False
        return pd.Series(values, index=value.index, name=value.name, copy=False)
    if isinstance(value, list | tuple):
        items = tuple(readonly(v) for v in value)
        if isinstance(value, tuple) and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items
    if isinstance(value, MappingProxyType | FrozenResult):  # frozen already (no ABC check below)
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({k: readonly(v) for k, v in value.items()})
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass field names of ``cls``, computed once per class."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    return names


class FrozenResult:
    """Mixin for ``@dataclass(frozen=True)`` results: every field is made read-only on creation."""

    def __post_init__(self) -> None:
        for name in _field_names(type(self)):
            value = getattr(self, name)
            frozen = readonly(value)
            if frozen is not value:
                object.__setattr__(self, name, frozen)
