"""Drafting a study config from a cohort file that came without one."""

from __future__ import annotations

import re

import pandas as pd

from npctrial.cohort.config import (
    AssociationSpec,
    ColumnSpec,
    DerivedSpec,
    StudyConfig,
    SurvivalSpec,
    ToxicitySpec,
    VarType,
)

_PATTERNS: list[tuple[str, str, VarType]] = [
    (r"^(patient_?)?id$", "id", "category"),
    (r"(^|_)age($|_|_years)", "age", "number"),
    (r"^(sex|gender)$", "sex", "category"),
    (r"histolog|who", "histology", "category"),
    (r"^t_?(stage|category|cat)", "t_stage", "category"),
    (r"^n_?(stage|category|cat)", "n_stage", "category"),
    (r"treat|modality|arm", "treatment", "category"),
    (r"recur", "recurrence", "category"),
    (r"date", "", "date"),
    (r"death|vital|dead|status", "death", "binary"),
    (r"metast", "metastasis", "binary"),
    (r"^(acute|late)_", "", "grade"),
    (r"months|time|duration", "", "number"),
]


def _numeric_if_all(values: pd.Series) -> pd.Series:
    """The column as numbers when every present cell is a number, else unchanged."""
    num = pd.to_numeric(values, errors="coerce")
    return num if bool((num.notna() == values.notna()).all()) else values


def infer_config(df: pd.DataFrame) -> tuple[StudyConfig, list[str]]:
    """Draft a config from column names; returns it and one note per guess.

    Columns are typed from name patterns (``*date*`` -> date, ``acute_*``/``late_*`` -> grade,
    ``age`` -> number ...) and, failing that, from the values; categorical columns with few
    levels are listed in an association table against the first binary event column.
    """
    from npctrial.cohort.validation import missing_mask

    df = pd.DataFrame({c: df[c].where(~missing_mask(df[c]), None) for c in df.columns})
    df = pd.DataFrame({c: _numeric_if_all(df[c]) for c in df.columns})
    columns: dict[str, ColumnSpec] = {}
    notes: list[str] = []
    for col in df.columns:
        key = re.sub(r"\W+", "_", str(col).strip().lower()).strip("_") or "column"
        vtype: VarType | None = None
        for pattern, _role, t in _PATTERNS:
            if re.search(pattern, key):
                vtype = t
                break
        values = df[col].dropna()
        if vtype is None:
            vtype = "number" if pd.api.types.is_numeric_dtype(values) else "category"
        if vtype == "binary" and not set(pd.unique(values)).issubset({0, 1, "0", "1"}):
            vtype = "category"
        levels = None
        if vtype == "category" and 0 < values.nunique() <= 12:
            levels = sorted(str(v) for v in pd.unique(values))
        columns[key] = ColumnSpec(column=str(col), type=vtype, levels=levels, allow_missing=bool(df[col].isna().any()))
        notes.append(f"{col!r} -> {key} ({vtype}{', levels ' + '/'.join(levels) if levels else ''})")
    binaries = [k for k, c in columns.items() if c.type == "binary"]
    factors = [k for k, c in columns.items() if c.type == "category" and c.levels and k not in ("id",)]
    tox = [k for k, c in columns.items() if c.type == "grade"]
    association = None
    if binaries and factors:
        association = AssociationSpec(outcome=binaries[-1], variables=factors)
        notes.append(f"association table: {', '.join(factors)} against {binaries[-1]}")
    toxicity = [ToxicitySpec(name="toxicity", title="Toxicity by grade", variables=tox)] if tox else []
    derived, survival = _infer_survival(columns, factors, notes)
    config = StudyConfig(title="Draft cohort analysis (inferred)", columns=columns, derived=derived,
                         association=association, toxicity=toxicity, survival=survival)
    return config, notes


def _infer_survival(
    columns: dict[str, ColumnSpec], factors: list[str], notes: list[str]
) -> tuple[list[DerivedSpec], list[SurvivalSpec]]:
    """Durations and KM analyses from a start date, a last-follow-up date and binary events.

    The start is the first date column named like start/diagnosis/treatment/rt; the end, one
    named like last/follow; an event ``x`` uses a date column whose name contains ``x``.
    """
    dates = [k for k, c in columns.items() if c.type == "date"]
    start = next((d for d in dates if re.search(r"start|diagnos|treat|rt_|begin", d)), None)
    last = next((d for d in dates if re.search(r"last|follow|censor", d)), None)
    if start is None or last is None:
        return [], []
    derived: list[DerivedSpec] = []
    survival: list[SurvivalSpec] = []
    group = next((f for f in factors if re.search(r"treat|arm|modality|stage", f)), None)
    for event in [k for k, c in columns.items() if c.type == "binary"]:
        event_date = next((d for d in dates if event.split("_")[0] in d and d not in (start, last)), None)
        name = f"{event}_months"
        derived.append(DerivedSpec(name=name, kind="duration", start=start,
                                   end=[event_date, last] if event_date else [last]))
        survival.append(SurvivalSpec(name=f"km_{event}", title=f"Kaplan-Meier: {event}", time=name, event=event,
                                     group=group, failure=event_date is not None))
        notes.append(f"survival: {name} from {start} to {event_date + ' or ' if event_date else ''}{last}, "
                     f"event {event}{', by ' + group if group else ''}")
    return derived, survival
