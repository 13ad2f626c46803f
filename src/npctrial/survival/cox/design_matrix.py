"""Design matrix for the Cox model: a DataFrame in, a validated :class:`CoxDesign` out.

Follows R's ``model.frame`` / ``model.matrix`` conventions as used by ``survival::coxph``:

1. Rows with a missing value in any column the model uses (duration, event, covariates, strata,
   cluster, weights, entry, offset) are dropped, as ``na.omit`` does; the count and the columns
   responsible are reported.
2. Numeric covariates enter as they are. Categorical covariates (listed in ``categorical`` or of
   non-numeric dtype) use treatment contrasts: the levels are the pandas categories in their order
   when the column is a ``Categorical`` (R factor levels), otherwise the sorted distinct values;
   the first level (or ``reference[column]``) is the reference and each other level becomes an
   indicator column named ``<column><level>`` as R names them.
3. The status follows R's ``Surv()``: 0/1 (or False/True), or 1/2 (1 = censored, 2 = event) when
   every value is 1 or 2; ``event_codes=(censored, event)`` states any other coding explicitly.
4. Constant and collinear (aliased) covariate columns are found by :func:`find_aliased` (taken
   in column order, as R's pivoting Cholesky does); :func:`~npctrial.survival.cox.fit.fit_design`
   gives them an NA coefficient with a warning naming them and fits the rest, as R's
   ``coxph(singular.ok = TRUE)``. :meth:`CoxDesign.without` is the design without them.
5. Follow-up times must be >= 0 (time 0 is accepted for right-censored data, as R's coxph);
   (entry, stop] rows need entry < stop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.survival.cox.products import centred_cross

__all__ = ["CoxDesign", "build_design", "event_indicator", "find_aliased", "newdata_matrix"]


@dataclass(frozen=True)
class CoxDesign:
    """Validated, NA-free inputs of a Cox fit (rows in data order after dropping)."""

    x: np.ndarray  # (n, p) covariate columns, original scale (row-major)
    names: tuple[str, ...]  # coefficient names
    terms: dict[str, tuple[int, ...]]  # term -> columns of x (a factor has several)
    time: np.ndarray  # stop time
    status: np.ndarray  # 0/1 int
    entry: np.ndarray | None
    weights: np.ndarray | None
    offset: np.ndarray | None
    strata: np.ndarray | None  # int codes 0..k-1
    strata_levels: tuple[Any, ...]
    cluster: np.ndarray | None  # int codes
    rows: np.ndarray  # positions in the input frame that were kept
    index: pd.Index  # input index labels of the kept rows
    n_dropped: int
    dropped_by_column: dict[str, int] = field(default_factory=dict)
    xlevels: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    covariates: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    strata_columns: tuple[str, ...] = ()
    #: positions (in the full column set of ``covariates``) of the columns of ``x`` when aliased
    #: columns were removed by :meth:`without`; None when ``x`` has every column
    kept_columns: tuple[int, ...] | None = None

    def without(self, columns: Sequence[int]) -> CoxDesign:
        """This design without the columns ``columns`` of ``x`` (aliased terms: R's NA coefficients)."""
        drop = set(columns)
        keep = [j for j in range(self.x.shape[1]) if j not in drop]
        new_pos = {old: new for new, old in enumerate(keep)}
        terms = {t: tuple(new_pos[j] for j in cols if j in new_pos) for t, cols in self.terms.items()}
        full = self.kept_columns or tuple(range(self.x.shape[1]))
        return replace(self, x=np.ascontiguousarray(self.x[:, keep]), names=tuple(self.names[j] for j in keep),
                       terms={t: c for t, c in terms.items() if c}, kept_columns=tuple(full[j] for j in keep))

    @property
    def n(self) -> int:
        return int(self.time.shape[0])

    @property
    def n_events(self) -> int:
        return int(self.status.sum())


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if not isinstance(name, str):
        raise ValidationError(f"{role} must be a column name, got {name!r}", field=role)
    if name not in data.columns:
        raise ValidationError(f"{role}: column {name!r} not found in data", field=role)
    return data[name]


def _levels_of(series: pd.Series, name: str, reference: Any) -> tuple[Any, ...]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        levels = [c for c in series.cat.categories if c in present]
    else:
        values = series.dropna().unique()
        try:
            levels = sorted(values)
        except TypeError:
            levels = sorted(values, key=str)
    if len(levels) < 2:
        raise ValidationError(
            f"categorical covariate {name!r} has fewer than 2 levels ({levels!r}); it cannot be estimated",
            field=name,
        )
    if reference is not None:
        if reference not in levels:
            raise ValidationError(
                f"reference level {reference!r} of {name!r} is not among its levels {levels!r}", field=name
            )
        levels = [reference] + [lv for lv in levels if lv != reference]
    return tuple(levels)


def event_indicator(series: pd.Series, name: str, event_codes: tuple[Any, Any] | None = None) -> np.ndarray:
    """0/1 event indicator of a status column (R Surv rules: 0/1, False/True, or 1/2 = censored/event;
    ``event_codes=(censored, event)`` for any other coding); a ValidationError names a bad row."""
    values = series.to_numpy()
    if event_codes is not None:
        if len(event_codes) != 2:
            raise ValidationError("event_codes must be (censored_code, event_code)", field="event_codes")
        censored, event = event_codes
        bad = ~(np.isin(values, [censored]) | np.isin(values, [event]))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(
                f"{name} must be {censored!r} (censored) or {event!r} (event), got {values[i]!r} at row {i}",
                field=name,
                row=i,
            )
        return np.isin(values, [event]).astype(np.int64)
    if values.dtype == bool:
        return values.astype(np.int64)
    try:
        numeric = values.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric 0/1 or 1/2 status codes", field=name) from exc
    is1 = numeric == 1.0
    if np.all(is1 | (numeric == 0.0)):
        return is1.astype(np.int64)
    is2 = numeric == 2.0
    if np.all(is1 | is2):
        # R Surv(): a status coded 1/2 means 1 = censored, 2 = event.
        return is2.astype(np.int64)
    bad = ~np.isin(numeric, [0.0, 1.0])
    i = int(np.flatnonzero(bad)[0])
    raise ValidationError(
        f"{name} must be 0/1 (or 1/2 as R's Surv) status codes, got {values[i]!r} at row {i}; "
        "use event_codes=(censored, event) for another coding",
        field=name,
        row=i,
    )


def level_label(level: Any) -> str:
    """A level as R prints it in a coefficient name (1.0 -> "1")."""
    if isinstance(level, float | np.floating) and float(level).is_integer():
        return str(int(level))
    return str(level)


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    try:
        return series.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"column {name!r} must be numeric", field=name) from exc


