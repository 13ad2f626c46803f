"""The protocol field catalogue: one patient data item and how a raw value is coerced.

A :class:`FieldSpec` is the contract between a protocol and the data entered for a patient (the
web EDC builds its forms from it): name, label, type, the unit rules are written in, accepted
alternative units with their conversion factors, choices, plausibility limits and the usual range.

Coercion (:meth:`FieldSpec.coerce`)
1. ``None`` (or ``{"value": None}``) is missing and stays ``None``.
2. Numbers: parse, require finite, convert an accepted alternative unit into ``unit``, require a
   whole number for ``int``, reject values outside ``min``/``max``, and warn
   (:class:`~npctrial.errors.ClinicalWarning`) outside ``typical_min``/``typical_max``.
3. Other types take no unit: booleans (true/yes/y/1, false/no/n/0), ISO dates, choices
   (case-insensitive, returned in catalogue spelling), text.

Any problem raises :class:`~npctrial.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from npctrial.domain.localised_text import LocalisedStr, field_ref
from npctrial.errors import ClinicalWarning, ValidationError
from npctrial.messages import message

__all__ = ["FieldSpec", "FieldType"]

FieldType = Literal["number", "int", "bool", "date", "choice", "text"]
_IDENT = r"^[a-z][a-z0-9_]*$"
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


class FieldSpec(BaseModel):
    """One patient data item (the EDC form contract).

    ``unit`` is the unit rules are written in; ``conversions`` maps other accepted units to
    the factor that converts a value into ``unit`` (value_in_unit = value * factor).
    ``min``/``max`` are plausibility limits in ``unit`` (a value outside is rejected);
    ``typical_min``/``typical_max`` bound the usual range (a value outside it is accepted with a
    :class:`~npctrial.errors.ClinicalWarning`, e.g. a haemoglobin typed in g/dL as if g/L).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_IDENT)
    label: LocalisedStr  # published English, optional translations ({en: ..., zh: ...})
    type: FieldType
    unit: str | None = None
    conversions: dict[str, float] = Field(default_factory=dict)
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    typical_min: float | None = None
    typical_max: float | None = None
    help: LocalisedStr | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError(message("field_spec.choices_required", "a 'choice' field needs a non-empty 'choices' list"))
        if self.type != "choice" and self.choices:
            raise ValueError(message("field_spec.choices_not_allowed", "'choices' is only allowed for type 'choice', "
                                     "not %(type)s", type=repr(self.type)))
        if self.conversions and self.unit is None:
            raise ValueError(message("field_spec.conversions_need_unit", "'conversions' needs a 'unit'"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(message("field_spec.min_above_max", "min (%(min)s) is greater than max (%(max)s)",
                                     min=str(self.min), max=str(self.max)))
        return self

    def coerce(self, raw: Any) -> Any:
        """Turn a raw patient value into this field's type and unit.

        ``raw`` may be a plain value (taken to be in ``unit``) or ``{"value": v, "unit": u}``.
        ``None`` stays ``None`` (missing). Raises :class:`ValidationError` naming the field (its
        message has a stable code and the field's label for translations, :mod:`npctrial.messages`).
        """
        if raw is None:
            return None
        value, unit = raw, None
        if isinstance(raw, Mapping):
            if "value" not in raw:
                raise self._error("field.value_or_mapping", "%(field)s: expected a value or {value, unit}")
            value, unit = raw.get("value"), raw.get("unit")
            if value is None:
                return None
        if self.type in ("number", "int"):
            return self._coerce_number(value, unit)
        if unit is not None:
            raise self._error("field.takes_no_unit", "%(field)s: a %(type)s field takes no unit", type=self.type)
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise self._error("field.not_bool", "%(field)s must be true or false, got %(value)s", value=repr(value))
        if self.type == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError:
                raise self._error("field.not_date", "%(field)s must be a date YYYY-MM-DD, got %(value)s",
                                  value=repr(value)) from None
        if self.type == "choice":
            text = str(value).strip()
            assert self.choices is not None
            for choice in self.choices:
                if text.lower() == choice.lower():
                    return choice
            raise self._error("field.not_a_choice", "%(field)s must be one of %(choices)s, got %(value)s",
                              choices=self.choices, value=repr(value))
        return str(value)

    def _coerce_number(self, value: Any, unit: Any) -> float | int:
        """Step 2 of the module docstring (numbers and whole numbers)."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._error("field.not_a_number", "%(field)s must be a number, got %(value)s", value=repr(value))
        try:
            number = float(value)
        except (ValueError, OverflowError):  # OverflowError: a whole number too large for a float
            raise self._error("field.not_a_number", "%(field)s must be a number, got %(value)s",
                              value=repr(value)) from None
        if not math.isfinite(number):
            raise self._error("field.not_finite", "%(field)s must be finite, got %(value)s", value=repr(value))
        if unit is not None and unit != self.unit:
            if unit not in self.conversions:
                accepted = tuple(u for u in (self.unit, *self.conversions) if u)
                raise self._error("field.unknown_unit", "%(field)s: unknown unit %(unit)s (accepted: %(accepted)s)",
                                  unit=repr(unit), accepted=accepted)
            number *= self.conversions[unit]
        if self.type == "int":
            if number != int(number):
                raise self._error("field.not_whole", "%(field)s must be a whole number, got %(value)s",
                                  value=repr(value))
            number = int(number)
        unit_txt = f" {self.unit}" if self.unit else ""
        if self.min is not None and number < self.min:
            raise self._error("field.below_min", "%(field)s must be >= %(limit)s%(unit)s, got %(value)s",
                              limit=f"{self.min:g}", unit=unit_txt, value=f"{number:g}")
        if self.max is not None and number > self.max:
            raise self._error("field.above_max", "%(field)s must be <= %(limit)s%(unit)s, got %(value)s",
                              limit=f"{self.max:g}", unit=unit_txt, value=f"{number:g}")
        low, high = self.typical_min, self.typical_max
        if (low is not None and number < low) or (high is not None and number > high):
            warnings.warn(ClinicalWarning(message(
                "field.outside_usual_range", "%(field)s %(value)s%(unit)s is outside the usual range "
                "%(low)s-%(high)s%(unit)s: check the value and its unit", field=field_ref(self.name, self.label),
                value=f"{number:g}", unit=unit_txt, low="" if low is None else f"{low:g}",
                high="" if high is None else f"{high:g}")), stacklevel=4)
        return number

    def _error(self, code: str, template: str, **params: Any) -> ValidationError:
        """A ValidationError on this field: its name in English, its label in translations."""
        return ValidationError(message(code, template, field=field_ref(self.name, self.label), **params),
                               field=self.name)
