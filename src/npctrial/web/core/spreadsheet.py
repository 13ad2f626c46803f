"""Spreadsheet safety for every export: no cell of a CSV or XLSX file can become a live formula.

CSV/formula injection (OWASP "CSV Injection"): a text value typed into the EDC such as
``=HYPERLINK("http://evil", "click")`` becomes a formula when the export is opened in a
spreadsheet. Rules:

1. CSV: a *text* value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
   written with a leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets show as text.
   Numbers (negative ones included) are not text and are written unchanged.
2. XLSX: every cell that openpyxl would store as a formula is stored as a text cell instead
   (the value keeps its characters; nothing is evaluated on opening).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["FORMULA_PREFIXES", "neutralise_workbook", "safe_cell", "safe_frame", "safe_rows"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Rule 1 for one value."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {k: safe_cell(v) for k, v in row.items()}


def safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame with rule 1 applied to its text cells (for CSV writers)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(safe_cell)
    return out


def neutralise_workbook(workbook: Any) -> int:
    """Rule 2: formula cells of an openpyxl workbook become text cells; returns how many."""
    count = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    count += 1
    return count
