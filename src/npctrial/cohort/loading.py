"""Reading cohort files as they are: CSV/TSV, XLSX, Parquet, SPSS ``.sav`` and Stata ``.dta``.

Values are kept raw (CSV cells as the exact text; XLSX cells as stored: text, number or date)
so that validation can type them once and quote them exactly in error messages, and every data
row keeps the number a user sees: the spreadsheet row for CSV/XLSX (the header is a row), the
case number for SPSS/Stata/Parquet.

XLSX: the first visible worksheet that holds a table (or ``sheet``; sheets passed over are named
in the notes); the header is the first row that fills the
widest run of text cells among the first 30 rows (title rows above it are skipped and named in
the notes) unless ``header_row`` is given; formulas are read from the values Excel saved with
the file, and a formula without a saved value is an error naming its cell.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".sav", ".dta")
#: Cell texts read as missing in text files (R's NA, SPSS's system-missing dot, empty cells).
MISSING_TOKENS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", ".")
_HEADER_SCAN = 30


@dataclass(frozen=True)
class RawCohort:
    """The cells of a cohort file with the row number of each data row as the user sees it."""

    frame: pd.DataFrame
    rows: np.ndarray  # spreadsheet row (CSV/XLSX) or case number of each data row
    name: str
    row_word: str = "row"  # "row" in spreadsheets, "case" in SPSS/Stata/Parquet files
    notes: tuple[str, ...] = ()
    value_labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    def where(self, i: int) -> str:
        """'row 7' / 'case 7' for the ``i``-th data row (0-based position)."""
        return f"{self.row_word} {int(self.rows[i])}"


def from_frame(frame: pd.DataFrame, name: str = "cohort") -> RawCohort:
    """Wrap an in-memory frame as if read from a CSV file with a header row (data from row 2)."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawCohort(frame, np.arange(2, len(frame) + 2), name)


def _read_text(p: Path, encoding: str | None) -> RawCohort:
    data = p.read_bytes()
    enc = encoding or "utf-8-sig"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"cohort file {p.name} is not {enc} text (byte {exc.start}); declare its encoding in the config, "
            "e.g. encoding: gb18030", field="encoding") from exc
    except LookupError as exc:
        raise ValidationError(f"unknown encoding {enc!r}", field="encoding") from exc
    first = text.split("\n", 1)[0]
    delimiter = "\t" if p.suffix.lower() == ".tsv" else max(",;\t", key=first.count)
    if p.suffix.lower() != ".tsv" and first.count(delimiter) == 0:
        delimiter = ","
    if not text.strip():
        raise ValidationError(f"cohort file {p.name} is empty", field="cohort")
    names = [c.strip() for c in next(csv.reader([first.rstrip("\r")], delimiter=delimiter))]
    _check_unique_names([n for n in names if n], p.name)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter,
                         quoting=csv.QUOTE_MINIMAL, skip_blank_lines=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ValidationError(f"cohort file {p.name} could not be read: {exc}", field="cohort") from exc
    notes: tuple[str, ...] = () if delimiter == "," else (f"{p.name}: columns separated by {delimiter!r}",)
    df, unnamed = _drop_unnamed_empty(df, names, p.name)
    notes += unnamed
    blank = df.apply(lambda c: c.str.strip().eq("")).all(axis=1).to_numpy() if len(df.columns) else np.array([])
    rows = np.arange(2, len(df) + 2)
    if blank.any():
        notes += (f"{p.name}: {int(blank.sum())} empty line(s) skipped ({_rows(rows[blank])})",)
    return RawCohort(df.loc[~blank].reset_index(drop=True), rows[~blank], p.name, notes=notes)


