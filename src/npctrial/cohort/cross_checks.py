"""Checks across the fields of a row, and across the rows of a patient.

* Durations: an end date before its start date would give a negative time.
* Event flags with a ``date`` (e.g. ``metastasis: {type: binary, date: metastasis_date}``): a
  flag of 1 needs its date, a flag of 0 must not have one.
* Several rows per patient (``id_column``): with ``rows_per_patient: one`` (the default) a
  repeated identifier is a problem; ``first`` / ``last`` keep one row per patient (in file order,
  or ordered by ``order_rows_by``) and list the others as not analysed, with the rule;
  ``intervals`` keeps counting-process rows, each with its start before its stop and the
  intervals of a patient not overlapping.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from npctrial.cohort.config import StudyConfig


class _Sink(Protocol):
    raw: Any

    def cell(self, i: int | np.integer, column: str, value: object, expected: str) -> None: ...


def _raw(out: _Sink, column: str) -> pd.Series:
    return out.raw.frame[column]  # type: ignore[attr-defined]


def check_durations(frame: pd.DataFrame, config: StudyConfig, out: _Sink) -> None:
    """An end date before its start date would give a negative duration: a problem on that row."""
    for d in config.derived:
        if d.kind != "duration" or d.start not in frame or not all(e in frame for e in d.end or []):
            continue
        start = frame[d.start]
        end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        source = pd.Series("", index=frame.index, dtype=object)
        for e in d.end or []:
            take = end.isna() & frame[e].notna()
            source[take] = e
            end = end.fillna(frame[e])
        neg = (end < start).fillna(False).to_numpy(dtype=bool)
        start_col = config.columns[str(d.start)].column
        for i in np.flatnonzero(neg):
            col = config.columns[source.iloc[i]].column
            out.cell(i, col, _raw(out, col).iloc[i], f"a date on or after {start_col} "
                     f"({_raw(out, start_col).iloc[i]!r}) so that {d.name} >= 0")


def check_event_dates(frame: pd.DataFrame, config: StudyConfig, out: _Sink) -> None:
    """A flag of 1 without its event date, or a date with a flag of 0, is a problem on that row."""
    for name, spec in config.columns.items():
        if spec.date is None or name not in frame or spec.date not in frame:
            continue
        flag, date = frame[name], frame[spec.date]
        date_col = config.columns[spec.date].column
        for i in np.flatnonzero(((flag == 1) & date.isna()).to_numpy()):
            out.cell(i, date_col, _raw(out, date_col).iloc[i],
                     f"the date of the event, since {spec.column} is 1 on this row")
        for i in np.flatnonzero(((flag == 0) & date.notna()).to_numpy()):
            out.cell(i, spec.column, _raw(out, spec.column).iloc[i],
                     f"1, since {date_col} gives the event a date ({_raw(out, date_col).iloc[i]!r}); or no date")


def check_unique_patients(frame: pd.DataFrame, config: StudyConfig, out: _Sink) -> None:
    """With ``rows_per_patient: one`` each identifier appears once."""
    if config.rows_per_patient != "one" or not config.id_column or config.id_column not in frame:
        return
    ids = frame[config.id_column]
    dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
    id_col = config.columns[config.id_column].column
    raw = out.raw
    for i in np.flatnonzero(dup):
        first = int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0])
        out.cell(i, id_col, _raw(out, id_col).iloc[i],
                 f"a unique patient identifier (already on {raw.where(first)}); with several rows per patient "  # type: ignore[attr-defined]
                 "declare rows_per_patient: first, last or intervals")


def check_intervals(frame: pd.DataFrame, config: StudyConfig, out: _Sink) -> None:
    """Counting-process rows: start < stop on each row, no overlap between a patient's rows."""
    if config.rows_per_patient != "intervals" or not config.id_column:
        return
    pairs = {(s.entry, s.time) for s in config.survival if s.entry}
    pairs |= {(x.entry, x.time) for x in config.cox_models if x.entry}
    ids = frame[config.id_column]
    for entry, stop in pairs:
        if entry not in frame or stop not in frame:
            continue
        a, b = frame[entry].to_numpy(dtype=float), frame[stop].to_numpy(dtype=float)
        col = config.columns[entry].column if entry in config.columns else entry
        for i in np.flatnonzero(a >= b):
            out.cell(i, col, _raw(out, col).iloc[i] if col in out.raw.frame else a[i],  # type: ignore[attr-defined]
                     f"a start before the stop of the interval ({b[i]:g})")
        order = np.lexsort((a, ids.astype(str).to_numpy()))
        same = ids.to_numpy()[order][1:] == ids.to_numpy()[order][:-1]
        overlap = same & (a[order][1:] < b[order][:-1])
        for k in np.flatnonzero(overlap):
            i = order[k + 1]
            out.cell(i, col, _raw(out, col).iloc[i] if col in out.raw.frame else a[i],  # type: ignore[attr-defined]
                     f"a start not before the end of the patient's previous interval ({b[order[k]]:g})")


def select_patient_rows(frame: pd.DataFrame, config: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """Apply ``rows_per_patient`` first/last: (kept rows, rows not analysed with why, the rule stated)."""
    rule = config.rows_per_patient
    if rule not in ("first", "last") or not config.id_column:
        return frame, pd.DataFrame(columns=["row", "patient", "column", "value", "expected"]), None
    ordered = frame
    if config.order_rows_by:
        ordered = frame.sort_values(config.order_rows_by, kind="stable", na_position="last")
    ids = ordered[config.id_column]
    keep_idx = ordered.index[~(ids.duplicated(keep=rule) & ids.notna()).to_numpy()]
    kept = frame.loc[frame.index.isin(keep_idx)]
    dropped = frame.loc[~frame.index.isin(keep_idx)]
    order = f"ordered by {config.order_rows_by}" if config.order_rows_by else "in file order"
    id_col = config.columns[config.id_column].column
    excluded = pd.DataFrame({
        "row": dropped.index.astype(int), "patient": dropped[config.id_column].astype(str).to_numpy(), "column": id_col,
        "value": dropped[config.id_column].astype(str).to_numpy(),
        "expected": f"not analysed: rows_per_patient {rule} keeps the {rule} row of each patient ({order})"})
    note = (f"several rows per patient: {len(frame)} rows for {ids.nunique()} patients; the {rule} row of each "
            f"patient ({order}) is analysed, {len(dropped)} other row(s) are listed as not analysed")
    return kept, excluded, note
