"""Validated survival inputs: :class:`SurvivalData` and :class:`Factor`.

Every estimator in :mod:`npctrial.survival` validates its raw inputs exactly once, here, into
a frozen value; the algorithms then trust it.

Conventions follow R's ``Surv()`` and ``survfit()``:

* right-censored data ``(time, event)``; optional delayed entry (left truncation) ``entry``
  with ``entry < time`` (R's counting-process ``Surv(entry, time, event)``), optional
  non-negative case ``weights``;
* ``event`` is coded by ``event_codes`` (default ``(0, 1)``: 0 censored, 1 event; competing
  risks e.g. ``(0, 1, 2)``: 0 censored, 1 and 2 the causes). The first code is the censoring
  code. R's alternative 1/2 coding (1 = censored, 2 = event, as in the ``lung`` data) is
  accepted only when asked for with ``status_coding="r"``;
* grouping variables become :class:`Factor` values with R's level order: sorted unique values
  for numbers and strings, category order for pandas ``Categorical`` (unused categories are
  dropped, as ``survfit``/``survdiff`` do via ``strata()``).

Missing values (NaN/None/NA) in any column raise unless ``na_action="drop"``; dropped rows
are recorded in ``dropped_rows`` (0-based positions in the input) and ``n_dropped``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.columns import (
    as_1d,
    as_float_array,
    event_codes_fast,
    first_bad,
    index_of,
    missing_mask,
    row_label,
    show,
)
from npctrial.survival.factor import Factor

__all__ = ["Factor", "SurvivalData", "as_float_array", "group_name_of"]

NaAction = Literal["raise", "drop"]
StatusCoding = Literal["standard", "r"]


# --------------------------------------------------------------------------------------------
# SurvivalData
# --------------------------------------------------------------------------------------------


@overload
def _frozen(a: np.ndarray) -> np.ndarray: ...
@overload
def _frozen(a: None) -> None: ...
def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class SurvivalData(FrozenResult):
    """Validated right-censored (optionally left-truncated, weighted) survival data.

    Attributes
    ----------
    time : float64 array, finite and >= 0.
    event : int64 array of codes from ``event_codes``; ``event_codes[0]`` means censored.
    entry : float64 array with ``0 <= entry < time``, or None.
    weights : float64 array, finite and >= 0, or None.
    group, strata : optional :class:`Factor` values aligned with ``time``.
    event_codes : the declared codes (censoring code first).
    rows : 0-based positions of the kept rows in the input.
    dropped_rows : positions dropped by ``na_action="drop"``; ``n_dropped`` their number.
    index : the pandas index labels of the kept rows when the input was a Series, else None.
    """

    time: np.ndarray
    event: np.ndarray
    entry: np.ndarray | None = None
    weights: np.ndarray | None = None
    group: Factor | None = None
    strata: Factor | None = None
    event_codes: tuple[int, ...] = (0, 1)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dropped_rows: tuple[int, ...] = ()
    index: pd.Index | None = None

    # ---- derived ---------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.time.shape[0])

    @property
    def n_dropped(self) -> int:
        return len(self.dropped_rows)

    @property
    def censor_code(self) -> int:
        return self.event_codes[0]

    @property
    def cause_codes(self) -> tuple[int, ...]:
        """Event codes other than the censoring code."""
        return self.event_codes[1:]

    @property
    def is_competing(self) -> bool:
        return len(self.event_codes) > 2

    @property
    def status(self) -> np.ndarray:
        """Boolean: any event (of any cause) at ``time``."""
        return self.event != self.censor_code

    def __len__(self) -> int:
        return self.n

    def take(self, rows: np.ndarray) -> SurvivalData:
        """A new SurvivalData restricted to positions ``rows`` of this one."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return SurvivalData(
            time=_frozen(self.time[rows]),
            event=_frozen(self.event[rows]),
            entry=_frozen(None if self.entry is None else self.entry[rows]),
            weights=_frozen(None if self.weights is None else self.weights[rows]),
            group=None if self.group is None else self.group.take(rows),
            strata=None if self.strata is None else self.strata.take(rows),
            event_codes=self.event_codes,
            rows=_frozen(self.rows[rows]),
            dropped_rows=self.dropped_rows,
            index=None if self.index is None else self.index[rows],
        )

    # ---- constructor -------------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        time: Any,
        event: Any,
        *,
        entry: Any = None,
        weights: Any = None,
        group: Any = None,
        strata: Any = None,
        missing: Any = None,
        event_codes: Sequence[int] = (0, 1),
        status_coding: StatusCoding = "standard",
        na_action: NaAction = "raise",
        group_name: str | None = None,
        strata_name: str | None = None,
    ) -> SurvivalData:
        """Validate raw columns into a :class:`SurvivalData`.

        Steps:
          1. convert every column to a 1-d array and check the lengths agree;
          2. find rows with a missing value in any column (``missing`` is an extra boolean
             mask, e.g. rows with a missing covariate); raise naming the first one unless
             ``na_action="drop"``, which drops them and records their positions;
          3. check times (finite, >= 0), event codes, entry (finite, >= 0, < time) and weights
             (finite, >= 0), raising on the first bad row;
          4. build the group/strata :class:`Factor` values on the kept rows.

        ``status_coding="r"`` accepts R's 1 = censored / 2 = event coding (only with the default
        two ``event_codes``) and maps it to 0/1. Boolean events are accepted as 0/1.
        """
        if na_action not in ("raise", "drop"):
            raise ValidationError(
                f"na_action must be 'raise' or 'drop', got {na_action!r}", field="na_action"
            )
        if status_coding not in ("standard", "r"):
            raise ValidationError(
                f"status_coding must be 'standard' or 'r', got {status_coding!r}",
                field="status_coding",
            )
        # labels: explicit name, else the Series/Factor name, else "group"/"strata"
        group_name = group_name or group_name_of(group, "group")
        strata_name = strata_name or group_name_of(strata, "strata")
        if strata is not None and strata_name == group_name:
            strata_name = strata_name + ".strata"
        codes = tuple(int(c) for c in event_codes)
        if len(codes) < 2 or len(set(codes)) != len(codes):
            raise ValidationError(
                f"event_codes must list at least two distinct codes (censoring first), got {codes!r}",
                field="event_codes",
            )
        if status_coding == "r" and len(codes) != 2:
            raise ValidationError(
                "status_coding='r' (1 = censored, 2 = event) applies to two-state data only",
                field="status_coding",
            )

        idx = index_of(time)
        if idx is None:
            idx = index_of(event)
        t = as_float_array(time, "time")
        n = t.shape[0]
        cols: dict[str, Any] = {"event": event}
        if entry is not None:
            cols["entry"] = entry
        if weights is not None:
            cols["weights"] = weights
        if group is not None:
            cols["group"] = group
        if strata is not None:
            cols["strata"] = strata
        if missing is not None:
            cols["missing"] = missing
        # columns are keyed (and errors' ``field`` named) by argument; messages add the label
        shown = {"group": f"group ({group_name})", "strata": f"strata ({strata_name})"}
        shown = {k: (k if v == f"{k} ({k})" else v) for k, v in shown.items()}
        arrays: dict[str, np.ndarray] = {}
        for name, values in cols.items():
            arr = values.codes if isinstance(values, Factor) else as_1d(values, name)
            if arr.shape[0] != n:
                raise ValidationError(
                    f"{shown.get(name, name)} has length {arr.shape[0]} but time has length {n}",
                    field=name,
                )
            # one strided read here (a column of a 2-D block) instead of one per later pass
            arrays[name] = np.ascontiguousarray(arr) if arr.dtype.kind in "biuf" else arr
        if n == 0:
            raise ValidationError("time is empty: at least one observation is required", field="time")

        # 2. missing values (masks built only for columns that can and do hold missing values)
        miss_by: dict[str, np.ndarray] = {}
        if np.isnan(t.min()):
            miss_by["time"] = np.isnan(t)
        for name in ("event", "entry", "weights", "group", "strata"):
            if name in cols and not isinstance(cols[name], Factor):
                m = missing_mask(arrays[name])
                if m is not None:
                    miss_by[name] = m
        if missing is not None:
            miss_by["missing"] = np.asarray(arrays["missing"], dtype=bool)
        any_missing = np.zeros(n, dtype=bool)
        for m in miss_by.values():
            any_missing |= m
        if any_missing.any() and na_action == "raise":
            pos = first_bad(any_missing)
            name = next(k for k, m in miss_by.items() if m[pos])
            what = "is flagged missing" if name == "missing" else "has a missing value"
            raise ValidationError(
                f"{shown.get(name, name)} {what} at {row_label(idx, pos)}; "
                "pass na_action='drop' to drop such rows",
                field=name,
                row=pos,
            )
        if miss_by and any_missing.any():
            rows = np.flatnonzero(~any_missing)
            dropped = tuple(int(i) for i in np.flatnonzero(any_missing))
        else:
            rows = np.arange(n, dtype=np.int64)
            dropped = ()
        if rows.shape[0] == 0:
            raise ValidationError(
                f"no rows left after dropping {len(dropped)} rows with missing values", field="time"
            )
        all_kept = rows.shape[0] == n

        def kept(a: np.ndarray) -> np.ndarray:
            return a if all_kept else a[rows]

        def label(pos_in_kept: int) -> str:
            return row_label(idx, int(rows[pos_in_kept]))

        def reject_first(bad: np.ndarray, field: str, rule: str, values: np.ndarray) -> None:
            """Raise naming the first kept row flagged in ``bad`` (a no-op when none is)."""
            if bad.any():
                p = first_bad(bad)
                raise ValidationError(
                    f"{field} must be {rule}; {label(p)} is {show(values[p])}", field=field, row=int(rows[p])
                )

        # 3a. time
        tk = kept(t)
        # fast path: min/max are NaN/inf-aware single passes without temporaries
        if not (np.isfinite(tk.max()) and tk.min() >= 0):
            reject_first(~np.isfinite(tk) | (tk < 0), "time", "finite and >= 0", tk)
        # 3b. event
        ev = arrays["event"]
        allowed = (1, 2) if status_coding == "r" else codes
        evi = event_codes_fast(kept(ev), allowed)
        if evi is None:
            evf = ev.astype(np.float64) if ev.dtype == bool else as_float_array(ev, "event")
            evk = kept(evf)
            bad = ~np.isin(evk, np.asarray(allowed, dtype=np.float64))
            if bad.any():
                p = first_bad(bad)
                hint = (
                    " (R's 1/2 coding needs status_coding='r')"
                    if status_coding == "standard" and evk[p] == 2 and codes == (0, 1)
                    else ""
                )
                raise ValidationError(
                    f"event must be one of {list(allowed)}; {label(p)} is {show(evk[p])}{hint}",
                    field="event",
                    row=int(rows[p]),
                )
            evi = evk.astype(np.int64)
        if status_coding == "r":
            evi = np.where(evi == 2, codes[1], codes[0]).astype(np.int64)
        # 3c. entry
        en: np.ndarray | None = None
        if entry is not None:
            en = kept(as_float_array(arrays["entry"], "entry"))
            reject_first(~np.isfinite(en) | (en < 0), "entry", "finite and >= 0", en)
            bad = en >= tk
            if bad.any():
                p = first_bad(bad)
                raise ValidationError(
                    f"entry must be < time; {label(p)} has entry {show(en[p])} >= time {show(tk[p])}",
                    field="entry",
                    row=int(rows[p]),
                )
        # 3d. weights
        w: np.ndarray | None = None
        if weights is not None:
            w = kept(as_float_array(arrays["weights"], "weights"))
            reject_first(~np.isfinite(w) | (w < 0), "weights", "finite and >= 0", w)
        # 4. factors
        g = s = None
        if group is not None:
            g = _factor(_plain(group, arrays["group"]), group_name, rows, all_kept)
        if strata is not None:
            s = _factor(_plain(strata, arrays["strata"]), strata_name, rows, all_kept)

        return cls(
            time=_frozen(np.array(tk, dtype=np.float64, copy=True)),
            event=_frozen(evi),
            entry=_frozen(None if en is None else np.array(en, dtype=np.float64, copy=True)),
            weights=_frozen(None if w is None else np.array(w, dtype=np.float64, copy=True)),
            group=g,
            strata=s,
            event_codes=codes,
            rows=_frozen(rows.astype(np.int64, copy=False)),
            dropped_rows=dropped,
            index=None if idx is None else idx[rows],
        )


def _plain(values: Any, arr: np.ndarray) -> Any:
    """The validated contiguous array for a plain numeric Series (same levels and codes, without
    re-reading a strided column); the original otherwise (Factor, Categorical, extension dtypes)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, np.dtype) and arr.dtype.kind in "biuf":
        return arr
    return values


def _factor(values: Any, name: str, rows: np.ndarray, all_kept: bool) -> Factor:
    if isinstance(values, Factor):
        return values if all_kept else values.take(rows)
    if all_kept:
        return Factor.from_values(values, name=name)
    if isinstance(values, pd.Series):
        sub = values.iloc[rows]
    else:
        arr = as_1d(values, name)
        sub = arr[rows]
    return Factor.from_values(sub, name=name)


def group_name_of(values: Any, default: str) -> str:
    """The Series name of ``values`` if it has one, else ``default`` (used for R-like labels)."""
    name = getattr(values, "name", None)
    if isinstance(values, Factor):
        return values.name
    if isinstance(name, Hashable) and name is not None and not isinstance(values, np.ndarray):
        return str(name)
    return default
