"""The analysis plan: a study config checked once into the typed description every analysis uses.

:func:`build_plan` resolves, for every variable, its kind, its levels in display order (the
declared ``levels``, the first being the reference; derived levels follow their source; levels
that were not declared are the values present, in natural order) and, for times, their unit.
It refuses, naming the field, what would otherwise fail later or silently: a recode key that is
not a level of its source, an event that is not 0/1, a time that is not a number, a reference
level that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import pandas as pd

from npctrial.cohort.config import (
    CompetingRiskSpec,
    CoxSpec,
    DerivedSpec,
    LandmarkSpec,
    StudyConfig,
    SurvivalSpec,
    TimeDependentSpec,
)
from npctrial.cohort.units import landmarks_for
from npctrial.cohort.values import as_level
from npctrial.errors import ConfigurationError

Kind = Literal["category", "number", "integer", "grade", "binary", "date", "time"]
_NUMERIC: tuple[str, ...] = ("number", "integer", "grade", "binary", "time")


@dataclass(frozen=True)
class Variable:
    """One variable of the plan. ``dates`` are the date variables it is computed from (for the
    immortal-time check); ``origin`` is the start date of a duration."""

    name: str
    label: str
    kind: Kind
    levels: tuple[str, ...] = ()
    unit: str | None = None
    dates: frozenset[str] = frozenset()
    origin: str | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in _NUMERIC


@dataclass(frozen=True)
class AnalysisPlan:
    """The config with every variable resolved; analyses read levels, labels and units here."""

    config: StudyConfig
    variables: Mapping[str, Variable]
    landmarks: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def time_unit(self) -> str | None:
        return self.config.time_unit

    def variable(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise ConfigurationError(f"unknown variable {name!r}", field=name) from None

    def label(self, name: str) -> str:
        return self.variables[name].label if name in self.variables else self.config.label(name)

    def levels(self, name: str | None) -> list[str]:
        return list(self.variables[name].levels) if name is not None and name in self.variables else []

    def unit(self, name: str) -> str | None:
        return self.variables[name].unit if name in self.variables else self.time_unit

    def reference(self, name: str, model: CoxSpec | None = None) -> str | None:
        """The reference level of a categorical covariate: the model's ``reference`` or the first level."""
        if model is not None and model.reference and name in model.reference:
            return model.reference[name]
        levels = self.levels(name)
        return levels[0] if levels else None


def natural_order(values: Iterable[str]) -> list[str]:
    """Levels in natural order: numbers by value ("2" before "10"), then text alphabetically."""
    def key(v: str) -> tuple[int, float, str]:
        try:
            return (0, float(v), v)
        except ValueError:
            return (1, 0.0, re.sub(r"\d+", lambda m: m.group().zfill(8), v))

    return sorted(set(values), key=key)


def _observed(frame: pd.DataFrame | None, name: str) -> list[str]:
    if frame is None or name not in frame:
        return []
    return natural_order(v for v in frame[name].map(as_level).dropna())


def _column_variables(config: StudyConfig, frame: pd.DataFrame | None) -> dict[str, Variable]:
    out: dict[str, Variable] = {}
    for name, spec in config.columns.items():
        kind: Kind = spec.type
        unit = None
        if spec.unit is not None:
            kind, unit = "time", config.time_unit or spec.unit
        levels: tuple[str, ...] = ()
        if spec.type == "binary":
            levels = ("0", "1")
        elif spec.type in ("category", "grade", "integer"):
            levels = tuple(spec.levels or _observed(frame, name))
        dates = frozenset({name} if spec.type == "date" else ({spec.date} if spec.date else set()))
        out[name] = Variable(name, config.label(name), kind, levels, unit, dates)
    return out


