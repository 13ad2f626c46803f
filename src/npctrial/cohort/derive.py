"""Derived variables: thresholds, recodes, durations, event indicators and AJCC stage groups."""

from __future__ import annotations

import numpy as np
import pandas as pd

from npctrial.cohort.config import DerivedSpec, StudyConfig
from npctrial.errors import ConfigurationError, ValidationError

#: Days per month used for durations (365.25 / 12).
DAYS_PER_MONTH = 30.4375


def _derive_stage(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    from npctrial.domain.staging import stage_group

    src = [spec.source] if isinstance(spec.source, str) else list(spec.source or [])
    if len(src) not in (2, 3):
        raise ConfigurationError(f"derived {spec.name!r}: stage_group needs source [T, N] or [T, N, M]",
                                 field=spec.name)
    cols = [frame[c] for c in src] + ([] if len(src) == 3 else [pd.Series(spec.m_category, index=frame.index)])
    keys = pd.DataFrame({i: c.astype("object") for i, c in enumerate(cols)})
    out: list[str | None] = []
    cache: dict[tuple, str | None] = {}
    # one table look-up per distinct (T, N, M) combination
    for i, key in enumerate(keys.itertuples(index=False, name=None)):
        if key in cache:
            out.append(cache[key])
            continue
        if any(v is None or (not isinstance(v, str) and pd.isna(v)) for v in key):
            value = None
        else:
            try:
                value = stage_group(str(key[0]), str(key[1]), str(key[2]), edition=spec.edition)
            except ValidationError as exc:
                raise ValidationError(f"row {i + 1}: {exc}", field=spec.name, row=i + 1) from exc
        cache[key] = value
        out.append(value)
    return pd.Series(out, index=frame.index, dtype="object")


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
    out: list[str | None] = []
    cache: dict[tuple, str | None] = {}
    for i, key in enumerate(keys.itertuples(index=False, name=None)):
        if key in cache:
            out.append(cache[key])
            continue
        value: str | None = None
        absent = [v is None or (not isinstance(v, str) and pd.isna(v)) for v in key]
        # a node size may be blank when no node is involved; any other blank finding: no value
        if not any(a and not f.endswith("greatest_dimension_cm") for a, f in zip(absent, mapping, strict=True)):
            data: dict = {"primary": {}, "nodes": {}}
            for (field, _col), v, a in zip(mapping.items(), key, absent, strict=True):
                if a:
                    v = None
                    data.setdefault(field.partition(".")[0], {})[field.partition(".")[2]] = None
                    continue
                if field == "distant_metastasis":
                    data[field] = _finding_value(field, v)
                else:
                    group, _, name = field.partition(".")
                    data.setdefault(group, {})[name] = _finding_value(name, v)
            try:
                res = stage_findings(findings_from_mapping(data), spec.edition)
            except ValidationError as exc:
                raise ValidationError(f"row {i + 1}: {exc}", field=spec.name, row=i + 1) from exc
            value = {"stage": res.stage, "t": res.t, "n": res.n}[spec.part]
        cache[key] = value
        out.append(value)
    return pd.Series(out, index=frame.index, dtype="object")


def derive_variable(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    """One derived variable as a Series aligned with ``frame``."""
    if spec.kind == "threshold":
        x = pd.to_numeric(frame[spec.source], errors="coerce")
        hi, lo = (spec.labels or ["yes", "no"])[:2]
        out = pd.Series(np.where(x >= float(spec.threshold or 0), hi, lo), index=frame.index, dtype="object")
        return out.where(x.notna(), None)
    if spec.kind == "recode":
        mapping = spec.mapping or {}

        def recode(v: object) -> object:
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                return None
            key = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
            return mapping.get(key, key)

        return frame[spec.source].map(recode).astype("object")
    if spec.kind == "duration":
        start = frame[spec.start]
        end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        for e in spec.end or []:
            end = end.fillna(frame[e])
        return (end - start).dt.days / DAYS_PER_MONTH
    if spec.kind == "event":
        return frame[spec.source].notna().astype(float)
    if spec.kind == "restage":
        return _derive_restage(frame, spec)
    return _derive_stage(frame, spec)


def derive_variables(frame: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """Add every ``config.derived`` variable, in order (later ones may use earlier ones)."""
    out = frame.copy()
    for spec in config.derived:
        needed = [spec.source] if isinstance(spec.source, str) else list(spec.source or [])
        needed += [spec.start] if spec.start else []
        needed += list(spec.end or [])
        missing = [c for c in needed if c not in out.columns]
        if missing:
            raise ConfigurationError(f"derived {spec.name!r} needs unknown variable(s) {missing}", field=spec.name)
        out[spec.name] = derive_variable(out, spec)
    return out
