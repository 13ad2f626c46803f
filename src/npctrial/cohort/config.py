"""Study configuration: column roles, derived variables and the list of analyses (YAML + pydantic).

A config maps the cohort file's columns to typed variables (``columns``), defines derived
variables (``derived``: thresholds, recodes, durations between dates, 7th-edition stage groups),
and lists the analyses to run (``association``, ``toxicity``, ``survival``,
``competing_risks``, ``cox``). :func:`npctrial.cohort.inference.infer_config` drafts one from
the file; :func:`npctrial.cohort.plan.build_plan` turns a config into the analysis plan.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from npctrial.cohort.units import TimeUnit
from npctrial.errors import ConfigurationError

VarType = Literal["category", "number", "integer", "date", "binary", "grade"]
Scalar = str | int | float


def _level_text(value: object, where: str) -> str:
    """A level written in YAML as text: ``1`` and ``1.0`` become ``"1"``; an unquoted yes/no/on/off
    (which YAML reads as a boolean) is refused rather than guessed."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: {value!r} is a YAML boolean (unquoted yes/no/on/off/true/false); "
                         "quote the level, e.g. 'Yes'")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _levels_text(value: object, where: str) -> object:
    """A YAML list of levels as text (see :func:`_level_text`); anything else unchanged for pydantic."""
    return [_level_text(v, where) for v in value] if isinstance(value, list) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Model):
    """One column of the cohort file and what its values must be.

    ``levels`` lists a category's values in display order, the first being the reference level
    of comparisons. Dates: ``date_format`` (strftime codes, e.g. ``"%d/%m/%Y"``) or ``dayfirst``
    override the file-wide settings (see :mod:`npctrial.cohort.dates`).
    """

    column: str
    type: VarType = "category"
    levels: list[str] | None = None
    min: float | None = None
    max: float | None = None
    allow_missing: bool = False
    label: str | None = None
    date_format: str | None = None
    dayfirst: bool | None = None
    unit: TimeUnit | None = None  # a number that is a duration: its unit (converted to time_unit)
    date: str | None = None  # a 0/1 event flag: the date variable of its event (checked row by row)

    @field_validator("levels", mode="before")
    @classmethod
    def _levels_as_text(cls, value: object) -> object:
        return _levels_text(value, "levels")

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> ColumnSpec:
        if (self.date_format is not None or self.dayfirst is not None) and self.type != "date":
            raise ValueError(f"date_format/dayfirst given for column {self.column!r}, which is not of type date")
        if self.date_format is not None:
            _check_date_format(self.date_format)
        if self.unit is not None and self.type not in ("number", "integer"):
            raise ValueError(f"unit given for column {self.column!r}, which is not a number")
        if self.date is not None and self.type != "binary":
            raise ValueError(f"date given for column {self.column!r}, which is not a 0/1 (binary) event flag")
        if self.levels is not None and len(set(self.levels)) != len(self.levels):
            raise ValueError(f"levels of column {self.column!r} repeat a value: {self.levels}")
        return self


def _check_date_format(fmt: str) -> None:
    if not all(code in fmt for code in ("%d", "%m")) and "%b" not in fmt and "%B" not in fmt:
        raise ValueError(f"date_format {fmt!r} needs a day (%d) and a month (%m, %b or %B)")
    if "%Y" not in fmt and "%y" not in fmt:
        raise ValueError(f"date_format {fmt!r} needs a year (%Y or %y)")


