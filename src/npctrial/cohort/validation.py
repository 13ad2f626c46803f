"""Validating a raw cohort against its config: every problem listed, then typed values.

Each problem names the row as the user sees it (spreadsheet row, header included, for CSV/XLSX;
case number for SPSS/Stata/Parquet), the patient identifier when the config names one, the
column, the value exactly as written in the file and what was expected.
:func:`validate_cohort` never stops at the first problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from npctrial.cohort.config import ColumnSpec, StudyConfig
from npctrial.cohort.cross_checks import (
    check_durations,
    check_event_dates,
    check_intervals,
    check_unique_patients,
)
from npctrial.cohort.dates import parse_date_column
from npctrial.cohort.loading import MISSING_TOKENS, RawCohort, from_frame
from npctrial.errors import ValidationError

_MAX_LISTED = 200
_GRADE_RANGE = (0, 5)


@dataclass(frozen=True)
class Problem:
    """One invalid cell, or a whole-column problem (a missing column, ambiguous dates) when
    ``row`` is None. ``index`` is the 0-based position of the data row."""

    row: int | None
    column: str
    value: str
    expected: str
    patient: str | None = None
    index: int | None = None
    row_word: str = "row"

    def __str__(self) -> str:
        if self.row is None:
            return f"column {self.column!r}: {self.expected}"
        where = f"{self.row_word} {self.row}" + (f" (patient {self.patient})" if self.patient else "")
        if self.value == "":
            return f"{where}, column {self.column!r}: {self.expected}"
        return f"{where}, column {self.column!r}: got {self.value!r}, expected {self.expected}"


@dataclass(frozen=True)
class ValidationReport:
    """All problems found in a cohort, and how the cells were read (``notes``)."""

    n_rows: int
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def invalid_rows(self) -> tuple[int, ...]:
        """Row numbers (as shown to the user) with at least one problem."""
        return tuple(sorted({p.row for p in self.problems if p.row is not None}))

    @property
    def invalid_positions(self) -> tuple[int, ...]:
        """0-based data-row positions with at least one problem."""
        return tuple(sorted({p.index for p in self.problems if p.index is not None}))

    @property
    def fatal(self) -> bool:
        """A whole-column problem (missing column, ambiguous dates) cannot be fixed by dropping rows."""
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
            [{"row": p.row, "patient": p.patient or "", "column": p.column, "value": p.value, "expected": p.expected}
             for p in self.problems],
            columns=["row", "patient", "column", "value", "expected"],
        )

    def raise_if_invalid(self) -> None:
        if not self.ok:
            raise ValidationError("invalid cohort: " + self.summary(), field="cohort")


def display_value(value: object) -> str:
    """A cell as the user wrote it: text unchanged, 3.0 as '3', dates as YYYY-MM-DD."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat(sep=" ")
    return str(value)


def missing_mask(values: pd.Series, tokens: Sequence[str] = MISSING_TOKENS) -> np.ndarray:
    """True for empty cells, NaN/None/NaT and the text tokens read as missing (``NA``, ``.`` ...)."""
    s = values.astype("object")
    if pd.api.types.infer_dtype(s, skipna=True) == "string":  # text cells (CSV): vectorised
        return (s.isna() | s.str.strip().isin(list(tokens))).to_numpy(dtype=bool)
    text = s.map(lambda v: v.strip() if isinstance(v, str) else None)
    return (s.isna() | text.isin(list(tokens))).to_numpy(dtype=bool)


def _expected_text(spec: ColumnSpec) -> str:
    if spec.type == "category":
        return f"one of {spec.levels}" if spec.levels else "a category"
    if spec.type == "binary":
        return "0 or 1"
    if spec.type == "date":
        return "a date"
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