def _codes(series: pd.Series) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Integer codes 0..k-1 and the levels (Categorical order, else sorted values)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = np.unique(series.cat.codes.to_numpy())
        levels = tuple(series.cat.categories[present])
        return np.searchsorted(present, series.cat.codes.to_numpy()).astype(np.int64), levels
    try:  # hashing, then sorting only the distinct values
        codes, uniq = pd.factorize(series, sort=True)
    except TypeError:
        codes, uniq = pd.factorize(series.astype(str), sort=True)
    return np.asarray(codes, dtype=np.int64), tuple(np.asarray(uniq).tolist())


def find_aliased(x: np.ndarray, names: Sequence[str], weights: np.ndarray | None = None,
                 *, centred: bool = False) -> list[int]:
    """Positions of the constant or collinear (aliased) columns of ``x``.

    Steps: 1. a column with zero (weighted) variance is constant; 2. on the correlation matrix of
    the others (p x p, one pass over the data) take the columns in order and call a column
    collinear when 1 - R^2 of its regression on the columns kept so far is below 1e-10 (the
    pivot rule of R's ``cholesky2``, applied once to the design instead of at each iteration).
    ``centred`` says ``x`` is already (nearly) centred, so it is used in place.
    """
    p = x.shape[1]
    if p == 0:
        return []
    w = np.ones(x.shape[0]) if weights is None else weights
    wsum = float(w.sum())
    mean = (x.sum(axis=0) if weights is None else w @ x) / wsum
    if centred:  # correct the raw second moments with the means: no n x p temporary
        second = x.T @ x if weights is None else (x * w[:, None]).T @ x
        cov = second - wsum * np.outer(mean, mean)
        raw = np.diag(second)
    else:
        cov = centred_cross(x, mean, None if weights is None else w)
        raw = np.diag(cov) + wsum * mean**2
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    aliased = [j for j in range(p) if not sd[j] > 1e-7 * np.sqrt(max(raw[j], 1e-300))]
    corr = cov / np.outer(np.where(sd > 0, sd, 1.0), np.where(sd > 0, sd, 1.0))
    kept: list[int] = []
    for j in range(p):
        if j in aliased:
            continue
        if kept:
            r = corr[np.ix_(kept, kept)]
            c = corr[kept, j]
            if 1.0 - float(c @ np.linalg.lstsq(r, c, rcond=None)[0]) < 1e-10:
                aliased.append(j)
                continue
        kept.append(j)
    return sorted(aliased)