class DerivedSpec(_Model):
    """A variable computed from others.

    kinds: ``threshold`` (source >= threshold -> labels[0], else labels[1]); ``recode``
    (mapping old -> new; numbers when every new value is a number, so ``{2: 1, 1: 0}`` makes a
    0/1 event; every key must be a level of the source; unmapped values pass through a text
    recode and are an error in a numeric one); ``duration`` (time in ``unit``, default the
    study's ``time_unit``, from ``start`` to the first non-missing of ``end``); ``event`` (1 where ``source`` date is present, else 0); ``stage_group`` (AJCC stage
    from T, N [, M] columns via :mod:`npctrial.domain.staging`, ``edition`` 7 or 8); ``restage``
    (T, N or stage group in ``edition`` derived from recorded anatomical findings, ``findings``
    mapping ``primary.<finding>``/``nodes.<finding>``/``distant_metastasis`` to columns; rows
    with a missing finding get no value).
    """

    name: str
    kind: Literal["threshold", "recode", "duration", "event", "stage_group", "restage"]
    source: str | list[str] | None = None
    threshold: float | None = None
    labels: list[str] | None = None
    mapping: dict[str, Scalar | None] | None = None
    start: str | None = None
    end: list[str] | None = None
    unit: TimeUnit | None = None
    edition: int = 7
    m_category: str = "M0"
    findings: dict[str, str] | None = None
    part: Literal["stage", "t", "n"] = "stage"
    label: str | None = None

    @field_validator("mapping", mode="before")
    @classmethod
    def _keys_as_levels(cls, value: object) -> object:
        if isinstance(value, dict):
            out: dict[str, object] = {}
            for k, v in value.items():
                out[_level_text(k, "recode key")] = None if v is None else (
                    v if isinstance(v, int | float) and not isinstance(v, bool) else _level_text(v, "recode value"))
            return out
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_text(cls, value: object) -> object:
        return _levels_text(value, "labels")

    @property
    def numeric(self) -> bool:
        """A recode whose every new value is a number (its result is numeric)."""
        values = [v for v in (self.mapping or {}).values() if v is not None]
        return bool(values) and all(isinstance(v, int | float) for v in values)

    @model_validator(mode="after")
    def _check(self) -> DerivedSpec:
        need = {
            "threshold": ("source", "threshold", "labels"),
            "recode": ("source", "mapping"),
            "duration": ("start", "end"),
            "event": ("source",),
            "stage_group": ("source",),
            "restage": ("findings",),
        }[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"derived variable {self.name!r} ({self.kind}) needs {', '.join(missing)}")
        if self.unit is not None and self.kind != "duration":
            raise ValueError(f"derived variable {self.name!r}: unit applies to durations only")
        return self


class AssociationSpec(_Model):
    """Table 1: baseline factors by the groups of ``outcome`` (a 0/1 event, or a category such as
    the treatment arm). ``outcome_labels`` maps levels to column headings, in column order (a 0/1
    outcome: ``{"1": "Yes", "0": "No"}`` by default); factors that are numbers are given as
    median (IQR)."""

    title: str = "Association of clinicopathological features with the outcome"
    outcome: str
    outcome_labels: dict[str, str] | None = None
    variables: list[str]

    @field_validator("outcome_labels", mode="before")
    @classmethod
    def _keys_as_levels(cls, value: object) -> object:
        if isinstance(value, dict):
            return {_level_text(k, "outcome_labels"): _level_text(v, "outcome_labels") for k, v in value.items()}
        return value
    trend: list[str] = Field(default_factory=list)
    fisher_below: float = 5.0


class ToxicitySpec(_Model):
    """A frequency-by-grade table (Tables 2-3)."""

    name: str
    title: str
    variables: list[str]
    grades: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])


class FrequencySpec(_Model):
    """Counts and percentages of a categorical variable, or cumulative counts of a numeric one
    at ``landmarks`` (e.g. metastatic sites; metastases within 1/2/3 years)."""

    name: str
    title: str
    variable: str
    subset: dict[str, list[str]] | None = None
    landmarks: list[float] | None = None


