"""Validated grouping variables (:class:`Factor`) with R's level order.

Level order follows R: sorted unique values for numbers and strings (numeric order for numbers),
category order for a pandas ``Categorical``; unused levels are dropped, as ``strata()`` does in
``survfit``/``survdiff``. Integer columns are coded in O(n) with ``bincount``; other columns with
a hash-based ``pandas.factorize``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.columns import (
    as_1d,
    first_bad,
    format_level,
    index_of,
    missing_mask,
    row_label,
    show,
)
from npctrial.survival.dense_rank import integer_ranks

__all__ = ["Factor"]



@dataclass(frozen=True)
class Factor(FrozenResult):
    """A validated grouping variable: integer ``codes`` (0..k-1) and ordered ``levels``.

    ``labels`` are the printable level names; ``strata_labels`` are R's ``name=level`` names
    (e.g. ``"sex=1"``) as used in ``survfit`` and ``survdiff`` output.
    """

    name: str
    codes: np.ndarray
    levels: tuple[Any, ...]

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(format_level(v) for v in self.levels)

    @property
    def strata_labels(self) -> tuple[str, ...]:
        return tuple(f"{self.name}={lab}" for lab in self.labels)

    def counts(self) -> np.ndarray:
        """Rows per level."""
        return np.bincount(self.codes, minlength=self.n_levels)

    def take(self, rows: np.ndarray) -> Factor:
        """The factor restricted to ``rows`` (levels kept, unused ones dropped)."""
        return Factor._from_codes(self.name, self.codes[rows], self.levels)

    @staticmethod
    def _from_codes(name: str, codes: np.ndarray, levels: Sequence[Any]) -> Factor:
        used = np.bincount(codes, minlength=len(levels)) > 0
        if not used.all():
            remap = np.cumsum(used) - 1
            codes = remap[codes]
            levels = [lv for lv, u in zip(levels, used, strict=True) if u]
        codes = np.ascontiguousarray(codes, dtype=np.int64)
        codes.flags.writeable = False
        return Factor(name=name, codes=codes, levels=tuple(levels))

    @classmethod
    def from_values(
        cls, values: Any, *, name: str = "group", levels: Sequence[Any] | None = None
    ) -> Factor:
        """Validate a grouping column (no missing values allowed here).

        Level order: ``levels`` if given (values outside it raise); otherwise the category order
        of a pandas Categorical; otherwise sorted unique values (numeric order for numbers).
        """
        if isinstance(values, Factor):
            return values
        idx = index_of(values)
        miss = missing_mask(values)
        if miss is not None and miss.any():
            pos = first_bad(miss)
            raise ValidationError(
                f"{name} has a missing value at {row_label(idx, pos)}", field=name, row=pos
            )
        arr = as_1d(values, name)
        if arr.shape[0] == 0:
            raise ValidationError(f"{name} is empty", field=name)
        if levels is None and arr.dtype.kind in "biu":
            fast = _integer_factor(arr, name)
            if fast is not None:
                return fast
        if levels is None and arr.dtype.kind == "f":  # 0/1, 1/2/3 ... stored as floats
            table = integer_ranks(arr)
            if table is not None:
                codes, distinct = table
                codes.flags.writeable = False
                return Factor(name=name, codes=codes, levels=tuple(float(v) for v in distinct))
        if levels is None and isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
            cat = pd.Categorical(values)
            return cls._from_codes(name, np.asarray(cat.codes, dtype=np.int64), list(cat.categories))
        if levels is not None:
            lv = list(levels)
            cat = pd.Categorical(arr, categories=lv)
            bad = np.asarray(cat.codes) < 0
            if bad.any():
                pos = first_bad(bad)
                raise ValidationError(
                    f"{name} value {show(arr[pos])} at {row_label(idx, pos)} is not one of the "
                    f"declared levels {lv!r}",
                    field=name,
                    row=pos,
                )
            return cls._from_codes(name, np.asarray(cat.codes, dtype=np.int64), lv)
        try:
            codes, uniq = pd.factorize(arr, sort=True)  # hash-based O(n), sorted levels
        except TypeError:
            # mixed types: order by string form
            s = np.array([str(v) for v in arr], dtype=object)
            codes, uniq = pd.factorize(s, sort=True)
        uniq = np.asarray(uniq)
        lvls = [u.item() if isinstance(u, np.generic) else u for u in uniq]
        return cls._from_codes(name, codes.reshape(-1), lvls)


def _integer_factor(arr: np.ndarray, name: str) -> Factor | None:
    """O(n) coding of a bool/integer column with a small value range (bincount, no sort/hash)."""
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo > 1_000_000:
        return None
    shifted = arr.astype(np.int64) if lo == 0 else arr.astype(np.int64) - lo
    used = np.bincount(shifted, minlength=hi - lo + 1) > 0
    lv = np.flatnonzero(used) + lo
    levels = tuple(bool(v) for v in lv) if arr.dtype.kind == "b" else tuple(int(v) for v in lv)
    if not used.all():
        shifted = (np.cumsum(used) - 1)[shifted]
    shifted.flags.writeable = False
    return Factor(name=name, codes=shifted, levels=levels)
