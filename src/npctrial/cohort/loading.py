"""Reading cohort files: CSV, XLSX, Parquet, SPSS ``.sav`` and Stata ``.dta``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from npctrial.errors import ValidationError

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls", ".parquet", ".sav", ".dta")


def read_cohort(path: str | Path) -> pd.DataFrame:
    """Read a cohort file into a DataFrame of raw values (no typing; see validation).

    The format is chosen by suffix: ``.csv``/``.txt`` (comma separated, UTF-8), ``.xlsx``
    (first sheet), ``.parquet``, ``.sav`` and ``.dta`` (pyreadstat; value labels applied).
    The index is reset so that row ``i`` (1-based) is the i-th data row of the file.
    """
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"cohort file not found: {p}", field="cohort")
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            df = pd.read_csv(p, dtype=str, keep_default_na=True, skipinitialspace=True)
        elif suffix in (".xlsx", ".xls"):
            df = pd.read_excel(p, sheet_name=0)
        elif suffix == ".parquet":
            df = pd.read_parquet(p)
        elif suffix in (".sav", ".dta"):
            import pyreadstat

            reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
            df, _meta = reader(str(p), apply_value_formats=True)
        else:
            raise ValidationError(
                f"cohort file {p.name}: unsupported format {suffix!r}; expected one of {SUPPORTED_SUFFIXES}",
                field="cohort",
            )
    except ValidationError:
        raise
    except Exception as exc:  # parser errors from pandas/pyreadstat/openpyxl
        raise ValidationError(f"cohort file {p.name} could not be read: {exc}", field="cohort") from exc
    if df.empty:
        raise ValidationError(f"cohort file {p.name} has no data rows", field="cohort")
    df.columns = [str(c).strip() for c in df.columns]
    return df.reset_index(drop=True)