class SurvivalSpec(_Model):
    """Kaplan-Meier curves by group with the log-rank test and landmark rates."""

    name: str
    title: str
    time: str
    event: str
    group: str | None = None
    subset: dict[str, list[str]] | None = None
    landmarks: list[float] | None = None  # in the study's time unit; default 1, 2, 3 and 5 years
    pairwise: bool = False
    failure: bool = False  # plot 1 - S (cumulative event rate) instead of S
    entry: str | None = None  # counting-process rows: the start of each (entry, time] interval
    note: str | None = None  # printed under the table


class CompetingRiskSpec(_Model):
    """Cumulative incidence of an event with a competing event, with Gray's test."""

    name: str
    title: str
    time: str
    event: str
    competing: str
    group: str | None = None
    landmarks: list[float] | None = None  # in the study's time unit; default 1, 2, 3 and 5 years


class CoxSpec(_Model):
    """Univariate screen and multivariate Cox model (Table 4)."""

    name: str = "cox"
    title: str = "Univariate and multivariate analyses"
    time: str
    event: str
    covariates: list[str]
    categorical: list[str] = Field(default_factory=list)
    ordinal: list[str] = Field(default_factory=list)  # scored 1, 2, ... in level order (one HR per step)
    subset: dict[str, list[str]] | None = None
    multivariate: list[str] | None = None
    screen_p: float | None = None
    reference: dict[str, str] | None = None  # reference level of a categorical covariate (default: first level)
    ties: Literal["efron", "breslow", "exact"] = "efron"
    entry: str | None = None  # counting-process rows: the start of each (entry, time] interval
    note: str | None = None  # printed under the table

    @model_validator(mode="after")
    def _references_are_categorical(self) -> CoxSpec:
        wrong = [v for v in self.reference or {} if v not in self.categorical]
        if wrong:
            raise ValueError(f"cox.reference names {wrong}, which are not in cox.categorical")
        return self


class _StatusSpec(_Model):
    """An analysis of ``status`` (0/1), a status that arises during follow-up at ``status_time``
    (on the scale of ``time``), for the endpoint ``time``/``event``."""

    name: str
    title: str
    time: str
    event: str
    status: str
    status_time: str
    note: str | None = None


class LandmarkSpec(_StatusSpec):
    """Landmark analysis of a status that arises during follow-up (e.g. distant metastasis): at each
    time in ``at``, the patients alive and followed, grouped by the status arisen by then, followed
    from the landmark."""

    at: list[float] = Field(min_length=1)
    labels: dict[str, str] | None = None  # {"1": "Metastasis by the landmark", "0": "No metastasis ..."}


class TimeDependentSpec(_StatusSpec):
    """Cox model with the status as a time-dependent covariate, adjusted for ``covariates``, next
    to the same model with the status fixed at baseline."""

    covariates: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)


