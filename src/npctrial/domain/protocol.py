"""Trial protocols as validated data: schema (pydantic v2, frozen) and loader.

A protocol is a YAML document with: identity (id, title, version, source); the **field
catalogue** (``fields``: the patient data items the protocol uses, with type, unit, accepted
alternative units, choices and plausibility limits -- the contract the web EDC builds its forms
from); eligibility ``criteria`` (published wording verbatim + a rule expression, see
:mod:`npctrial.domain.rules`); drug ``dosing`` tables with explicit band inclusivity; the
``follow_up`` visit plan; the ``schedule`` of assessments (:mod:`npctrial.domain.schedule`); ``endpoints``; ``randomisation`` and its ``blinding`` (:mod:`npctrial.domain.blinding`); an optional ``simon`` design; and the
subject-ID pattern. The field catalogue item and its value coercion live in
:mod:`npctrial.domain.protocol_fields` (``FieldSpec`` is re-exported here).

Protocols shipped with the package live in ``npctrial/domain/protocols/<id>.yaml`` and are
loaded by name (``load_protocol("imrt-s1")``); any other file is loaded by path.

Loading
1. Read YAML (syntax errors -> :class:`ProtocolError`).
2. Validate the structure with pydantic; every problem is kept with its path
   (``criteria[3].kind: Input should be 'inclusion' or 'exclusion'``).
3. Check the semantics that pydantic cannot see, again with paths: unique ids and field names,
   every rule parses and uses only catalogued fields, declared criterion fields match the rule,
   dose bands ordered without gaps or overlaps, visit periods contiguous, stratification factors
   are catalogued fields, randomisation ratio matches the arms.
4. Raise one :class:`ProtocolError` listing every problem, or return the frozen :class:`Protocol`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from npctrial.domain.access import AccessSpec, access_problems
from npctrial.domain.blinding import Blinding, blinding_problems
from npctrial.domain.declared_forms import DeclaredForm, declared_form_problems
from npctrial.domain.edit_checks import EditCheck, edit_check_problems
from npctrial.domain.localised_text import LocalisedStr
from npctrial.domain.protocol_fields import FieldSpec
from npctrial.domain.rules import Rule, parse_rule
from npctrial.domain.schedule import Schedule, schedule_problems
from npctrial.domain.treatment_rules import TreatmentRules
from npctrial.errors import ProtocolError, ValidationError
from npctrial.messages import Message, message, message_list, problem_at

__all__ = [
    "Arm",
    "Criterion",
    "DoseBand",
    "DoseTable",
    "EndpointSpec",
    "FieldSpec",
    "FollowUpPlan",
    "Protocol",
    "Randomisation",
    "SimonDesign",
    "VisitPeriod",
    "available_protocols",
    "load_protocol",
    "parse_protocol",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Criterion(_Frozen):
    """An eligibility criterion: published wording verbatim and the rule that decides it."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    kind: Literal["inclusion", "exclusion"]
    wording: LocalisedStr  # published English, optional translations ({en: ..., zh: ...})
    rule: str = Field(min_length=1)
    fields: tuple[str, ...] = ()
    note: str | None = None

    def compiled(self) -> Rule:
        """The parsed rule (checked again against the protocol when the protocol loads)."""
        return parse_rule(self.rule)


class DoseBand(_Frozen):
    """A flat-dose band on body-surface area with explicit bound inclusivity (None = open)."""

    lower: float | None
    lower_inclusive: bool = True
    upper: float | None
    upper_inclusive: bool = False
    mg_per_dose: float = Field(gt=0)
    doses_per_day: int = Field(default=1, ge=1)

    def contains(self, bsa: float) -> bool:
        """Whether ``bsa`` (m2) falls in this band."""
        if self.lower is not None and (
            bsa < self.lower or (bsa == self.lower and not self.lower_inclusive)
        ):
            return False
        return not (
            self.upper is not None
            and (bsa > self.upper or (bsa == self.upper and not self.upper_inclusive))
        )


class DoseTable(_Frozen):
    """BSA-banded dosing of one drug, with the wording it was taken from."""

    drug: str
    basis: Literal["bsa"] = "bsa"
    bands: tuple[DoseBand, ...] = Field(min_length=1)
    schedule: LocalisedStr | None = None
    wording: LocalisedStr | None = None
    ambiguous_boundaries: tuple[float, ...] = ()
    note: str | None = None


