"""Reading date cells without guessing: a declared format, or an order the column itself proves.

Rules, per column:

1. Cells already stored as dates (XLSX date cells, SPSS/Stata/Parquet dates) are taken as they are.
2. With a declared ``date_format`` (strftime codes, e.g. ``%d/%m/%Y``) every text cell must match
   it exactly; a cell that does not is an invalid value.
3. Otherwise each text cell is classified: year first (``2009-03-04``, ``2009/3/4``,
   ``2009.03.04``, ``20090304``, ``2009年3月4日``) and month names (``4 Mar 2009``,
   ``March 4, 2009``) are unambiguous; ``a/b/yyyy`` (also with ``-`` or ``.``) is day/month or
   month/day. Its order is the declared ``dayfirst`` (column, else file) or, when not declared,
   what the column proves: a first number above 12 (and a second one up to 12) proves day/month,
   the reverse proves month/day. A column that proves both, or neither, stops the run with a message naming
   the column, the ambiguity and a value as written. Two-digit years need a declared format.
4. A cell that matches no pattern, or names an impossible date (``31/02/2009``), is invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_YMD = (
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "%Y/%m/%d"),
    (re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}$"), "%Y.%m.%d"),
    (re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$"), "%Y%m%d"),
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"), "%Y年%m月%d日"),
)
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_PAIR = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})$")
_MONTH_NAME = re.compile(r"^(\d{1,2}[ -]?[A-Za-z]{3,9}\.?[ -,]*\d{4}|[A-Za-z]{3,9}\.?[ -]?\d{1,2},?[ -]\d{4})$")


@dataclass(frozen=True)
class DateColumn:
    """Parsed dates of one column: values (NaT where missing or invalid), invalid mask, how the
    text was read (for the report), and the message that stops the run when the order is ambiguous."""

    values: pd.Series
    invalid: np.ndarray
    rule: str
    ambiguity: str | None = None


def _text(v: object) -> str:
    return v.strip() if isinstance(v, str) else str(v)


def _is_date_object(v: object) -> bool:
    return isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "year") and hasattr(v, "month")


def _parse_with(texts: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(texts, format=fmt, errors="coerce")


def _pair_order(pairs: pd.DataFrame, where: pd.Series, column: str, dayfirst: bool | None,
                declared_by: str) -> tuple[bool | None, str, str | None]:
    """(dayfirst, rule text, ambiguity message) for the ``a/b/yyyy`` cells of a column."""
    example = f"{pairs['text'].iloc[0]!r} ({where.iloc[0]})"
    if dayfirst is not None:
        order = "day/month/year" if dayfirst else "month/day/year"
        return dayfirst, f"{column}: {order} ({declared_by})", None
    a, b = pairs["a"].astype(int), pairs["b"].astype(int)
    day_first, month_first = (a > 12) & (b <= 12), (b > 12) & (a <= 12)
    if day_first.any() and month_first.any():
        i, j = int(np.flatnonzero(day_first.to_numpy())[0]), int(np.flatnonzero(month_first.to_numpy())[0])
        return None, "", (
            f"mixes day/month ({pairs['text'].iloc[i]!r}, {where.iloc[i]}) and month/day "
            f"({pairs['text'].iloc[j]!r}, {where.iloc[j]}) dates; correct the file or declare date_format for it")
    if day_first.any() or month_first.any():
        first = day_first.any()
        k = int(np.flatnonzero((day_first if first else month_first).to_numpy())[0])
        proof = f"{pairs['text'].iloc[k]!r} ({where.iloc[k]}) has a day over 12"
        order = "day/month/year" if first else "month/day/year"
        return bool(first), f"{column}: {order}, inferred ({proof})", None
    return None, "", (
        f"{len(pairs)} date(s) such as {example} could be day/month or month/day and no "
        f"value in the column has a day over 12; declare date_format: '%d/%m/%Y' (or '%m/%d/%Y'), or "
        f"dayfirst: true/false, for this column or the whole file")


def parse_date_column(raw: pd.Series, missing: np.ndarray, where: pd.Series, *, column: str,
                      date_format: str | None = None, dayfirst: bool | None = None,
                      declared_by: str = "declared") -> DateColumn:
    """Parse one column of raw cells by the module's rules; ``where`` names each row for messages."""
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    invalid = np.zeros(len(raw), dtype=bool)
    present = ~missing
    objects = raw[present]
    is_obj = objects.map(_is_date_object).astype(bool)
    if is_obj.any():
        values.loc[is_obj[is_obj].index] = pd.to_datetime(objects[is_obj], errors="coerce")
    texts = objects[~is_obj].map(_text)
    if texts.empty:
        return DateColumn(values, invalid, f"{column}: stored as dates" if is_obj.any() else "")
    pos = {k: i for i, k in enumerate(raw.index)}

    def mark_bad(idx: pd.Index) -> None:
        invalid[[pos[k] for k in idx]] = True

    if date_format:
        parsed = _parse_with(texts, date_format)
        values.loc[texts.index] = parsed
        mark_bad(parsed.index[parsed.isna()])
        return DateColumn(values, invalid, f"{column}: format {date_format} ({declared_by})")
    unread = pd.Series(True, index=texts.index)
    formats_used = []
    for pattern, fmt in _YMD:
        hit = texts.str.match(pattern) & unread
        if hit.any():
            values.loc[hit[hit].index] = _parse_with(texts[hit], fmt)
            mark_bad(hit[hit].index[values.loc[hit[hit].index].isna()])
            unread &= ~hit
            formats_used.append(fmt)
    for pattern, parse in ((_ISO_TIME, "ISO8601"), (_MONTH_NAME, "mixed")):
        hit = texts.str.match(pattern) & unread
        if hit.any():
            values.loc[hit[hit].index] = pd.to_datetime(texts[hit], format=parse, errors="coerce")
            mark_bad(hit[hit].index[values.loc[hit[hit].index].isna()])
            unread &= ~hit
            formats_used.append("year-month-day with time" if parse == "ISO8601" else "month names")
    pairs = texts[unread].str.extract(_PAIR)
    pairs.columns = ["a", "sep", "b", "year"]
    matched = pairs["a"].notna()
    mark_bad(pairs.index[~matched])
    pairs = pairs[matched].assign(text=texts[unread][matched])
    a, b = pairs["a"].astype(int), pairs["b"].astype(int)
    readable = (a >= 1) & (b >= 1) & (a <= 31) & (b <= 31) & ((a <= 12) | (b <= 12))
    mark_bad(pairs.index[~readable])  # no order makes a date of 31/31/2009
    pairs = pairs[readable]
    rule = f"{column}: " + ", ".join(formats_used) if formats_used else ""
    if pairs.empty:
        return DateColumn(values, invalid, rule)
    short = pairs["year"].str.len() == 2
    if short.any():
        k = int(np.flatnonzero(short.to_numpy())[0])
        return DateColumn(values, invalid, rule, (
            f"two-digit year in {pairs['text'].iloc[k]!r} ({where.loc[pairs.index[k]]}); "
            "declare date_format for it (e.g. '%d/%m/%y') so the century is not guessed"))
    first, pair_rule, ambiguity = _pair_order(pairs, where.loc[pairs.index], column, dayfirst, declared_by)
    if ambiguity:
        return DateColumn(values, invalid, rule, ambiguity)
    day = pairs["a"] if first else pairs["b"]
    month = pairs["b"] if first else pairs["a"]
    iso = pairs["year"] + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    parsed = _parse_with(iso, "%Y-%m-%d")
    values.loc[pairs.index] = parsed
    mark_bad(parsed.index[parsed.isna()])
    rules = [r for r in (rule, pair_rule) if r]
    return DateColumn(values, invalid, "; ".join(rules))