def _type_category(raw: pd.Series, spec: ColumnSpec, miss: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.infer_dtype(raw, skipna=True) == "string":
        text = raw.str.strip().astype("object").where(~miss, None)
    else:
        text = raw.map(lambda v: display_value(v).strip()).astype("object").where(~miss, None)
    bad = ~miss & (~text.isin(spec.levels).to_numpy() if spec.levels else False)
    return text.where(~bad, None), np.asarray(bad, dtype=bool)


def _type_number(raw: pd.Series, spec: ColumnSpec, miss: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    cells = raw.where(~miss, None).map(lambda v: v.strip() if isinstance(v, str) else v)
    num = pd.to_numeric(cells, errors="coerce").astype(float)
    vals = num.to_numpy()
    bad = ~miss & np.isnan(vals)
    with np.errstate(invalid="ignore"):
        if spec.type in ("integer", "grade", "binary"):
            bad |= ~miss & ~np.isnan(vals) & (vals != np.round(vals))
        lo, hi = spec.min, spec.max
        if spec.type == "grade":
            lo = _GRADE_RANGE[0] if lo is None else lo
            hi = _GRADE_RANGE[1] if hi is None else hi
        if spec.type == "binary":
            lo, hi = 0, 1
        bad |= np.isinf(vals)
        if lo is not None:
            bad |= ~np.isnan(vals) & (vals < lo)
        if hi is not None:
            bad |= ~np.isnan(vals) & (vals > hi)
    return num.where(~bad), bad


class _Collector:
    """Problems of one file, each located by row number and patient."""

    def __init__(self, raw: RawCohort, patients: pd.Series | None):
        self.raw = raw
        self.patients = patients
        self.problems: list[Problem] = []

    def cell(self, i: int | np.integer, column: str, value: object, expected: str) -> None:
        patient = None
        if self.patients is not None:
            patient = display_value(self.patients.iloc[i]).strip() or None
        self.problems.append(Problem(int(self.raw.rows[i]), column, display_value(value), expected, patient, int(i),
                                     self.raw.row_word))

    def file(self, column: str, value: str, expected: str) -> None:
        self.problems.append(Problem(None, column, value, expected, row_word=self.raw.row_word))


def _type_column(raw: RawCohort, name: str, spec: ColumnSpec, config: StudyConfig, out: _Collector,
                 notes: list[str]) -> pd.Series:
    col = raw.frame[spec.column]
    miss = missing_mask(col, config.missing_values if config.missing_values is not None else MISSING_TOKENS)
    expected = _expected_text(spec)
    if spec.type == "date":
        where = raw.row_word + " " + pd.Series(raw.rows, index=col.index).astype(str)
        declared = "declared for the column" if (spec.date_format or spec.dayfirst is not None) else "declared for the file"
        parsed = parse_date_column(col, miss, where, column=spec.column, date_format=spec.date_format or config.date_format,
                                   dayfirst=spec.dayfirst if spec.dayfirst is not None else config.dayfirst,
                                   declared_by=declared)
        if parsed.ambiguity:
            out.file(spec.column, "", parsed.ambiguity)
        if parsed.rule:
            notes.append("dates " + parsed.rule)
        values, bad = parsed.values, parsed.invalid
        fmt = spec.date_format or config.date_format
        for i in np.flatnonzero(bad):
            out.cell(i, spec.column, col.iloc[i], "a date" + (f" written {fmt}" if fmt else ""))
        if config.data_cutoff is not None:
            cutoff = pd.Timestamp(config.data_cutoff)
            late = (values > cutoff).fillna(False).to_numpy(dtype=bool)
            for i in np.flatnonzero(late):
                out.cell(i, spec.column, col.iloc[i], f"a date not after the data cut-off {cutoff.date()}")
            bad = bad | late
        values = values.where(~bad)
    else:
        typer = _type_category if spec.type == "category" else _type_number
        values, bad = typer(col, spec, miss)
        for i in np.flatnonzero(bad):
            out.cell(i, spec.column, col.iloc[i], expected)
    if not spec.allow_missing:
        for i in np.flatnonzero(miss):
            shown = display_value(col.iloc[i])
            out.cell(i, spec.column, col.iloc[i],
                     f"a value ({expected}); missing not allowed" + ("" if shown.strip() else ", the cell is empty"))
    return values


def validate_cohort(raw: RawCohort | pd.DataFrame, config: StudyConfig) -> tuple[pd.DataFrame, ValidationReport]:
    """Check every configured column of ``raw`` and return (typed frame, report).

    The typed frame has one column per configured variable (its key in ``config.columns``):
    categories as text, numbers/grades/binaries as floats, dates as datetime64; invalid cells
    are missing there and listed in the report. Its index is the row number the user sees
    (named ``row`` or ``case``), so later steps name rows the same way. A plain DataFrame is
    numbered as a CSV file (header on row 1). The checks across fields and rows of
    :mod:`npctrial.cohort.cross_checks` add their problems.
    """
    if isinstance(raw, pd.DataFrame):
        raw = from_frame(raw)
    id_spec = config.columns.get(config.id_column) if config.id_column else None
    patients = raw.frame[id_spec.column] if id_spec is not None and id_spec.column in raw.frame else None
    out = _Collector(raw, patients)
    notes: list[str] = list(raw.notes)
    typed: dict[str, pd.Series] = {}
    for name, spec in config.columns.items():
        if spec.column not in raw.frame.columns:
            out.file(spec.column, "", f"missing column (variable {name!r}); the file's columns are "
                     + ", ".join(map(str, raw.frame.columns[:30])))
            continue
        typed[name] = _type_column(raw, name, spec, config, out, notes)
    frame = pd.DataFrame(typed, index=raw.frame.index)
    frame.index = pd.Index(raw.rows, name=raw.row_word)
    for check in (check_unique_patients, check_durations, check_event_dates, check_intervals):
        check(frame, config, out)
    problems = sorted(out.problems, key=lambda p: (-1 if p.row is None else p.row, p.column))
    return frame, ValidationReport(n_rows=len(raw), problems=tuple(problems), notes=tuple(notes))