class VisitPeriod(_Frozen):
    """Visits every ``interval_months`` from ``from_month`` (exclusive) to ``to_month`` (inclusive).

    ``to_month: null`` means open-ended (bounded by the plan's ``horizon_months``).
    """

    from_month: float = Field(ge=0)
    to_month: float | None
    interval_months: float = Field(gt=0)
    window_before_days: int = Field(ge=0)
    window_after_days: int = Field(ge=0)


class FollowUpPlan(_Frozen):
    """Follow-up visit plan; offsets are ``round(month * month_days)`` days from the anchor."""

    anchor: Literal["rt_end", "enrolment", "randomisation", "ccrt_end"]
    periods: tuple[VisitPeriod, ...] = Field(min_length=1)
    month_days: float = Field(default=30.4375, gt=0)
    horizon_months: float = Field(default=120, gt=0)
    wording: LocalisedStr | None = None
    source: str | None = None


EventName = Literal["progression", "local_failure", "regional_failure", "distant_failure", "death"]


class EndpointSpec(_Frozen):
    """An endpoint definition (see :mod:`npctrial.domain.endpoints`)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    label: LocalisedStr
    kind: Literal["time_to_event", "proportion"]
    primary: bool = False
    events: tuple[EventName, ...] = ()
    origin: Literal["enrolment", "randomisation", "rt_start", "rt_end"] = "enrolment"
    censoring: Literal["last_adequate_assessment", "last_contact"] | None = None
    convention: Literal["composite", "site_only"] = "composite"
    min_grade: int | None = Field(default=None, ge=1, le=5)
    wording: LocalisedStr | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EndpointSpec:
        if self.kind == "time_to_event" and not self.events:
            raise ValueError(message("protocol.endpoint_needs_events", "a time_to_event endpoint needs 'events'"))
        if self.kind == "proportion" and self.min_grade is None:
            raise ValueError(message("protocol.endpoint_needs_min_grade",
                                     "a proportion (AE-rate) endpoint needs 'min_grade'"))
        return self


class Arm(_Frozen):
    code: str
    label: LocalisedStr


class Randomisation(_Frozen):
    """Allocation: arms, ratio, stratification factors (catalogued fields) and method."""

    arms: tuple[Arm, ...] = Field(min_length=2)
    ratio: tuple[int, ...]
    stratification: tuple[str, ...] = ()
    method: Literal["minimisation", "permuted_block"]
    block_sizes: tuple[int, ...] = ()
    at_enrolment: bool = False  # randomise automatically when a subject is enrolled
    source: str | None = None


class SimonDesign(_Frozen):
    """Simon two-stage design parameters (reject after stage 1 if responses <= r1, etc.)."""

    p0: float = Field(gt=0, lt=1)
    p1: float = Field(gt=0, lt=1)
    alpha: float = Field(gt=0, lt=1)
    power: float = Field(gt=0, lt=1)
    n1: int = Field(ge=1)
    r1: int = Field(ge=0)
    n: int = Field(ge=1)
    r: int = Field(ge=0)
    variant: Literal["optimal", "minimax", "other"] = "optimal"


class Protocol(_Frozen):
    """A validated trial protocol (load with :func:`load_protocol`)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: LocalisedStr
    version: str
    source: str
    design: str | None = None
    stage_edition: Literal[7, 8] = 8
    #: placeholders {study} (the study code), {site} (the site code), {seq} (1, 2, ... per study and site);
    #: IDs are unique across studies, so a pattern names its study (a literal prefix or {study}).
    subject_id_pattern: str = "{study}-{site}-{seq:03d}"
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    dosing: tuple[DoseTable, ...] = ()
    follow_up: FollowUpPlan | None = None
    schedule: Schedule | None = None
    forms: tuple[DeclaredForm, ...] = ()  # protocol-declared forms (npctrial.domain.declared_forms)
    edit_checks: tuple[EditCheck, ...] = ()  # trial-specific, on top of the generic ones (domain.edit_checks)
    treatment_rules: TreatmentRules | None = None  # BSA rounding, deviation reasons, SAE window
    access: AccessSpec | None = None  # per-form access and export levels (npctrial.domain.access)
    endpoints: tuple[EndpointSpec, ...] = ()
    randomisation: Randomisation | None = None
    blinding: Blinding | None = None
    simon: SimonDesign | None = None
    notes: tuple[str, ...] = ()

    def field(self, name: str) -> FieldSpec:
        """The catalogued field ``name`` (ValidationError if the protocol has none)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise ValidationError(message("protocol.no_field", "protocol %(protocol)s has no field %(name)s",
                                      protocol=repr(self.id), name=repr(name)), field=name)

    def form(self, form_id: str) -> DeclaredForm:
        """The protocol-declared form ``form_id`` (ValidationError if the protocol has none)."""
        for declared in self.forms:
            if declared.id == form_id:
                return declared
        raise ValidationError(message("protocol.no_form", "protocol %(protocol)s has no declared form %(form)s",
                                      protocol=repr(self.id), form=repr(form_id)), field="form")

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise ValidationError(message("protocol.no_criterion", "protocol %(protocol)s has no criterion %(criterion)s",
                                      protocol=repr(self.id), criterion=repr(criterion_id)), field="criterion")

    def endpoint(self, name: str) -> EndpointSpec:
        for e in self.endpoints:
            if e.name == name:
                return e
        raise ValidationError(message("protocol.no_endpoint", "protocol %(protocol)s has no endpoint %(name)s",
                                      protocol=repr(self.id), name=repr(name)), field="endpoint")

    def dose_table(self, drug: str) -> DoseTable:
        for table in self.dosing:
            if table.drug.lower() == drug.lower():
                return table
        raise ValidationError(message("protocol.no_dose_table", "protocol %(protocol)s has no dose table for %(drug)s",
                                      protocol=repr(self.id), drug=repr(drug)), field="drug")

    def format_subject_id(self, site: str | int, seq: int, study: str | None = None) -> str:
        """Subject identifier from the protocol pattern, e.g. ``IMRT-01-007`` (``study`` default: the protocol id)."""
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValidationError(message("protocol.seq_invalid", "seq must be a positive integer, got %(value)s",
                                          value=repr(seq)), field="seq")
        return self.subject_id_pattern.format(site=site, seq=seq, study=self.id if study is None else study)

    def coerce_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values for the catalogued fields present in ``record`` (others are ignored)."""
        if not isinstance(record, Mapping):
            raise ValidationError(message("protocol.record_not_mapping", "patient record must be a mapping, got "
                                          "%(type)s", type=type(record).__name__))
        return {spec.name: spec.coerce(record.get(spec.name)) for spec in self.fields}


