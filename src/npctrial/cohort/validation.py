"""Validating a raw cohort against its config: every problem listed, then typed values.

Each problem names the row (1-based data row of the file), the column, the value found and
what was expected. :func:`validate_cohort` never stops at the first problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from npctrial.cohort.config import ColumnSpec, StudyConfig
from npctrial.errors import ValidationError

_MAX_LISTED = 200
_GRADE_RANGE = (0, 5)


@dataclass(frozen=True)
class Problem:
    """One invalid cell (or a missing column when ``row`` is None)."""

    row: int | None
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        return f"{where}, column {self.column!r}: got {self.value!r}, expected {self.expected}"


@dataclass(frozen=True)
class ValidationReport:
    """All problems found in a cohort."""

    n_rows: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def invalid_rows(self) -> tuple[int, ...]:
        return tuple(sorted({p.row for p in self.problems if p.row is not None}))

    @property
    def fatal(self) -> bool:
        """A missing column cannot be fixed by dropping rows."""
        return any(p.row is None for p in self.problems)

    def summary(self) -> str:
        if self.ok:
            return f"{self.n_rows} rows, no problems"
        lines = [f"{len(self.problems)} problem(s) in {len(self.invalid_rows)} of {self.n_rows} rows:"]
        lines += [f"  - {p}" for p in self.problems[:_MAX_LISTED]]
        if len(self.problems) > _MAX_LISTED:
            lines.append(f"  ... and {len(self.problems) - _MAX_LISTED} more")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"row": p.row, "column": p.column, "value": p.value, "expected": p.expected} for p in self.problems],
            columns=["row", "column", "value", "expected"],
        )

    def raise_if_invalid(self) -> None:
        if not self.ok:
            raise ValidationError("invalid cohort: " + self.summary(), field="cohort")


def _missing(values: pd.Series) -> np.ndarray:
    s = values.astype("object")
    blank = s.astype(str).str.strip().eq("") & s.map(type).eq(str)
    return (s.isna() | blank).to_numpy(dtype=bool)


def _expected_text(spec: ColumnSpec) -> str:
    if spec.type == "category":
        return f"one of {spec.levels}" if spec.levels else "a category"
    if spec.type == "binary":
        return "0 or 1"
    if spec.type == "date":
        return "a date (YYYY-MM-DD)"
    lo = spec.min if spec.min is not None else (_GRADE_RANGE[0] if spec.type == "grade" else None)
    hi = spec.max if spec.max is not None else (_GRADE_RANGE[1] if spec.type == "grade" else None)
    kind = {"number": "a number", "integer": "an integer", "grade": "an integer grade"}[spec.type]
    rng = ""
    if lo is not None and hi is not None:
        rng = f" in [{lo:g}, {hi:g}]"
    elif lo is not None:
        rng = f" >= {lo:g}"
    elif hi is not None:
        rng = f" <= {hi:g}"
    return kind + rng


def _type_column(raw: pd.Series, spec: ColumnSpec, cutoff: pd.Timestamp | None) -> tuple[pd.Series, np.ndarray]:
    """Typed values and a mask of invalid (non-missing) cells."""
    miss = _missing(raw)
    if spec.type == "category":
        obj = raw.astype("object")
        if pd.api.types.is_float_dtype(raw):
            obj = raw.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else v)
        text = obj.astype(str).str.strip().astype("object").where(~miss, None)
        bad = ~miss & (~text.isin(spec.levels).to_numpy() if spec.levels else False)
        return text.where(~bad, None), np.asarray(bad, dtype=bool)
    if spec.type == "date":
        typed = pd.to_datetime(raw.where(~miss, None), errors="coerce", format="mixed")
        bad = ~miss & typed.isna().to_numpy()
        if cutoff is not None:
            bad |= (typed > cutoff).fillna(False).to_numpy(dtype=bool)
        return typed.where(~bad), bad
    num = pd.to_numeric(raw.where(~miss, None), errors="coerce").astype(float)
    bad = ~miss & num.isna().to_numpy()
    vals = num.to_numpy()
    with np.errstate(invalid="ignore"):
        if spec.type in ("integer", "grade", "binary"):
            bad |= ~miss & ~np.isnan(vals) & (vals != np.round(vals))
        lo, hi = spec.min, spec.max
        if spec.type == "grade":
            lo = _GRADE_RANGE[0] if lo is None else lo
            hi = _GRADE_RANGE[1] if hi is None else hi
        if spec.type == "binary":
            lo, hi = 0, 1
        if lo is not None:
            bad |= ~np.isnan(vals) & (vals < lo)
        if hi is not None:
            bad |= ~np.isnan(vals) & (vals > hi)
    return num.where(~bad), bad


def validate_cohort(raw: pd.DataFrame, config: StudyConfig) -> tuple[pd.DataFrame, ValidationReport]:
    """Check every configured column of ``raw`` and return (typed frame, report).

    The typed frame has one column per configured variable (its key in ``config.columns``):
    categories as text, numbers/grades/binaries as floats, dates as datetime64; invalid cells
    are missing there and listed in the report. Durations defined in ``config.derived``
    whose end date precedes the start are listed too.
    """
    cutoff = pd.Timestamp(config.data_cutoff) if config.data_cutoff else None
    problems: list[Problem] = []
    typed: dict[str, pd.Series] = {}
    for name, spec in config.columns.items():
        if spec.column not in raw.columns:
            problems.append(Problem(None, spec.column, "<missing column>", f"a column {spec.column!r} ({name})"))
            continue
        col = raw[spec.column]
        values, bad = _type_column(col, spec, cutoff)
        expected = _expected_text(spec)
        if spec.type == "date" and cutoff is not None:
            expected += f" not after the data cut-off {cutoff.date()}"
        for i in np.flatnonzero(bad):
            problems.append(Problem(int(i) + 1, spec.column, str(col.iloc[i]), expected))
        if not spec.allow_missing:
            for i in np.flatnonzero(_missing(col)):
                problems.append(Problem(int(i) + 1, spec.column, "", f"a value ({expected}); missing not allowed"))
        typed[name] = values
    frame = pd.DataFrame(typed, index=raw.index)
    if config.id_column and config.id_column in frame:
        ids = frame[config.id_column]
        dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
        id_col = config.columns[config.id_column].column
        for i in np.flatnonzero(dup):
            problems.append(Problem(int(i) + 1, id_col, str(raw[id_col].iloc[i]), "a unique patient identifier"))
    for d in config.derived:
        if d.kind != "duration" or d.start not in frame or not all(e in frame for e in d.end or []):
            continue
        start = frame[d.start]
        end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        for e in d.end or []:
            end = end.fillna(frame[e])
        neg = (end < start).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(neg):
            problems.append(
                Problem(int(i) + 1, ",".join(d.end or []), str(end.iloc[i].date()),
                        f"a date on or after {config.columns[str(d.start)].column} "
                        f"({start.iloc[i].date()}) so that {d.name} >= 0")
            )
    problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.column))
    return frame, ValidationReport(n_rows=len(raw), problems=tuple(problems))
