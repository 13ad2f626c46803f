"""Derived variables: thresholds, recodes (text or numbers), durations in days/weeks/months/years,
event indicators and AJCC stage groups; durations stored as numbers are converted to the study's
time unit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from npctrial.cohort.config import DerivedSpec, StudyConfig
from npctrial.cohort.units import DAYS, convert
from npctrial.cohort.values import as_level, is_missing
from npctrial.errors import ConfigurationError, ValidationError

#: Days per month used for durations (365.25 / 12).
DAYS_PER_MONTH = DAYS["months"]


def _per_distinct_key(keys: pd.DataFrame, compute: Callable[[tuple], str | None], name: str) -> pd.Series:
    """``compute`` once per distinct row of ``keys`` (a cohort has few distinct T/N/M or finding
    combinations), spread back over the rows; a ValidationError names the first row hit by its
    index label (the row number the user sees, see :func:`~npctrial.cohort.validation.validate_cohort`)."""
    out: list[str | None] = []
    cache: dict[tuple, str | None] = {}
    word = keys.index.name or "row"
    for label, key in zip(keys.index, keys.itertuples(index=False, name=None), strict=True):
        if key not in cache:
            try:
                cache[key] = compute(key)
            except ValidationError as exc:
                raise ValidationError(f"{word} {label}: {exc}", field=name, row=int(label)) from exc
        out.append(cache[key])
    return pd.Series(out, index=keys.index, dtype="object")


def _derive_stage(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    from npctrial.domain.staging import stage_group

    src = [spec.source] if isinstance(spec.source, str) else list(spec.source or [])
    if len(src) not in (2, 3):
        raise ConfigurationError(f"derived {spec.name!r}: stage_group needs source [T, N] or [T, N, M]",
                                 field=spec.name)
    cols = [frame[c] for c in src] + ([] if len(src) == 3 else [pd.Series(spec.m_category, index=frame.index)])
    keys = pd.DataFrame({i: c.astype("object") for i, c in enumerate(cols)})

    def group(key: tuple) -> str | None:
        if any(is_missing(v) for v in key):
            return None
        return stage_group(str(key[0]), str(key[1]), str(key[2]), edition=spec.edition)

    return _per_distinct_key(keys, group, spec.name)


_TRUE = {"1", "1.0", "true", "yes", "y"}
_FALSE = {"0", "0.0", "false", "no", "n"}


def _finding_value(name: str, value: object) -> object:
    if name.endswith("greatest_dimension_cm"):
        return float(value)  # type: ignore[arg-type]
    if name.endswith("cervical"):
        return str(value).strip().lower()
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value


def _derive_restage(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    """7th -> 8th restaging (or either edition) from anatomical findings, row by row."""
    from npctrial.domain.staging import findings_from_mapping, stage_findings

    mapping = spec.findings or {}
    missing = [c for c in mapping.values() if c not in frame.columns]
    if missing:
        raise ConfigurationError(f"derived {spec.name!r} needs unknown variable(s) {missing}", field=spec.name)
    keys = frame[list(mapping.values())].astype("object")

    def restage(key: tuple) -> str | None:
        absent = [is_missing(v) for v in key]
        # a node size may be blank when no node is involved; any other blank finding: no value
        if any(a and not f.endswith("greatest_dimension_cm") for a, f in zip(absent, mapping, strict=True)):
            return None
        data: dict = {"primary": {}, "nodes": {}}
        for field, v, a in zip(mapping, key, absent, strict=True):
            if a:
                data.setdefault(field.partition(".")[0], {})[field.partition(".")[2]] = None
            elif field == "distant_metastasis":
                data[field] = _finding_value(field, v)
            else:
                group, _, name = field.partition(".")
                data.setdefault(group, {})[name] = _finding_value(name, v)
        res = stage_findings(findings_from_mapping(data), spec.edition)
        return {"stage": res.stage, "t": res.t, "n": res.n}[spec.part]

    return _per_distinct_key(keys, restage, spec.name)


def _derive_recode(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    """Text recodes pass unmapped values through; numeric recodes (every new value a number)
    give floats and refuse a value that has no number, naming its row."""
    mapping = spec.mapping or {}
    keys = frame[spec.source].map(as_level)
    if not spec.numeric:
        return keys.map(lambda k: None if k is None else (None if mapping.get(k, k) is None else str(mapping.get(k, k))))\
            .astype("object")
    unmapped = keys.notna() & ~keys.isin(list(mapping))
    if unmapped.any():
        label = unmapped.index[unmapped.to_numpy()][0]
        word = frame.index.name or "row"
        raise ValidationError(
            f"{word} {label}: derived {spec.name!r}: value {keys[label]!r} of {spec.source!r} has no number in the "
            f"recode mapping ({', '.join(map(str, mapping))})", field=spec.name, row=int(label))
    return keys.map(lambda k: None if k is None else mapping[k]).astype(float)


def derive_variable(frame: pd.DataFrame, spec: DerivedSpec, unit: str | None = None) -> pd.Series:
    """One derived variable as a Series aligned with ``frame`` (durations in ``spec.unit``, else
    ``unit``, else months)."""
    if spec.kind == "threshold":
        x = pd.to_numeric(frame[spec.source], errors="coerce")
        hi, lo = (spec.labels or ["yes", "no"])[:2]
        out = pd.Series(np.where(x >= float(spec.threshold or 0), hi, lo), index=frame.index, dtype="object")
        return out.where(x.notna(), None)
    if spec.kind == "recode":
        return _derive_recode(frame, spec)
    if spec.kind == "duration":
        start = frame[spec.start]
        end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        for e in spec.end or []:
            end = end.fillna(frame[e])
        return (end - start).dt.days / DAYS[spec.unit or unit or "months"]
    if spec.kind == "event":
        return frame[spec.source].notna().astype(float)
    if spec.kind == "restage":
        return _derive_restage(frame, spec)
    return _derive_stage(frame, spec)


def derive_variables(frame: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """Convert durations stored as numbers with a ``unit`` to the study's ``time_unit``, then add
    every ``config.derived`` variable, in order (later ones may use earlier ones)."""
    out = frame.copy()
    for name, col in config.columns.items():
        if col.unit is not None and config.time_unit is not None and name in out:
            out[name] = convert(out[name].astype(float), col.unit, config.time_unit)
    for spec in config.derived:
        needed = [spec.source] if isinstance(spec.source, str) else list(spec.source or [])
        needed += [spec.start] if spec.start else []
        needed += list(spec.end or [])
        missing = [c for c in needed if c not in out.columns]
        if missing:
            raise ConfigurationError(f"derived {spec.name!r} needs unknown variable(s) {missing}", field=spec.name)
        out[spec.name] = derive_variable(out, spec, config.time_unit)
    return out