# --------------------------------------------------------------------------- loading


def _protocol_dir() -> Any:
    return resources.files("npctrial.domain").joinpath("protocols")


def available_protocols() -> tuple[str, ...]:
    """Names of the protocols shipped with the package."""
    return tuple(
        sorted(
            p.name[: -len(".yaml")] for p in _protocol_dir().iterdir() if p.name.endswith(".yaml")
        )
    )


def load_protocol(name_or_path: str | Path) -> Protocol:
    """Load a shipped protocol by name (``"imrt-s1"``) or any protocol YAML by path."""
    path = Path(name_or_path)
    text: str
    origin: str
    if isinstance(name_or_path, Path) or path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ProtocolError(message("protocol.file_not_found", "protocol file not found: %(path)s", path=str(path)),
                                field="protocol")
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        name = str(name_or_path)
        resource = _protocol_dir().joinpath(f"{name}.yaml")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or not resource.is_file():
            raise ProtocolError(message("protocol.unknown", "unknown protocol %(name)s (available: %(available)s)",
                                        name=repr(name), available=available_protocols()), field="protocol")
        text, origin = resource.read_text(encoding="utf-8"), name
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolError(message("protocol.not_yaml", "%(origin)s: not valid YAML: %(error)s", origin=origin,
                                    error=str(exc)), field="protocol") from exc
    return parse_protocol(data, origin=origin)