class StudyConfig(_Model):
    """A whole study: columns, derived variables and analyses."""

    title: str = "Cohort analysis"
    source: str | None = None
    id_column: str | None = None
    data_cutoff: str | None = None
    time_unit: TimeUnit | None = "months"  # None: times are used as they are in the file (unit unknown)
    date_format: str | None = None
    dayfirst: bool | None = None
    sheet: str | int | None = None
    header_row: int | None = Field(default=None, ge=1)
    encoding: str | None = None
    missing_values: list[str] | None = None
    rows_per_patient: Literal["one", "first", "last", "intervals"] = "one"
    order_rows_by: str | None = None
    columns: dict[str, ColumnSpec]
    derived: list[DerivedSpec] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    association: AssociationSpec | None = None
    toxicity: list[ToxicitySpec] = Field(default_factory=list)
    frequencies: list[FrequencySpec] = Field(default_factory=list)
    survival: list[SurvivalSpec] = Field(default_factory=list)
    competing_risks: list[CompetingRiskSpec] = Field(default_factory=list)
    cox: CoxSpec | list[CoxSpec] | None = None
    landmark: list[LandmarkSpec] = Field(default_factory=list)
    time_dependent: list[TimeDependentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_exist(self) -> StudyConfig:
        if self.date_format is not None:
            _check_date_format(self.date_format)
        if self.data_cutoff is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.data_cutoff):
            raise ValueError(f"data_cutoff {self.data_cutoff!r} must be written YYYY-MM-DD")
        known = set(self.columns)
        for d in self.derived:
            if d.name in known:
                raise ValueError(f"derived variable {d.name!r} has the name of a column or an earlier variable")
            known.add(d.name)
        problems: list[str] = []
        if self.rows_per_patient != "one" and self.id_column is None:
            problems.append(f"rows_per_patient: {self.rows_per_patient} needs id_column")
        if self.order_rows_by is not None and self.order_rows_by not in self.columns:
            problems.append(f"order_rows_by refers to unknown column variable {self.order_rows_by!r}")
        if self.id_column is not None and self.id_column not in self.columns:
            problems.append(f"id_column refers to unknown column variable {self.id_column!r}")
        for name, spec in self.columns.items():
            if spec.date is not None and (spec.date not in self.columns or self.columns[spec.date].type != "date"):
                problems.append(f"columns.{name}.date must name a date column variable, got {spec.date!r}")

        def need(name: str | None, where: str) -> None:
            if name is not None and name not in known:
                problems.append(f"{where} refers to unknown variable {name!r}")

        if self.association:
            need(self.association.outcome, "association.outcome")
            for v in self.association.variables + self.association.trend:
                need(v, "association.variables")
        for t in self.toxicity:
            for v in t.variables:
                need(v, f"toxicity {t.name!r}")
        for f in self.frequencies:
            for v in (f.variable, *(f.subset or {})):
                need(v, f"frequencies {f.name!r}")
        for s in self.survival:
            for v in (s.time, s.event, s.group, s.entry, *(s.subset or {})):  # type: ignore[assignment]
                need(v, f"survival {s.name!r}")
        for c in self.competing_risks:
            for v in (c.time, c.event, c.competing, c.group):  # type: ignore[assignment]
                need(v, f"competing_risks {c.name!r}")
        for x in self.cox_models:
            for v in (x.time, x.event, x.entry, *x.covariates, *(x.subset or {})):  # type: ignore[assignment]
                need(v, f"cox {x.name!r}")
        names = [x.name for x in self.cox_models]
        if len(set(names)) != len(names):
            problems.append(f"cox models need different names, got {names}")
        status_specs: list[LandmarkSpec | TimeDependentSpec] = [*self.landmark, *self.time_dependent]
        for lm in status_specs:
            covs = getattr(lm, "covariates", [])
            for v in (lm.time, lm.event, lm.status, lm.status_time, *covs):
                need(v, f"{type(lm).__name__.removesuffix('Spec').lower()} {lm.name!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def cox_models(self) -> list[CoxSpec]:
        """The Cox tables: ``cox`` as one model or a list of them."""
        if self.cox is None:
            return []
        return list(self.cox) if isinstance(self.cox, list) else [self.cox]

    def label(self, name: str) -> str:
        """Display label of a variable (config ``labels``, column label, or the name)."""
        if name in self.labels:
            return self.labels[name]
        spec = self.columns.get(name)
        if spec is not None and spec.label:
            return spec.label
        for d in self.derived:
            if d.name == name and d.label:
                return d.label
        return name


def load_config(source: str | Path | dict[str, Any]) -> StudyConfig:
    """Read and validate a study config from a YAML file path or a dict."""
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigurationError(f"config file not found: {path}", field="config")
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"config {path} is not valid YAML: {exc}", field="config") from exc
    if not isinstance(data, dict):
        raise ConfigurationError("config must be a YAML mapping", field="config")
    try:
        return StudyConfig.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigurationError(f"config {loc}: {first['msg']}", field=loc) from exc


def dump_config(config: StudyConfig) -> str:
    """The config as YAML text (defaults omitted)."""
    return yaml.safe_dump(config.model_dump(exclude_defaults=True), sort_keys=False, allow_unicode=True)
