"""Protocol-declared forms (YAML ``forms:``): trial-specific data declared as data, not code.

A protocol may declare its own case report forms (a quality-of-life questionnaire, a plasma EBV
DNA series, weekly weight and nutrition during CCRT) next to the typed CRFs of the EDC::

    forms:
      - id: nutrition
        label: {en: "Weight and nutrition", zh: "体重与营养"}
        date_field: assessment_date
        fields:
          - {name: assessment_date, label: "Date of assessment", type: date, required: true}
          - {name: weight_kg, label: "Weight", type: number, unit: kg, min: 25, max: 250, required: true}
          - {name: weight_change_pct, label: "Change from baseline", type: number, unit: "%",
             calculate: "round((weight_kg - baseline_weight_kg) / baseline_weight_kg * 100, 1)"}
          - {name: feeding_tube, label: "Feeding tube", type: boolean, required: true}
          - {name: tube_type, label: "Tube type", type: choice, show_if: "feeding_tube", required: true,
             choices: [{code: ng, label: "Nasogastric"}, {code: peg, label: "PEG"}]}

A field is a catalogue field (:class:`~npctrial.domain.protocol_fields.FieldSpec`: name, label,
type, unit, accepted units, min/max, usual range, help) with ``required``, ``show_if`` (shown
only when the expression is true) and ``calculate`` (a derived value, never entered). Types:
number, integer (``int``), text, date, choice, boolean (``bool``); choices are codes, or
``{code, label}`` mappings with localised labels.

Expressions are the safe rule language of eligibility (:mod:`npctrial.domain.rules`). They may
read the fields declared *before* them in the same form and the subject context the EDC provides
(:data:`FORM_CONTEXT_NAMES`); so there are no cycles, and a missing value makes the expression
undecided: an undecided ``show_if`` hides the field, an undecided ``calculate`` leaves it empty.

Validation of a submission (:func:`check_form_values`), field by field in declaration order:

1. The submission is a mapping of declared field names (an unknown name is an error).
2. ``show_if`` is evaluated on the values so far (context first, then the fields before it).
3. A hidden field must be empty, and is stored empty.
4. A calculated field must not be submitted; its value is computed (a number, a whole number or
   true/false as its type says) and left empty when its inputs are missing.
5. A shown entered field: empty (``None`` or blank text) is an error when ``required``; else the
   value is coerced like a catalogue field (type, unit conversion, min/max; outside the usual range
   is a warning kept in the result); text is at most ``max_length`` characters, without NUL.
6. Every field is checked, a refused one reading as missing for the fields after it; one refusal
   is raised as it is, several together as :class:`~npctrial.errors.FieldErrors` (a form shows
   all its problems at once, as REDCap and OpenClinica do).

Every problem raises :class:`~npctrial.errors.ValidationError` naming the field.
Load-time checks (:func:`declared_form_problems`) name the YAML path of each problem.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from npctrial.domain.localised_text import LocalisedStr, field_ref
from npctrial.domain.protocol_fields import FieldSpec
from npctrial.domain.rules import MISSING, Rule, parse_rule
from npctrial.errors import ClinicalWarning, FieldErrors, ValidationError
from npctrial.messages import Message, message

__all__ = ["FORM_CONTEXT_NAMES", "DeclaredForm", "FormField", "FormPreview", "FormValues", "check_form_values",
           "declared_form_problems", "preview_form"]

#: Subject-level names a declared form's expressions may read (the EDC provides them).
FORM_CONTEXT_NAMES = frozenset({"baseline_weight_kg", "baseline_height_cm", "enrolment_date", "rt_start", "rt_end"})

_IDENT = r"^[a-z][a-z0-9_]*$"
_TYPE_ALIASES = {"integer": "int", "boolean": "bool"}
#: Longest text a text field takes unless it declares ``max_length``.
DEFAULT_TEXT_LENGTH = 500


class FormField(FieldSpec):
    """One field of a declared form: a catalogue field with ``required``, ``show_if``, ``calculate``."""

    required: bool = False
    show_if: str | None = None
    calculate: str | None = None
    choice_labels: dict[str, LocalisedStr] = Field(default_factory=dict)
    max_length: int | None = Field(default=None, ge=1, le=5000)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        """``integer``/``boolean`` spellings; choices given as ``{code, label}`` mappings."""
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        if isinstance(out.get("type"), str):
            out["type"] = _TYPE_ALIASES.get(out["type"], out["type"])
        choices = out.get("choices")
        if isinstance(choices, list | tuple) and any(isinstance(c, Mapping) for c in choices):
            if not all(isinstance(c, Mapping) and set(c) == {"code", "label"} for c in choices):
                raise ValueError(message("form_spec.mixed_choices", "choices are all codes or all {code, label} mappings"))
            out["choices"] = [c["code"] for c in choices]
            out["choice_labels"] = {str(c["code"]): c["label"] for c in choices}
        return out

    @model_validator(mode="after")
    def _form_consistent(self) -> FormField:
        if self.calculate is not None:
            if self.type not in ("number", "int", "bool"):
                raise ValueError(message("form_spec.calculated_type",
                                         "a calculated field is a number, an integer or a boolean"))
            if self.required or self.conversions:
                raise ValueError(message("form_spec.calculated_entered",
                                         "a calculated field is never entered: no 'required', no 'conversions'"))
        if self.max_length is not None and self.type != "text":
            raise ValueError(message("form_spec.max_length_not_text", "'max_length' is for text fields"))
        for text in (self.show_if, self.calculate):
            if text is not None:
                parse_rule(text)  # the syntax; names are checked against the form (declared_form_problems)
        return self

    @property
    def calculated(self) -> bool:
        return self.calculate is not None

    def choice_label(self, code: str) -> str:
        """The label of a choice code (the code itself when none is declared)."""
        return self.choice_labels.get(code, code)


class DeclaredForm(BaseModel):
    """A protocol-declared form: id, label, the date that places a record in the schedule, fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_IDENT, max_length=30)
    label: LocalisedStr
    help: LocalisedStr | None = None
    date_field: str = Field(pattern=_IDENT)
    fields: tuple[FormField, ...] = Field(min_length=1, max_length=100)
    source: str | None = None

    def field(self, name: str) -> FormField:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise ValidationError(message("form.unknown_field", "form %(form)s has no field %(name)s", form=repr(self.id),
                                      name=repr(name)), field=name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def entered(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if not f.calculated)

    @property
    def calculated(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.calculated)

    @cached_property
    def _rules(self) -> dict[tuple[str, str], Rule]:
        return {(f.name, kind): parse_rule(text) for f in self.fields
                for kind, text in (("show_if", f.show_if), ("calculate", f.calculate)) if text is not None}

    def rule(self, name: str, kind: str) -> Rule | None:
        """The parsed ``show_if`` or ``calculate`` of field ``name`` (None when it has none)."""
        return self._rules.get((name, kind))


@dataclass(frozen=True)
class FormValues:
    """A checked submission: typed entered values and calculated values (None = empty), hidden fields."""

    form: str
    values: Mapping[str, Any]
    calculated: Mapping[str, Any]
    hidden: tuple[str, ...]
    warnings: tuple[str, ...]

    def as_json(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Entered and calculated values as JSON values (dates as ISO text)."""
        return _jsonable(self.values), _jsonable(self.calculated)


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def _error(code: str, template: str, spec: FormField, **params: Any) -> ValidationError:
    return ValidationError(message(code, template, field=field_ref(spec.name, spec.label), **params), field=spec.name)


def _is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _shown(form: DeclaredForm, spec: FormField, namespace: Mapping[str, Any]) -> bool:
    rule = form.rule(spec.name, "show_if")
    return rule is None or rule.evaluate(namespace) is True


def _calculate(form: DeclaredForm, spec: FormField, namespace: Mapping[str, Any]) -> Any:
    """Step 4: the value of a calculated field (None when an input is missing)."""
    rule = form.rule(spec.name, "calculate")
    assert rule is not None
    try:
        value = rule.compute(namespace)
    except ValidationError as exc:  # e.g. a division by zero: named on the calculated field
        raise _error("form.calculation_failed", "%(field)s could not be calculated: %(reason)s", spec,
                     reason=exc.message or str(exc)) from exc
    if value is MISSING:
        return None
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if spec.type == "number":
            return float(value)
        if value == int(value):
            return int(value)
    raise _error("form.calculation_type", "%(field)s: the calculation gave %(value)s, not a %(type)s", spec,
                 value=repr(value), type=spec.type)


def _coerce(spec: FormField, raw: Any, notes: list[str]) -> Any:
    """Step 5 for a non-empty value: the catalogue coercion, text limits, warnings kept."""
    if spec.type == "text":
        if not isinstance(raw, str):
            raise _error("form.not_text", "%(field)s must be text, got %(value)s", spec, value=repr(raw))
        limit = spec.max_length or DEFAULT_TEXT_LENGTH
        if "\x00" in raw or len(raw.strip()) > limit:
            raise _error("form.text_too_long", "%(field)s must be text of at most %(limit)s characters "
                         "(no NUL)", spec, limit=str(limit))
        return raw.strip()
    if isinstance(raw, str):
        raw = raw.strip()
    if isinstance(raw, list | tuple | set | dict) and not isinstance(raw, Mapping):
        raise _error("form.not_a_value", "%(field)s must be one value, got %(value)s", spec, value=repr(raw)[:80])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClinicalWarning)
        value = spec.coerce(raw)
    notes.extend(str(w.message) for w in caught if issubclass(w.category, ClinicalWarning))
    return value


def _check_names(form: DeclaredForm, submitted: Any) -> None:
    """Step 1 (and the 'never submitted' half of step 4)."""
    if not isinstance(submitted, Mapping):
        raise ValidationError(message("form.not_a_mapping", "the values of form %(form)s must be a mapping of "
                                      "field names", form=form.id), field="values")
    names = set(form.field_names)
    for key in submitted:
        if not isinstance(key, str) or key not in names:
            raise ValidationError(message("form.unknown_field", "form %(form)s has no field %(name)s",
                                          form=form.id, name=repr(key)[:60]), field=str(key)[:60])
        spec = form.field(key)
        if spec.calculated and not _is_empty(submitted[key]):
            raise _error("form.calculated_not_entered", "%(field)s is calculated, not entered", spec)


_HIDDEN = object()  #: what :func:`_field_value` gives for a field its condition hides


def _field_value(form: DeclaredForm, spec: FormField, raw: Any, namespace: Mapping[str, Any],
                 notes: list[str]) -> Any:
    """Steps 2-5 for one field: its value, _HIDDEN, or a ValidationError naming it."""
    if not _shown(form, spec, namespace):
        if not spec.calculated and not _is_empty(raw):
            raise _error("form.hidden_not_empty", "%(field)s must be empty: it is asked only when "
                         "%(condition)s", spec, condition=spec.show_if)
        return _HIDDEN
    if spec.calculated:
        return _calculate(form, spec, namespace)
    if _is_empty(raw):
        if spec.required:
            raise _error("form.required", "%(field)s is required", spec)
        return None
    return _coerce(spec, raw, notes)


def check_form_values(form: DeclaredForm, submitted: Mapping[str, Any],
                      context: Mapping[str, Any] | None = None) -> FormValues:
    """Check one submission of ``form`` (steps 1-5 of the module docstring).

    ``context`` holds the subject values the expressions may read (:data:`FORM_CONTEXT_NAMES`;
    absent or None = missing). Raises :class:`ValidationError` naming the field, or
    :class:`~npctrial.errors.FieldErrors` with one error per field when several are refused.
    """
    _check_names(form, submitted)
    namespace: dict[str, Any] = {k: v for k, v in (context or {}).items() if k in FORM_CONTEXT_NAMES}
    values: dict[str, Any] = {}
    calculated: dict[str, Any] = {}
    hidden: list[str] = []
    notes: list[str] = []
    problems: list[ValidationError] = []
    for spec in form.fields:
        try:
            value = _field_value(form, spec, submitted.get(spec.name), namespace, notes)
        except ValidationError as exc:  # every field is checked: the form shows all its problems at once
            problems.append(exc)
            value = None  # a refused value reads as missing for the fields after it
        if value is _HIDDEN:
            value = None
            hidden.append(spec.name)
        (calculated if spec.calculated else values)[spec.name] = value
        namespace[spec.name] = value
    if len(problems) > 1:
        raise FieldErrors(problems)
    if problems:
        raise problems[0]
    return FormValues(form.id, values, calculated, tuple(hidden), tuple(notes))


@dataclass(frozen=True)
class FormPreview:
    """What a form being typed shows now: the hidden fields and the calculated values (None = empty)."""

    hidden: tuple[str, ...]
    calculated: Mapping[str, Any]


def preview_form(form: DeclaredForm, submitted: Mapping[str, Any],
                 context: Mapping[str, Any] | None = None) -> FormPreview:
    """Steps 2-4 of :func:`check_form_values` on a partial submission, never raising.

    For live branching while a form is typed: a value that does not pass its field's check counts
    as missing (so a ``show_if`` reading it is undecided and hides, a calculation leaves it empty);
    unknown names are ignored. Saving still goes through :func:`check_form_values`.
    """
    namespace: dict[str, Any] = {k: v for k, v in (context or {}).items() if k in FORM_CONTEXT_NAMES}
    values = submitted if isinstance(submitted, Mapping) else {}
    hidden: list[str] = []
    calculated: dict[str, Any] = {}
    for spec in form.fields:
        value: Any = None
        if not _shown(form, spec, namespace):
            hidden.append(spec.name)
        elif spec.calculated:
            try:
                value = _calculate(form, spec, namespace)
            except ValidationError:
                value = None
            calculated[spec.name] = value
        elif not _is_empty(values.get(spec.name)):
            try:
                value = _coerce(spec, values.get(spec.name), [])
            except ValidationError:
                value = None
        if spec.calculated and spec.name in hidden:
            calculated[spec.name] = None
        namespace[spec.name] = value
    return FormPreview(tuple(hidden), calculated)


# --------------------------------------------------------------------------- load-time checks


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _field_problems(path: str, fields: list[Any]) -> list[Message]:
    """Unique names, no context names, expressions reading earlier fields and the context only."""
    problems: list[Message] = []
    earlier: set[str] = set()
    for j, spec in enumerate(fields):
        if not isinstance(spec, Mapping):
            continue
        name = spec.get("name")
        if name in earlier:
            problems.append(message("protocol.duplicate_field", "%(path)s: duplicate field %(name)s",
                                    path=f"{path}[{j}].name", name=repr(name)))
        if name in FORM_CONTEXT_NAMES:
            problems.append(message("form_spec.context_name", "%(path)s: %(name)s is a subject context name",
                                    path=f"{path}[{j}].name", name=repr(name)))
        for kind in ("show_if", "calculate"):
            text = spec.get(kind)
            if not isinstance(text, str) or not text.strip():
                continue
            try:
                parse_rule(text, known_fields=frozenset(earlier | FORM_CONTEXT_NAMES))
            except ValidationError as exc:
                problems.append(message("form_spec.expression_problem", "%(path)s: %(problem)s (an expression reads "
                                        "the fields declared before it and %(context)s)", path=f"{path}[{j}].{kind}",
                                        problem=exc.message or str(exc), context=tuple(sorted(FORM_CONTEXT_NAMES))))
        if isinstance(name, str):
            earlier.add(name)
    return problems


def _date_field_problems(path: str, form: Mapping[str, Any]) -> list[Message]:
    date_field = form.get("date_field")
    spec = next((f for f in _as_list(form.get("fields")) if isinstance(f, Mapping) and f.get("name") == date_field),
                None)
    if date_field is None:
        return []
    if spec is None:
        return [message("form_spec.date_field_unknown", "%(path)s: %(name)s is not a field of the form",
                        path=f"{path}.date_field", name=repr(date_field))]
    if spec.get("type") != "date" or spec.get("required") is not True or spec.get("show_if") or spec.get("calculate"):
        return [message("form_spec.date_field_not_required_date", "%(path)s: %(name)s must be a required date field, "
                        "always shown", path=f"{path}.date_field", name=repr(date_field))]
    return []


def declared_form_problems(data: Mapping[str, Any]) -> list[Message]:
    """Problems of ``forms:`` in a raw protocol mapping that pydantic cannot see, with their paths."""
    from npctrial.domain.schedule import STANDARD_FORMS

    problems: list[Message] = []
    ids: set[str] = set()
    for i, form in enumerate(_as_list(data.get("forms"))):
        if not isinstance(form, Mapping):
            continue
        fid = form.get("id")
        if fid in STANDARD_FORMS:
            problems.append(message("form_spec.standard_form_id", "%(path)s: %(form)s is a standard form of the EDC",
                                    path=f"forms[{i}].id", form=repr(fid)))
        elif fid in ids:
            problems.append(message("form_spec.duplicate_form", "%(path)s: duplicate form %(form)s",
                                    path=f"forms[{i}].id", form=repr(fid)))
        if isinstance(fid, str):
            ids.add(fid)
        problems.extend(_field_problems(f"forms[{i}].fields", _as_list(form.get("fields"))))
        problems.extend(_date_field_problems(f"forms[{i}]", form))
    return problems