def check_collinearity(x: np.ndarray, names: Sequence[str], weights: np.ndarray | None = None,
                       *, centred: bool = False) -> None:
    """Raise a ValidationError naming the constant or collinear columns of ``x`` (see
    :func:`find_aliased`), for callers that cannot fit around them."""
    aliased = find_aliased(x, names, weights, centred=centred)
    if aliased:
        which = ", ".join(names[j] for j in aliased)
        raise ValidationError(f"covariate(s) {which} are constant or collinear with the other covariates "
                              "(X matrix is singular); drop or recode them", field=names[aliased[0]])


def _plain_numeric(series: pd.Series) -> bool:
    """A numpy int/float column (not bool, not a pandas extension dtype)."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf"


_ROWS = 4096  # rows per block when the numeric covariates are copied


def _row_major_view(cols: list[np.ndarray]) -> np.ndarray | None:
    """The (n, k) row-major float64 array the columns already are views of, read-only (a frame made
    from one 2-D array keeps that array as its block: column j is row-major column j); None otherwise.

    Each element of the view is an element of one of the columns (same base, consecutive columns 8
    bytes apart, a row 8k bytes), so the view reads only memory the columns own."""
    first, k = cols[0], len(cols)
    size = first.itemsize
    base = first.base
    if k < 2 or base is None or first.dtype != np.float64:
        return None
    for j, col in enumerate(cols):
        if col.base is not base or col.strides != (size * k,) or col.ctypes.data != first.ctypes.data + j * size:
            return None
    return np.lib.stride_tricks.as_strided(first, shape=(first.shape[0], k), strides=(size * k, size),
                                           writeable=False)


def _numeric_block(data: pd.DataFrame, columns: list[str]
                   ) -> tuple[np.ndarray | None, np.ndarray | None, bool]:
    """The plain numeric covariates at once: their (n, k) float64 matrix in row-major order, the
    mask of its missing values (None when there is none) and whether all its values are finite.

    Columns that are already the rows of one row-major array (a frame made from a 2-D array) are
    used in place, read-only. Other columns are copied by blocks of rows, so a column that is a
    strided view of a 2-D frame block is read from cache (a pass per column would re-read the
    whole block each time), and the block's min and max (NaN-propagating) are taken while it is in cache."""
    if not columns or len(data) == 0:
        return None, None, True
    cols = [data[c].to_numpy(dtype=np.float64) for c in columns]
    block = _row_major_view(cols)
    if block is not None:  # a frame built from one 2-D array: its own rows, read in place
        return _with_missing(block, block.min(), block.max())
    n = len(data)
    block = np.empty((n, len(cols)))
    lo, hi = np.inf, -np.inf
    for a in range(0, n, _ROWS):
        part = block[a:a + _ROWS]
        for j, col in enumerate(cols):
            part[:, j] = col[a:a + _ROWS]
        lo, hi = np.minimum(lo, part.min()), np.maximum(hi, part.max())
    return _with_missing(block, lo, hi)