def parse_protocol(data: Any, *, origin: str = "protocol") -> Protocol:
    """Validate a protocol mapping (steps 2-4 of the module docstring)."""
    if not isinstance(data, Mapping):
        raise ProtocolError(message("protocol.not_a_mapping", "%(origin)s: a protocol must be a mapping, got %(type)s",
                                    origin=origin, type=type(data).__name__))
    problems: list[Message] = []
    protocol: Protocol | None = None
    try:
        protocol = Protocol.model_validate(dict(data))
    except PydanticValidationError as exc:
        problems.extend(_schema_problem(err) for err in exc.errors())
    problems.extend(_semantic_problems(data))
    if problems:
        unique = list({str(p): p for p in problems}.values())
        raise ProtocolError(message("protocol.problems", "%(origin)s: %(count)s problem(s): %(problems)s",
                                    origin=origin, count=len(unique), problems=message_list(unique)),
                            field="protocol", problems=unique)
    assert protocol is not None
    # Criteria list the fields they read (with units from the catalogue): fill them from the rule.
    criteria = tuple(
        c if c.fields else c.model_copy(update={"fields": c.compiled().fields})
        for c in protocol.criteria
    )
    return protocol.model_copy(update={"criteria": criteria})


def _schema_problem(err: Mapping[str, Any]) -> Message:
    """A pydantic error with its path: our own message when a validator raised one, else pydantic's text."""
    error = (err.get("ctx") or {}).get("error")
    coded = error.message if isinstance(error, ValidationError) else (
        error.args[0] if isinstance(error, ValueError) and error.args and isinstance(error.args[0], Message) else None)
    if err.get("type") == "value_error" and coded is not None:
        return message("protocol.schema_value_error", "%(path)s: Value error, %(problem)s", path=_loc(err["loc"]),
                       problem=coded)
    return problem_at(_loc(err["loc"]), err["msg"])


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or part in ("tuple[str, ...]",):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _semantic_problems(data: Mapping[str, Any]) -> list[Message]:
    problems: list[Message] = []
    names: set[str] = set()
    for i, spec in enumerate(_as_list(data.get("fields"))):
        name = spec.get("name") if isinstance(spec, Mapping) else None
        if isinstance(name, str):
            if name in names:
                problems.append(message("protocol.duplicate_field", "%(path)s: duplicate field %(name)s",
                                        path=f"fields[{i}].name", name=repr(name)))
            names.add(name)

    ids: set[str] = set()
    for i, crit in enumerate(_as_list(data.get("criteria"))):
        if not isinstance(crit, Mapping):
            continue
        cid = crit.get("id")
        if isinstance(cid, str):
            if cid in ids:
                problems.append(message("protocol.duplicate_criterion", "%(path)s: duplicate criterion id %(id)s",
                                        path=f"criteria[{i}].id", id=repr(cid)))
            ids.add(cid)
        rule_text = crit.get("rule")
        if not isinstance(rule_text, str) or not rule_text.strip():
            continue
        try:
            rule = parse_rule(rule_text, known_fields=frozenset(names))
        except ValidationError as exc:
            problems.append(problem_at(f"criteria[{i}].rule", exc.message or str(exc)))
            continue
        declared = crit.get("fields")
        if isinstance(declared, list | tuple) and declared and set(declared) != set(rule.fields):
            problems.append(message(
                "protocol.criterion_fields_mismatch", "%(path)s: [%(declared)s] do not match the fields the rule uses "
                "[%(used)s]", path=f"criteria[{i}].fields", declared=tuple(repr(f) for f in sorted(declared)),
                used=tuple(repr(f) for f in sorted(rule.fields))))

    for t, table in enumerate(_as_list(data.get("dosing"))):
        if isinstance(table, Mapping):
            problems.extend(_band_problems(f"dosing[{t}].bands", _as_list(table.get("bands"))))

    fu = data.get("follow_up")
    if isinstance(fu, Mapping):
        periods = [p for p in _as_list(fu.get("periods")) if isinstance(p, Mapping)]
        for j in range(1, len(periods)):
            prev_to, cur_from = periods[j - 1].get("to_month"), periods[j].get("from_month")
            if prev_to is None:
                problems.append(message("protocol.open_period_not_last", "%(path)s: only the last period may be "
                                        "open-ended", path=f"follow_up.periods[{j - 1}].to_month"))
            elif cur_from != prev_to:
                problems.append(message("protocol.periods_not_contiguous", "%(path)s: must equal the previous "
                                        "to_month (%(previous)s), got %(value)s", path=f"follow_up.periods[{j}].from_month",
                                        previous=str(prev_to), value=str(cur_from)))

    rnd = data.get("randomisation")
    if isinstance(rnd, Mapping):
        arms, ratio = _as_list(rnd.get("arms")), _as_list(rnd.get("ratio"))
        if arms and ratio and len(arms) != len(ratio):
            problems.append(message("protocol.ratio_arms_mismatch", "randomisation.ratio: %(count)s numbers for "
                                    "%(arms)s arms", count=len(ratio), arms=len(arms)))
        for k, factor in enumerate(_as_list(rnd.get("stratification"))):
            if factor not in names:
                problems.append(message("protocol.unknown_stratification_field", "%(path)s: unknown field %(name)s",
                                        path=f"randomisation.stratification[{k}]", name=repr(factor)))
        if rnd.get("method") == "permuted_block" and not _as_list(rnd.get("block_sizes")):
            problems.append(message("protocol.block_sizes_required",
                                    "randomisation.block_sizes: permuted_block needs block sizes"))
    problems.extend(schedule_problems(data))
    problems.extend(declared_form_problems(data))
    problems.extend(edit_check_problems(data))
    problems.extend(access_problems(data))
    problems.extend(blinding_problems(data))
    problems.extend(_subject_id_pattern_problems(data.get("subject_id_pattern")))
    return problems