def _recode_variable(d: DerivedSpec, src: Variable, config: StudyConfig, frame: pd.DataFrame | None) -> Variable:
    mapping = d.mapping or {}
    known = list(src.levels) or _observed(frame, str(d.source))
    unknown = [k for k in mapping if k not in known]
    if unknown and (src.levels or frame is not None):
        raise ConfigurationError(
            f"derived {d.name!r}: recode key {unknown[0]!r} is not a level of {d.source!r} (levels: "
            f"{', '.join(known) or 'none present'}); fix the key or declare the levels", field=f"derived.{d.name}")
    if d.numeric:
        values = {float(v) for v in mapping.values() if v is not None}
        kind: Kind = "binary" if values <= {0.0, 1.0} else "number"
        levels = ("0", "1") if kind == "binary" else ()
        return Variable(d.name, config.label(d.name), kind, levels, None, src.dates)
    new = [as_level(mapping.get(v, v)) for v in known] + [as_level(v) for v in mapping.values()]
    return Variable(d.name, config.label(d.name), "category", tuple(dict.fromkeys(x for x in new if x is not None)),
                    None, src.dates)


def _derived_variable(d: DerivedSpec, known: dict[str, Variable], config: StudyConfig,
                      frame: pd.DataFrame | None) -> Variable:
    label = config.label(d.name)
    sources = [d.source] if isinstance(d.source, str) else list(d.source or [])
    sources += [d.start] if d.start else []
    sources += list(d.end or []) + list((d.findings or {}).values())
    missing = [s for s in sources if s not in known]
    if missing:
        raise ConfigurationError(f"derived {d.name!r} needs unknown variable(s) {missing} (a variable must be "
                                 "defined before it is used)", field=f"derived.{d.name}")
    dates = frozenset().union(*(known[s].dates for s in sources)) if sources else frozenset()
    if d.kind == "threshold":
        return Variable(d.name, label, "category", tuple(d.labels or ()), None, dates)
    if d.kind == "recode":
        return _recode_variable(d, known[str(d.source)], config, frame)
    if d.kind == "duration":
        for s in (d.start, *(d.end or [])):
            if known[str(s)].kind != "date":
                raise ConfigurationError(f"derived {d.name!r}: {s!r} is not a date", field=f"derived.{d.name}")
        return Variable(d.name, label, "time", (), d.unit or config.time_unit or "months", dates, d.start)
    if d.kind == "event":
        return Variable(d.name, label, "binary", ("0", "1"), None, dates)
    from npctrial.domain.staging import STAGE_ORDER

    if d.kind == "restage" and d.part != "stage":
        return Variable(d.name, label, "category", (), None, dates)
    return Variable(d.name, label, "category", tuple(STAGE_ORDER), None, dates)


def _check_role(plan: dict[str, Variable], name: str | None, role: str, where: str) -> None:
    if name is None:
        return
    v = plan[name]
    if role == "event" and v.kind != "binary" and not (v.kind in ("number", "integer") and set(v.levels) <= {"0", "1"}):
        hint = f" (levels {', '.join(v.levels)})" if v.levels else ""
        raise ConfigurationError(
            f"{where}: event {name!r} is a {v.kind}{hint}, not a 0/1 variable; declare it type: binary or recode "
            "it to numbers, e.g. mapping: {'Dead': 1, 'Alive': 0}", field=where)
    if role == "time" and v.kind not in ("time", "number", "integer"):
        raise ConfigurationError(f"{where}: time {name!r} is a {v.kind}, not a number of {plan_unit_hint(v)}",
                                 field=where)
    if role == "factor" and v.kind == "date":
        raise ConfigurationError(f"{where}: {name!r} is a date; use a duration or a grouping of it", field=where)


def plan_unit_hint(v: Variable) -> str:
    return v.unit or "time units"