def _with_missing(block: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(block, its missing-value mask or None, all finite) from its NaN-propagating min and max."""
    if np.isnan(lo) or np.isnan(hi):
        return block, np.isnan(block), False
    return block, None, bool(np.isfinite(lo) and np.isfinite(hi))


def _missing_masks(data: pd.DataFrame, used: list[str], fast: dict[str, int],
                   block_nan: np.ndarray | None) -> dict[str, np.ndarray]:
    """Missing-value mask of every used column that has a missing value (columns of the numeric
    block take theirs from the block's mask)."""
    masks = {}
    for c in used:
        m = (None if block_nan is None else block_nan[:, fast[c]]) if c in fast else data[c].isna().to_numpy()
        if m is not None and m.any():
            masks[c] = m
    return masks


def _assemble(cols: list[np.ndarray | int], block: np.ndarray | None, n: int) -> np.ndarray:
    """The (n, p) design in row-major order (rows are gathered whole when sorted by time): the
    numeric block itself when it is the whole design, else the block's and the other columns."""
    if block is not None and cols == list(range(block.shape[1])):
        return block
    x = np.empty((n, len(cols)))
    for j, col in enumerate(cols):
        x[:, j] = block[:, col] if isinstance(col, int) and block is not None else col
    return x


def build_design(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    entry: str | None = None,
    offset: str | None = None,
    event_codes: tuple[Any, Any] | None = None,
    check: bool = True,
) -> CoxDesign:
    """Validate ``data`` and build the Cox design (steps in the module docstring)."""
    if not isinstance(data, pd.DataFrame):
        raise ValidationError(f"data must be a pandas DataFrame, got {type(data).__name__}", field="data")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if len(set(covariates)) != len(covariates):
        raise ValidationError("covariates contains a repeated name", field="covariates")
    categorical = list(categorical)
    for c in categorical:
        if c not in covariates:
            raise ValidationError(f"categorical column {c!r} is not among the covariates", field="categorical")
    reference = dict(reference or {})
    for c in reference:
        if c not in covariates:
            raise ValidationError(f"reference given for {c!r}, which is not a covariate", field="reference")
    strata_cols = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))

    roles: list[tuple[str, str]] = [(duration, "duration"), (event, "event")]
    roles += [(c, "covariates") for c in covariates]
    roles += [(s, "strata") for s in strata_cols]
    for col, role in ((cluster, "cluster"), (weights, "weights"), (entry, "entry"), (offset, "offset")):
        if col is not None:
            roles.append((col, role))
    used = list(dict.fromkeys(col for col, _ in roles))
    for col, role in roles:
        _column(data, col, role)

    fast = {c: k for k, c in enumerate(c for c in covariates if c not in categorical and _plain_numeric(data[c]))}
    block, block_nan, block_finite = _numeric_block(data, list(fast))
    missing = _missing_masks(data, used, fast, block_nan)
    keep = ~np.logical_or.reduce(list(missing.values())) if missing else np.ones(len(data), dtype=bool)
    dropped_by_column = {c: int(m.sum()) for c, m in missing.items()}
    rows = np.flatnonzero(keep)
    frame = data if keep.all() else data.iloc[rows]
    if frame.shape[0] == 0:
        raise ValidationError("no complete rows left after removing missing values", field="data")
    if block is not None and not keep.all():
        block = block[rows]
        block_finite = bool(np.isfinite(block.min()) and np.isfinite(block.max()))

    time = _numeric(frame[duration], duration)
    if not np.all(np.isfinite(time)):
        raise ValidationError(f"{duration} must be finite", field=duration)
    status = event_indicator(frame[event], event, event_codes)
    entry_a = None
    if entry is not None:
        entry_a = _numeric(frame[entry], entry)
        bad = ~(entry_a < time)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(
                f"{entry} must be < {duration} (counting process (entry, stop]), got {entry_a[i]} >= {time[i]} "
                f"at row {frame.index[i]!r}",
                field=entry,
                row=int(rows[i]),
            )
    elif np.any(time < 0):
        i = int(np.flatnonzero(time < 0)[0])
        raise ValidationError(
            f"{duration} must be >= 0, got {time[i]} at row {frame.index[i]!r}", field=duration, row=int(rows[i])
        )
    weights_a = None
    if weights is not None:
        weights_a = _numeric(frame[weights], weights)
        if np.any(~(weights_a > 0)) or not np.all(np.isfinite(weights_a)):
            i = int(np.flatnonzero(~(weights_a > 0) | ~np.isfinite(weights_a))[0])
            raise ValidationError(f"{weights} must be > 0 and finite, got {weights_a[i]} at row {frame.index[i]!r}",
                                  field=weights, row=int(rows[i]))
    offset_a = _numeric(frame[offset], offset) if offset is not None else None

    cols: list[np.ndarray | int] = []  # a column, or the position of one in ``block``
    names: list[str] = []
    terms: dict[str, tuple[int, ...]] = {}
    xlevels: dict[str, tuple[Any, ...]] = {}
    cat_used: list[str] = []
    for c in covariates:
        series = frame[c]
        is_cat = c in categorical or not (
            pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        )
        if is_cat:
            levels = _levels_of(series, c, reference.get(c))
            xlevels[c] = levels
            cat_used.append(c)
            start = len(cols)
            values = series.to_numpy()
            for lv in levels[1:]:
                cols.append((values == lv).astype(float))
                names.append(f"{c}{level_label(lv)}")
            terms[c] = tuple(range(start, len(cols)))
        else:
            v = block[:, fast[c]] if c in fast and block is not None else _numeric(series, c)
            if not block_finite or c not in fast:
                if not np.all(np.isfinite(v)):
                    raise ValidationError(f"covariate {c!r} has non-finite values", field=c)
            terms[c] = (len(cols),)
            cols.append(fast[c] if c in fast else v)
            names.append(c)
    x = _assemble(cols, block, len(rows))

    strata_codes = None
    strata_levels: tuple[Any, ...] = ()
    if strata_cols:
        if len(strata_cols) == 1:
            strata_codes, strata_levels = _codes(frame[strata_cols[0]])
        else:
            combo = frame[strata_cols].astype(str).agg(", ".join, axis=1)
            strata_codes, strata_levels = _codes(combo)
    cluster_codes = _codes(frame[cluster])[0] if cluster is not None else None

    if check:
        check_collinearity(x, names, weights_a)
    return CoxDesign(
        x=x,
        names=tuple(names),
        terms=terms,
        time=time,
        status=status,
        entry=entry_a,
        weights=weights_a,
        offset=offset_a,
        strata=strata_codes,
        strata_levels=strata_levels,
        cluster=cluster_codes,
        rows=rows,
        index=frame.index,
        n_dropped=int((~keep).sum()),
        dropped_by_column=dropped_by_column,
        xlevels=xlevels,
        covariates=tuple(covariates),
        categorical=tuple(cat_used),
        strata_columns=tuple(strata_cols),
    )


