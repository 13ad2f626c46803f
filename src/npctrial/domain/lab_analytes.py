"""Laboratory analytes: controlled unit lists, unit conversion and plausibility of values.

The catalogue is versioned data (``data/lab_analytes.yaml``): every analyte has a canonical
unit, the units a laboratory may report it in (each with its factor to the canonical unit and
the spellings labs print), the CTCAE v4.03 term it is graded by (if any) and plausibility
limits. Every value the EDC stores -- the result, its LLN, its ULN and a baseline -- carries
its own unit; nothing is assumed to share the result's unit.

Typical use::

    hb = lab_analyte("Hb")                                # key, label, alias or CTCAE term
    hb.convert(7.5, "g/dL", "g/L")                        # 75.0
    check_lab_value("hb", 7.5, "g/L")                     # ValidationError: 7.5 g/L is not
                                                          # plausible ... 7.5 g/dL = 75 g/L
    check_lab_value("bilirubin", 20, "mg/dL", kind="uln") # ValidationError (342 umol/L)

Plausibility (:func:`check_lab_value`):
1. Resolve the analyte and the unit (ValidationError ``field="unit"`` naming the accepted units).
2. Convert to the canonical unit.
3. Outside ``limits`` (or, for ``kind`` lln/uln, outside the reference-limit range): refused
   with ValidationError naming the field; the message lists the units under which the number
   would be plausible (the usual cause is a value typed under the wrong unit).
4. Outside ``typical``: accepted, with ``LabValueCheck.unusual`` set to a message (the EDC
   opens a data query with it).

A lab record (:func:`check_lab_units`): the result and each reference value given (LLN, ULN,
baseline) pass steps 1-4 in their own unit; a reference value without its unit is refused (a
number is not converted under an assumed unit); the LLN lies below the ULN, compared in the
canonical unit (LLN equal to ULN is refused: a reference range has a width).

Reference for conversions: Young DS, Ann Intern Med 1987;106:114-129 (SI units for clinical
laboratory data); molar masses in the data file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from npctrial.domain._inputs import check_number
from npctrial.domain._tables import read_rule_table
from npctrial.domain.localised_text import LocalisedText, parse_localised_text
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = [
    "UNUSUAL_VALUE",
    "UNUSUAL_VALUE_CHECK",
    "Analyte",
    "LabUnit",
    "LabValueCheck",
    "check_lab_units",
    "check_lab_value",
    "convert_lab_value",
    "lab_analyte",
    "lab_analytes",
    "normalise_unit",
]

ValueKind = Literal["value", "lln", "uln", "baseline"]


def normalise_unit(text: str) -> str:
    """A comparison key for a unit spelling: case, spaces, micro signs and '×' folded."""
    key = (text.strip().lower().replace("µ", "u").replace("μ", "u").replace("×", "x")
           .replace(" ", "").replace("10e9", "10^9").replace("10e3", "10^3").replace("mm^3", "mm3")
           .replace("⁹", "^9").replace("³", "^3"))
    return key[1:] if key.startswith("x") and len(key) > 1 and not key.startswith("x/") else key


@dataclass(frozen=True)
class LabUnit:
    """A unit an analyte may be reported in: ``value_canonical = value * to_canonical``."""

    name: str
    to_canonical: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analyte:
    """One analyte of the catalogue with its units and plausibility limits (canonical unit)."""

    key: str
    label: str  # a LocalisedText: English, with its Chinese version (``label.in_language("zh")``)
    ctcae_term: str | None
    canonical_unit: str
    units: tuple[LabUnit, ...]
    limits: tuple[float, float]
    typical: tuple[float, float]
    lln_limits: tuple[float, float] | None = None
    uln_limits: tuple[float, float] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def unit_names(self) -> tuple[str, ...]:
        """The accepted units in their canonical spelling (for choice lists)."""
        return tuple(u.name for u in self.units)

    def unit(self, text: Any, field: str = "unit") -> LabUnit:
        """The unit ``text`` names (any listed spelling); ValidationError naming ``field``."""
        if isinstance(text, str) and text.strip():
            key = normalise_unit(text)
            for u in self.units:
                if key in {normalise_unit(n) for n in (u.name, *u.aliases)}:
                    return u
        raise ValidationError(message("lab.unknown_unit", "%(field)s %(value)s is not a unit of %(analyte)s; expected "
                                      "one of [%(expected)s]", field=field, value=repr(text), analyte=self.label,
                                      expected=tuple(repr(u) for u in self.unit_names)), field=field)

    def to_canonical(self, value: float, unit: str, *, field: str = "value", unit_field: str = "unit") -> float:
        """``value`` (in ``unit``) expressed in the canonical unit."""
        return check_number(value, field) * self.unit(unit, unit_field).to_canonical

    def convert(self, value: float, from_unit: str, to_unit: str, *, field: str = "value",
                unit_field: str = "unit") -> float:
        """``value`` from ``from_unit`` into ``to_unit`` (rounded to 12 significant digits)."""
        target = self.unit(to_unit, "to_unit")
        canonical = self.to_canonical(value, from_unit, field=field, unit_field=unit_field)
        return float(f"{canonical / target.to_canonical:.12g}")

    def format(self, value_canonical: float) -> str:
        return f"{value_canonical:.4g} {self.canonical_unit}"


def _pair(value: Any, what: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in value)
    if lo > hi:
        raise ValidationError(message("lab_data.range_not_ordered", "lab analytes data: %(range)s must be [low, high]",
                                      range=what), field="lab_analytes")
    return lo, hi


def _analyte(key: str, spec: dict[str, Any]) -> Analyte:
    units = tuple(LabUnit(str(name), float(u["to_canonical"]), tuple(str(a) for a in u.get("aliases", ())))
                  for name, u in spec["units"].items())
    if not any(u.name == spec["canonical_unit"] and u.to_canonical == 1 for u in units):
        raise ValidationError(message("lab_data.canonical_unit", "lab analytes data: %(analyte)s must list its "
                                      "canonical unit with factor 1", analyte=key), field="lab_analytes")
    return Analyte(
        key=key, label=parse_localised_text(spec["label"]), ctcae_term=spec.get("ctcae_term"),
        canonical_unit=str(spec["canonical_unit"]), units=units,
        limits=_pair(spec["limits"], f"{key}.limits"), typical=_pair(spec["typical"], f"{key}.typical"),
        lln_limits=_pair(spec["lln"], f"{key}.lln") if "lln" in spec else None,
        uln_limits=_pair(spec["uln"], f"{key}.uln") if "uln" in spec else None,
        aliases=tuple(str(a) for a in spec.get("aliases", ())),
    )


@cache
def lab_analytes() -> tuple[Analyte, ...]:
    """Every analyte of the catalogue, in catalogue order."""
    data = read_rule_table("lab_analytes.yaml")
    return tuple(_analyte(key, spec) for key, spec in data["analytes"].items())


def _fold(text: str) -> str:
    return text.strip().lower().replace(" ", "").replace("_", "").replace("-", "").replace("(", "").replace(")", "")


@cache
def _index() -> dict[str, Analyte]:
    out: dict[str, Analyte] = {}
    for a in lab_analytes():
        for name in (a.key, a.label, *a.aliases, *([a.ctcae_term] if a.ctcae_term else [])):
            out[_fold(name)] = a
    return out


def lab_analyte(name: Any) -> Analyte:
    """The analyte named by its key, label, an alias (``Hb``, ``ANC``) or its CTCAE lab term key."""
    if isinstance(name, Analyte):
        return name
    found = _index().get(_fold(name)) if isinstance(name, str) else None
    if found is None:
        raise ValidationError(message("lab.unknown_analyte", "unknown analyte %(name)s; expected one of [%(expected)s]",
                                      name=repr(name), expected=tuple(repr(a.key) for a in lab_analytes())),
                              field="analyte")
    return found


def convert_lab_value(analyte: str | Analyte, value: float, from_unit: str, to_unit: str) -> float:
    """``value`` of ``analyte`` converted from ``from_unit`` to ``to_unit``."""
    return lab_analyte(analyte).convert(value, from_unit, to_unit)


@dataclass(frozen=True)
class LabValueCheck:
    """A value that passed the plausibility limits; ``unusual`` holds the query text, if any."""

    analyte: str
    kind: str
    value: float
    unit: str
    canonical_value: float
    canonical_unit: str
    unusual: str | None = None


def _plausible_units(a: Analyte, value: float, lo: float, hi: float, unit: LabUnit) -> list[str]:
    out = []
    for u in a.units:
        if u.to_canonical != unit.to_canonical and lo <= value * u.to_canonical <= hi:
            out.append(f"{value:g} {u.name} = {a.format(value * u.to_canonical)}")
    return out


_KIND_LABEL = {"value": message("lab.kind_value", "value"),
               "lln": message("lab.kind_lln", "lower limit of normal"),
               "uln": message("lab.kind_uln", "upper limit of normal"),
               "baseline": message("lab.kind_baseline", "baseline value")}


def check_lab_value(analyte: str | Analyte, value: Any, unit: Any, *, kind: ValueKind = "value",
                    field: str | None = None) -> LabValueCheck:
    """Refuse a value impossible in its unit; flag an unusual one (steps 1-4 of the module docstring)."""
    a = lab_analyte(analyte)
    name = field or kind
    unit_field = "unit" if kind == "value" else f"{kind}_unit"
    u = a.unit(unit, unit_field)
    x = check_number(value, name)
    if x < 0:
        raise ValidationError(message("lab.negative_value", "%(field)s must be >= 0, got %(value)s", field=name,
                                      value=repr(value)), field=name)
    canonical = x * u.to_canonical
    bounds = {"lln": a.lln_limits, "uln": a.uln_limits}.get(kind) or a.limits
    lo, hi = bounds
    if not lo <= canonical <= hi:
        hint = _plausible_units(a, x, lo, hi, u)
        params = {"field": name, "value": x, "unit": u.name, "canonical": a.format(canonical),
                  "kind": _KIND_LABEL[kind], "analyte": a.label, "low": lo, "high": hi,
                  "canonical_unit": a.canonical_unit}
        if hint:
            text = message("lab.implausible_check_unit", "%(field)s: %(value)s %(unit)s (%(canonical)s) is not a "
                           "plausible %(kind)s of %(analyte)s (expected %(low)s-%(high)s %(canonical_unit)s); check "
                           "the unit: %(hints)s", hints="; ".join(hint), **params)
        else:
            text = message("lab.implausible", "%(field)s: %(value)s %(unit)s (%(canonical)s) is not a plausible "
                           "%(kind)s of %(analyte)s (expected %(low)s-%(high)s %(canonical_unit)s); check the value "
                           "and its unit", **params)
        raise ValidationError(text, field=name)
    unusual = None
    tlo, thi = a.typical
    if kind in ("value", "baseline") and not tlo <= canonical <= thi:
        values = {"analyte": a.label, "value": f"{x:g}", "unit": u.name, "canonical": a.format(canonical),
                  "low": f"{tlo:g}", "high": f"{thi:g}", "canonical_unit": a.canonical_unit}
        unusual = UNUSUAL_VALUE.map(lambda template: template.format(**values))
    return LabValueCheck(a.key, kind, x, u.name, canonical, a.canonical_unit, unusual)


#: The query text of a value outside the analyte's usual range (an automatic query; the English is
#: stored, the Chinese read back from it on pages: :func:`npctrial.domain.edit_checks.message_in_language`).
UNUSUAL_VALUE_CHECK = "LAB-UNUSUAL-VALUE"
UNUSUAL_VALUE = LocalisedText(
    "{analyte} {value} {unit} ({canonical}) is outside the usual range {low}-{high} {canonical_unit}: "
    "please confirm value and unit against the source",
    {"zh": "{analyte} {value} {unit}（{canonical}）超出常见范围 {low}–{high} {canonical_unit}："
           "请对照原始资料核实数值和单位"})


#: (reference value, its unit, plausibility kind) of a lab record, by the names the EDC and its API use
LAB_REFERENCES: tuple[tuple[str, str, ValueKind], ...] = (
    ("lln", "lln_unit", "lln"), ("uln", "uln_unit", "uln"), ("baseline_value", "baseline_unit", "baseline"))


def check_lab_units(analyte: str | Analyte, value: Any, unit: Any, *, lln: float | None = None,
                    lln_unit: str | None = None, uln: float | None = None, uln_unit: str | None = None,
                    baseline_value: float | None = None, baseline_unit: str | None = None) -> list[LabValueCheck]:
    """The plausibility of the result and of each reference value given; LLN < ULN (module docstring).

    Returns the checks (their ``unusual`` text opens a query); raises ValidationError naming the
    field for a value impossible in its unit, a reference value without a unit, an LLN >= ULN.
    """
    a = lab_analyte(analyte)
    given = {"lln": (lln, lln_unit), "uln": (uln, uln_unit), "baseline_value": (baseline_value, baseline_unit)}
    out = [check_lab_value(a, value, unit)]
    for name, unit_name, kind in LAB_REFERENCES:
        ref, ref_unit = given[name]
        if ref is None:
            continue
        if not ref_unit:
            raise ValidationError(message("lab.unit_required",
                                          "%(unit)s is required with %(name)s (%(value)s): in which unit is it?",
                                          unit=unit_name, name=name, value=_number(ref)), field=unit_name)
        out.append(check_lab_value(a, ref, ref_unit, kind=kind, field=name))
    low = next((c for c in out if c.kind == "lln"), None)
    high = next((c for c in out if c.kind == "uln"), None)
    if low is not None and high is not None and low.canonical_value >= high.canonical_value:
        raise ValidationError(message("lab.lln_not_below_uln", "lln (%(lln)s) must be below uln (%(uln)s)",
                                      lln=f"{low.value:g} {low.unit}", uln=f"{high.value:g} {high.unit}"), field="lln")
    return out


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else repr(value)