def _drop_unnamed_empty(df: pd.DataFrame, names: list[str], file: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Columns without a header name: dropped (with a note) when every cell is empty, as the
    trailing separators of a spreadsheet export; an error naming the column when they hold data."""
    if "" not in names or len(names) != len(df.columns):
        return df, ()
    empty = [k for k, n in enumerate(names) if not n]
    for k in empty:
        if not df.iloc[:, k].str.strip().eq("").all():
            raise ValidationError(f"cohort file {file}: column {k + 1} of the header has no name but holds data; "
                                  "name it", field="cohort")
    keep = [k for k in range(len(names)) if names[k]]
    return df.iloc[:, keep], (f"{file}: {len(empty)} empty column(s) without a name skipped (column "
                              f"{', '.join(str(k + 1) for k in empty)})",)


def _check_unique_names(names: list[str], file: str) -> None:
    """A column name given twice is ambiguous (pandas would rename the second 'name.1'): an error."""
    seen: dict[str, int] = {}
    for k, n in enumerate(names, start=1):
        if n in seen:
            raise ValidationError(f"cohort file {file}: column name {n!r} appears more than once (columns "
                                  f"{seen[n]} and {k} of the header); rename one", field=n)
        seen[n] = k


def _rows(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return "row " + shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _choose_sheet(wb: Any, sheet: str | int | None, name: str) -> Any:
    if isinstance(sheet, str):
        if sheet not in wb.sheetnames:
            raise ValidationError(f"{name} has no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})", field="sheet")
        return wb[sheet]
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    if isinstance(sheet, int):
        if not 1 <= sheet <= len(wb.worksheets):
            raise ValidationError(f"{name} has {len(wb.worksheets)} sheet(s), not sheet {sheet}", field="sheet")
        return wb.worksheets[sheet - 1]
    if not visible:
        raise ValidationError(f"{name} has no visible worksheet", field="sheet")
    return visible


def _filled(row: tuple) -> list[Any]:
    return [v for v in row if v is not None and str(v).strip() != ""]


def _has_table(cells: list[tuple]) -> bool:
    """A header of two or more names followed by a row of two or more cells (a sheet of notes,
    one cell a line, is not a table)."""
    try:
        h = _header_index(cells, "")
    except ValidationError:
        return False
    return len(_filled(cells[h])) >= 2 and any(len(_filled(r)) >= 2 for r in cells[h + 1:])


def _sheet_cells(wb: Any, sheet: str | int | None, name: str) -> tuple[Any, list[tuple], list[str]]:
    """The worksheet to read, its cells and notes on the sheets passed over. Without ``sheet``:
    the first visible sheet that holds a table (a header and a filled row); the sheets before it
    are named as skipped and the later ones as not read."""
    chosen = _choose_sheet(wb, sheet, name)
    if not isinstance(chosen, list):
        return chosen, [tuple(r) for r in chosen.iter_rows(values_only=True)], []
    for k, ws in enumerate(chosen):
        cells = [tuple(r) for r in ws.iter_rows(values_only=True)]
        if _has_table(cells):
            skipped, later = [w.title for w in chosen[:k]], [w.title for w in chosen[k + 1:]]
            notes = [f"{name}: sheet(s) {', '.join(map(repr, skipped))} skipped (no header with data rows)"] if skipped else []
            if later:
                notes.append(f"{name}: sheet(s) {', '.join(map(repr, later))} not read (declare sheet: to read another)")
            return ws, cells, notes
    first = chosen[0]  # no sheet holds a table: the first one, whose reading says what is missing
    return first, [tuple(r) for r in first.iter_rows(values_only=True)], []


def _header_index(cells: list[tuple], name: str) -> int:
    """The first row whose text cells form the widest header among the first rows."""
    def width(row: tuple) -> int:
        filled = _filled(row)
        return len(filled) if all(isinstance(v, str) for v in filled) else 0

    scan = cells[:_HEADER_SCAN]
    best = max((width(r) for r in scan), default=0)
    if best == 0:
        raise ValidationError(f"{name}: no header row of column names in the first {_HEADER_SCAN} rows",
                              field="header_row")
    return next(i for i, r in enumerate(scan) if width(r) == best)


def _formula_without_value(p: Path, ws_title: str, header: int, ncol: int, empty: set[tuple[int, int]]) -> None:
    """A cell that holds a formula but no saved value cannot be read: raise naming it."""
    if not empty:
        return
    import openpyxl

    wb = openpyxl.load_workbook(p, read_only=True, data_only=False)
    for r_i, row in enumerate(wb[ws_title].iter_rows(min_row=header, max_col=ncol, values_only=True), start=header):
        for c_i, v in enumerate(row, start=1):
            if (r_i, c_i) in empty and isinstance(v, str) and v.startswith("="):
                from openpyxl.utils import get_column_letter

                raise ValidationError(
                    f"{p.name}: cell {get_column_letter(c_i)}{r_i} holds the formula {v!r} but no saved value; open "
                    "and save the file in Excel or LibreOffice (which store the values), or export it as CSV",
                    field="cohort", row=r_i)


def _read_xlsx(p: Path, sheet: str | int | None, header_row: int | None) -> RawCohort:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise ValidationError(f"cohort file {p.name} could not be read as XLSX: {exc}", field="cohort") from exc
    ws, cells, sheet_notes = _sheet_cells(wb, sheet, p.name)
    wb.close()
    h = header_row - 1 if header_row else _header_index(cells, p.name)
    if h >= len(cells):
        raise ValidationError(f"{p.name}: header_row {header_row} is past the last row ({len(cells)})", field="header_row")
    header = list(cells[h])
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    names = [str(v).strip() if v is not None else "" for v in header]
    if "" in names:
        raise ValidationError(f"{p.name}: column {names.index('') + 1} of the header row {h + 1} has no name",
                              field="header_row")
    _check_unique_names(names, p.name)
    body = [list(r[: len(names)]) + [None] * (len(names) - len(r)) for r in cells[h + 1:]]
    rows = np.arange(h + 2, h + 2 + len(body))
    keep = np.array([any(v is not None and str(v).strip() != "" for v in r) for r in body], dtype=bool)
    df = pd.DataFrame([r for r, k in zip(body, keep, strict=True) if k], columns=names, dtype=object)
    empty = {(int(rows[i]), j + 1) for i, r in enumerate(body) if keep[i] for j, v in enumerate(r) if v is None}
    _formula_without_value(p, ws.title, h + 1, len(names), empty)
    notes = [f"{p.name}: sheet {ws.title!r}, header on row {h + 1}"]
    titles = [" ".join(str(v) for v in r if v is not None) for r in cells[:h] if any(v is not None for v in r)]
    if titles:
        notes[0] += f" (rows above it skipped: {'; '.join(repr(t) for t in titles)})"
    if (~keep).any():
        notes.append(f"{p.name}: {int((~keep).sum())} empty row(s) skipped ({_rows(rows[~keep])})")
    return RawCohort(df, rows[keep], p.name, notes=tuple(sheet_notes + notes))


def _read_stat(p: Path, suffix: str) -> RawCohort:
    import pyreadstat

    reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(p), apply_value_formats=True)
    except pyreadstat.ReadstatError as exc:
        raise ValidationError(f"cohort file {p.name} could not be read: {exc}", field="cohort") from exc
    labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    notes = (f"{p.name}: value labels applied to {', '.join(labels)}",) if labels else ()
    return RawCohort(df.reset_index(drop=True), np.arange(1, len(df) + 1), p.name, "case", notes, labels)


def load_cohort(path: str | Path, *, sheet: str | int | None = None, header_row: int | None = None,
                encoding: str | None = None) -> RawCohort:
    """Read a cohort file (format by suffix) into a :class:`RawCohort`; see the module docstring."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"cohort file not found: {p}", field="cohort")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        raw = _read_text(p, encoding)
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(p, sheet, header_row)
    elif suffix == ".parquet":
        try:
            df = pd.read_parquet(p)
        except (OSError, ValueError) as exc:
            raise ValidationError(f"cohort file {p.name} could not be read: {exc}", field="cohort") from exc
        raw = RawCohort(df.reset_index(drop=True), np.arange(1, len(df) + 1), p.name, "case")
    elif suffix in (".sav", ".dta"):
        raw = _read_stat(p, suffix)
    else:
        raise ValidationError(
            f"cohort file {p.name}: unsupported format {suffix!r}; expected one of {', '.join(SUPPORTED_SUFFIXES)}",
            field="cohort")
    if raw.frame.empty:
        raise ValidationError(f"cohort file {p.name} has no data rows", field="cohort")
    raw.frame.columns = [str(c).strip() for c in raw.frame.columns]
    dup = raw.frame.columns[raw.frame.columns.duplicated()].tolist()
    if dup:
        raise ValidationError(f"cohort file {p.name}: column name {dup[0]!r} appears more than once", field=dup[0])
    return raw


def read_cohort(path: str | Path) -> pd.DataFrame:
    """The raw cells of a cohort file as a DataFrame (row ``i`` is the i-th data row); see
    :func:`load_cohort` for the row numbers and reading notes."""
    return load_cohort(path).frame