def newdata_matrix(design: CoxDesign, newdata: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """The covariate columns of ``design`` for the rows of ``newdata`` (levels and strata checked):
    (matrix, stratum index per row or None)."""
    d = design
    if not isinstance(newdata, pd.DataFrame):
        raise ValidationError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}", field="newdata")
    cols = []
    for c in d.covariates:
        if c not in newdata.columns:
            raise ValidationError(f"newdata lacks covariate column {c!r}", field="newdata")
        v = newdata[c]
        if v.isna().any():
            raise ValidationError(f"newdata column {c!r} has missing values", field=c)
        if c in d.xlevels:
            levels = d.xlevels[c]
            bad = ~v.isin(levels)
            if bad.any():
                raise ValidationError(f"newdata {c!r} has level {v[bad].iloc[0]!r} not in {levels!r}", field=c)
            for lv in levels[1:]:
                cols.append((v.to_numpy() == lv).astype(float))
        else:
            cols.append(v.to_numpy(dtype=float))
    x2 = np.column_stack(cols)
    if d.kept_columns is not None:  # aliased columns are not in the fit
        x2 = x2[:, list(d.kept_columns)]
    strata_idx = None
    if d.strata is not None:
        missing = [c for c in d.strata_columns if c not in newdata.columns]
        if missing:
            raise ValidationError(f"newdata lacks strata column(s) {missing} of the stratified model",
                                  field="newdata")
        if len(d.strata_columns) == 1:
            values = list(newdata[d.strata_columns[0]])
        else:
            values = list(newdata[list(d.strata_columns)].astype(str).agg(", ".join, axis=1))
        lookup = {lv: i for i, lv in enumerate(d.strata_levels)}
        bad = [v for v in values if v not in lookup]
        if bad:
            raise ValidationError(f"newdata stratum {bad[0]!r} is not among {list(d.strata_levels)}",
                                  field=d.strata_columns[0])
        strata_idx = np.array([lookup[v] for v in values], dtype=np.int64)
    return x2, strata_idx