_ID_PLACEHOLDERS = frozenset({"study", "site", "seq"})


def _subject_id_pattern_problems(pattern: Any) -> list[Message]:
    """The subject-ID pattern uses only {study}, {site}, {seq}, includes {seq} and formats."""
    if pattern is None or not isinstance(pattern, str):
        return []  # absent: the default; not text: reported by pydantic
    try:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None}
        unknown = sorted(names - _ID_PLACEHOLDERS)
        if not unknown:
            pattern.format(study="s", site="GZ", seq=1)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        return [message("protocol.subject_id_pattern_invalid", "subject_id_pattern: %(pattern)s cannot be formatted "
                        "(%(error)s)", pattern=repr(pattern), error=str(exc))]
    problems = [message("protocol.subject_id_unknown_placeholder", "subject_id_pattern: unknown placeholder "
                        "{%(name)s} (use {study}, {site}, {seq})", name=n) for n in unknown]
    if "seq" not in names:
        problems.append(message("protocol.subject_id_needs_seq",
                                "subject_id_pattern: needs {seq} (IDs within a site are numbered)"))
    return problems


def _band_problems(path: str, bands: list[Any]) -> list[Message]:
    problems: list[Message] = []
    good = [b for b in bands if isinstance(b, Mapping)]
    if len(good) != len(bands) or not good:
        return problems
    if good[0].get("lower") is not None:
        problems.append(message("protocol.first_band_not_open", "%(path)s: the first band must be open below "
                                "(lower: null)", path=f"{path}[0].lower"))
    if good[-1].get("upper") is not None:
        problems.append(message("protocol.last_band_not_open", "%(path)s: the last band must be open above "
                                "(upper: null)", path=f"{path}[{len(good) - 1}].upper"))
    for j in range(1, len(good)):
        prev, cur = good[j - 1], good[j]
        if prev.get("upper") != cur.get("lower"):
            problems.append(message("protocol.bands_not_contiguous", "%(path)s: must equal the previous band's upper "
                                    "(%(upper)s), got %(lower)s", path=f"{path}[{j}].lower",
                                    upper=str(prev.get("upper")), lower=str(cur.get("lower"))))
        elif bool(prev.get("upper_inclusive", False)) == bool(cur.get("lower_inclusive", True)):
            params = {"path": f"{path}[{j}].lower_inclusive", "band": j - 1, "next": j, "bound": str(cur.get("lower"))}
            problems.append(
                message("protocol.bands_both_include", "%(path)s: bands %(band)s and %(next)s both include "
                        "%(bound)s", **params) if prev.get("upper_inclusive", False) else
                message("protocol.bands_neither_includes", "%(path)s: bands %(band)s and %(next)s neither includes "
                        "%(bound)s", **params))
    return problems