def _check_analyses(config: StudyConfig, variables: dict[str, Variable]) -> None:
    for s in config.survival:
        _check_role(variables, s.time, "time", f"survival {s.name!r}")
        _check_role(variables, s.entry, "time", f"survival {s.name!r}")
        _check_role(variables, s.event, "event", f"survival {s.name!r}")
        _check_role(variables, s.group, "factor", f"survival {s.name!r}")
    for c in config.competing_risks:
        _check_role(variables, c.time, "time", f"competing_risks {c.name!r}")
        for e in (c.event, c.competing):
            _check_role(variables, e, "event", f"competing_risks {c.name!r}")
        _check_role(variables, c.group, "factor", f"competing_risks {c.name!r}")
    for x in config.cox_models:
        _check_role(variables, x.time, "time", f"cox {x.name!r}")
        _check_role(variables, x.entry, "time", f"cox {x.name!r}")
        _check_role(variables, x.event, "event", f"cox {x.name!r}")
        for cov in x.covariates:
            _check_role(variables, cov, "factor", f"cox {x.name!r}")
        for cov, ref in (x.reference or {}).items():
            levels = variables[cov].levels
            if levels and ref not in levels:
                raise ConfigurationError(f"cox.reference: {ref!r} is not a level of {cov!r} (levels: "
                                         f"{', '.join(levels)})", field=f"cox.reference.{cov}")
    status_specs: list[LandmarkSpec | TimeDependentSpec] = [*config.landmark, *config.time_dependent]
    for lm in status_specs:
        where = f"{'landmark' if lm in config.landmark else 'time_dependent'} {lm.name!r}"
        _check_role(variables, lm.time, "time", where)
        _check_role(variables, lm.status_time, "time", where)
        _check_role(variables, lm.event, "event", where)
        _check_role(variables, lm.status, "event", where)
    if config.association:
        a = config.association
        out = variables[a.outcome]
        if out.kind not in ("binary", "category") and not (out.kind in ("integer", "grade") and out.levels):
            raise ConfigurationError(f"association.outcome {a.outcome!r} is a {out.kind}; Table 1 needs groups "
                                     "(a 0/1 event or a category)", field="association.outcome")
        if a.outcome_labels and out.levels and not set(a.outcome_labels) <= set(out.levels):
            raise ConfigurationError(f"association.outcome_labels: {sorted(set(a.outcome_labels) - set(out.levels))} "
                                     f"are not levels of {a.outcome!r} ({', '.join(out.levels)})",
                                     field="association.outcome_labels")
        for v in a.variables:
            _check_role(variables, v, "factor", "association")


def _landmarks(config: StudyConfig, variables: dict[str, Variable], frame: pd.DataFrame | None) -> dict[str, tuple[float, ...]]:
    out: dict[str, tuple[float, ...]] = {}
    specs: list[SurvivalSpec | CompetingRiskSpec] = [*config.survival, *config.competing_risks]
    for spec in specs:
        if spec.landmarks is not None:
            out[spec.name] = tuple(float(x) for x in spec.landmarks)
            continue
        unit = variables[spec.time].unit if variables[spec.time].kind == "time" else config.time_unit
        tmax = float(pd.to_numeric(frame[spec.time], errors="coerce").max()) if frame is not None and spec.time in frame else None
        out[spec.name] = landmarks_for(unit, tmax if tmax == tmax else None)
    return out


def build_plan(config: StudyConfig, frame: pd.DataFrame | None = None) -> AnalysisPlan:
    """Resolve every variable of ``config`` (levels, kinds, units) and check the analyses' roles.

    With ``frame`` (the validated, derived cohort) levels that were not declared are the values
    present, recode keys are checked against them and default landmarks of times in unknown
    units follow the follow-up. Raises :class:`~npctrial.errors.ConfigurationError`.
    """
    variables = _column_variables(config, frame)
    for d in config.derived:
        variables[d.name] = _derived_variable(d, variables, config, frame)
        if not variables[d.name].levels and variables[d.name].kind == "category":
            variables[d.name] = Variable(**{**variables[d.name].__dict__, "levels": tuple(_observed(frame, d.name))})
    specs: list[SurvivalSpec | CompetingRiskSpec] = [*config.survival, *config.competing_risks]
    times: set[str | None] = {s.time for s in specs}
    times |= {s.entry for s in config.survival}
    for x in config.cox_models:
        times |= {x.time, x.entry}
    status_specs: list[LandmarkSpec | TimeDependentSpec] = [*config.landmark, *config.time_dependent]
    for lm in status_specs:
        times |= {lm.time, lm.status_time}
    for name, v in list(variables.items()):
        if v.kind in ("number", "integer") and name in times:
            variables[name] = Variable(**{**v.__dict__, "kind": "time", "unit": v.unit or config.time_unit})
    _check_analyses(config, variables)
    return AnalysisPlan(config, MappingProxyType(variables), MappingProxyType(_landmarks(config, variables, frame)))
