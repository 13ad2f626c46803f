"""CTCAE v4.03 adverse-event grading: lab-derived grades and selectable clinical grade wording.

The terms, grade wording and cut-offs are versioned data (``data/ctcae_v4_03.yaml``).

Boundary conventions (CTCAE range semantics, as implemented by pharmaverse ``admiral``):
  * decrease terms, "<A - B": grade g when value < A and >= B; grade 1 needs value < LLN.
    Hb exactly 100 g/L (10.0 g/dL) is therefore grade 1 (if below the LLN), 99.9 g/L grade 2.
    Grades 2-4 use the fixed cut-offs whatever the local LLN.
  * increase terms, ">A - B x ULN": grade g when value > A x ULN and <= B x ULN; a value equal
    to the ULN is grade 0, exactly 3.0 x ULN of ALT is grade 1.
  * creatinine: the higher of the ULN-based and the baseline-based grade (grade 4 only via ULN);
    the literal ">1 - 1.5 x baseline" grade 1 can be switched off.
  * anaemia: grade 4 and the "transfusion indicated" part of grade 3 are clinical; the lab-only
    grade is capped at 3.
  * weight loss: >= 5 % -> 1, >= 10 % -> 2, >= 20 % -> 3 (exactly 10 % is grade 2).
  * uln, lln and baseline are in the same unit as the value.

Reference: NCI CTCAE v4.03 (14 June 2010).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from npctrial.domain._inputs import check_number
from npctrial.domain._tables import read_rule_table
from npctrial.errors import ValidationError

CTCAE_VERSION = "4.03"
_EPS = 1e-9


@cache
def ctcae_table() -> dict[str, Any]:
    """The packaged CTCAE v4.03 data (terms, grade wording, cut-offs, units, source)."""
    return read_rule_table("ctcae_v4_03.yaml")


@dataclass(frozen=True)
class GradeDescription:
    """One selectable grade of a term with its published wording."""

    term_key: str
    term: str
    grade: int
    text: str


@dataclass(frozen=True)
class LabTerm:
    """A lab-derived term: the units it accepts and the reference values it needs."""

    key: str
    term: str
    soc: str
    canonical_unit: str
    units: tuple[str, ...]
    direction: str
    needs: tuple[str, ...]


@dataclass(frozen=True)
class ClinicalTerm:
    """A clinically graded term and the grades it offers."""

    key: str
    term: str
    soc: str
    grades: tuple[int, ...]


def _norm(text: str) -> str:
    return (text.strip().lower().replace("µ", "u").replace("μ", "u").replace(" ", "")
            .replace("_", "").replace("-", "").replace("×", "x"))


@cache
def _term_index(kind: str) -> dict[str, str]:
    """normalised key, official term or alias -> key, for 'lab_terms' or 'clinical_terms'."""
    index: dict[str, str] = {}
    for key, spec in ctcae_table()[kind].items():
        for name in [key, spec["term"], *spec.get("aliases", [])]:
            index[_norm(name)] = key
    return index


def _resolve(term: str, kind: str | None = None) -> tuple[str, str]:
    """(kind, key) of a term; with ``kind`` None, lab terms are searched before clinical ones."""
    if not isinstance(term, str):
        raise ValidationError(f"term must be a string, got {term!r}", field="term")
    kinds = [kind] if kind else ["lab_terms", "clinical_terms"]
    for k in kinds:
        key = _term_index(k).get(_norm(term))
        if key is not None:
            return k, key
    what = {"lab_terms": "lab term", "clinical_terms": "clinical term"}.get(kind or "", "CTCAE term")
    choices = sorted(key for k in kinds for key in ctcae_table()[k])
    raise ValidationError(f"term {term!r} is not a {what} of CTCAE v{CTCAE_VERSION} in this "
                          f"project; expected one of {choices}", field="term")


def _needs(spec: dict[str, Any]) -> tuple[str, ...]:
    if spec["direction"] == "low":
        return ("lln",)
    if spec["direction"] == "loss_from_baseline":
        return ("baseline",)
    return ("uln", "baseline") if "baseline_multiples" in spec else ("uln",)


def lab_terms() -> list[LabTerm]:
    """Every lab-derived term with its accepted units (for EDC forms and validation)."""
    data = ctcae_table()
    out = []
    for key, spec in data["lab_terms"].items():
        group = data["unit_groups"][spec["unit_group"]]
        out.append(LabTerm(key, spec["term"], spec["soc"], group["canonical"],
                           tuple(group["units"]), spec["direction"], _needs(spec)))
    return out


def clinical_terms() -> list[ClinicalTerm]:
    """Every clinically graded term with the grades it offers."""
    return [ClinicalTerm(key, spec["term"], spec["soc"],
                         tuple(int(g) for g, text in spec["grades"].items() if text is not None))
            for key, spec in ctcae_table()["clinical_terms"].items()]


def clinical_term_grades(term: str, *, include_absent: bool = False) -> list[GradeDescription]:
    """The selectable grades of a clinical term with the published wording.

    ``include_absent`` prepends grade 0 ("Absent"), the project's code for assessed and absent
    (CTCAE itself has no grade 0). Grades marked "-" in CTCAE are not offered.
    """
    _, key = _resolve(term, "clinical_terms")
    spec = ctcae_table()["clinical_terms"][key]
    out = [GradeDescription(key, spec["term"], 0, "Absent (assessed; not a CTCAE grade)")] if include_absent else []
    out += [GradeDescription(key, spec["term"], int(g), str(text))
            for g, text in spec["grades"].items() if text is not None]
    return out


def grade_description(term: str, grade: int) -> GradeDescription:
    """Published wording of ``grade`` for a lab or clinical term (ValidationError if unavailable)."""
    kind, key = _resolve(term)
    spec = ctcae_table()[kind][key]
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise ValidationError(f"grade must be an integer 1-5, got {grade!r}", field="grade")
    text = spec["grades"].get(grade)
    if text is None:
        available = [g for g, t in spec["grades"].items() if t is not None]
        raise ValidationError(f"grade {grade} is not defined for {spec['term']!r} in CTCAE "
                              f"v{CTCAE_VERSION}; available grades {available}", field="grade")
    return GradeDescription(key, spec["term"], grade, str(text))


def _finite(value: Any, field: str, *, positive: bool = False) -> float:
    value = check_number(value, field)
    if value < 0 or (positive and value == 0):
        raise ValidationError(f"{field} must be {'> 0' if positive else '>= 0'}, got {value!r}",
                              field=field)
    return float(value)


def _unit_key(text: str) -> str:
    key = _norm(text).replace("10e9", "10^9").replace("mm^3", "mm3").replace("cells/", "/")
    return key[1:] if key.startswith("x") else key


def _unit(spec: dict[str, Any], unit: str) -> str:
    group = ctcae_table()["unit_groups"][spec["unit_group"]]
    if isinstance(unit, str):
        for name in group["units"]:
            if _unit_key(name) == _unit_key(unit):
                return str(name)
    raise ValidationError(f"unit {unit!r} is not accepted for {spec['term']!r}; expected one of "
                          f"{list(group['units'])}", field="unit")


def _low_cutoffs(spec: dict[str, Any], unit: str) -> list[tuple[float, int]]:
    override = (spec.get("cutoffs_by_unit") or {}).get(unit)
    if override is not None:
        return [(float(a), int(g)) for a, g in override]
    factor = float(ctcae_table()["unit_groups"][spec["unit_group"]]["units"][unit])
    return [(round(float(a) * factor, 9), int(g)) for a, g in spec["cutoffs"]]


def _gt(value: float, limit: float) -> bool:
    """value > limit, with values within rounding error of the limit treated as equal."""
    return value > limit + _EPS * max(1.0, abs(limit))


def _grade_by_multiple(value: float, ref: float, multiples: list[list[float]]) -> int:
    for multiple, grade in multiples:
        if _gt(value, float(multiple) * ref):
            return int(grade)
    return 0


def grade_weight_loss(weight_kg: float, baseline_kg: float) -> int:
    """CTCAE v4.03 'Weight loss' grade from the percent loss relative to baseline (gain = 0)."""
    w = _finite(weight_kg, "weight_kg", positive=True)
    b = _finite(baseline_kg, "baseline_kg", positive=True)
    percent = (b - w) / b * 100.0
    spec = ctcae_table()["lab_terms"]["weight_loss"]
    for threshold, grade in spec["percent_loss"]:
        if percent >= float(threshold) - _EPS * 100:
            return int(grade)
    return 0


def grade_lab(
    term: str,
    value: float,
    unit: str,
    *,
    uln: float | None = None,
    lln: float | None = None,
    baseline: float | None = None,
    creatinine_baseline_grade1: bool = True,
) -> int:
    """CTCAE v4.03 grade (0-4) of a lab value; see the module docstring for boundary rules.

    Steps:
      1. Resolve the term (key, official term or alias such as 'ANC', 'Hb'); check the unit.
      2. Decrease terms: first fixed cut-off (in the given unit) the value is below gives the
         grade; otherwise grade 1 if value < LLN (LLN required only in that case), else 0.
      3. Increase terms: highest multiple of ULN the value exceeds gives the grade.
      4. Creatinine: max(ULN grade, baseline grade); at least one of uln/baseline is required.
      5. Weight loss: percent loss from ``baseline`` (unit kg).
    """
    _, key = _resolve(term, "lab_terms")
    spec = ctcae_table()["lab_terms"][key]
    unit_name = _unit(spec, unit)
    x = _finite(value, "value", positive=spec["direction"] == "loss_from_baseline")
    direction = spec["direction"]
    if direction == "loss_from_baseline":
        if baseline is None:
            raise ValidationError("baseline (weight in kg) is required for weight loss", field="baseline")
        return grade_weight_loss(x, baseline)
    if direction == "low":
        for limit, grade in _low_cutoffs(spec, unit_name):
            if x < limit:
                return grade
        if lln is None:
            raise ValidationError(f"lln is required to tell grade 0 from grade 1 of {spec['term']!r} "
                                  f"at {value!r} {unit_name}", field="lln")
        return 1 if x < _finite(lln, "lln", positive=True) else 0
    ref_uln = None if uln is None else _finite(uln, "uln", positive=True)
    ref_base = None if baseline is None else _finite(baseline, "baseline", positive=True)
    if "baseline_multiples" not in spec:
        if ref_uln is None:
            raise ValidationError(f"uln is required to grade {spec['term']!r}", field="uln")
        return _grade_by_multiple(x, ref_uln, spec["uln_multiples"])
    if ref_uln is None and ref_base is None:
        raise ValidationError(f"uln or baseline is required to grade {spec['term']!r}", field="uln")
    by_uln = 0 if ref_uln is None else _grade_by_multiple(x, ref_uln, spec["uln_multiples"])
    by_base = 0 if ref_base is None else _grade_by_multiple(x, ref_base, spec["baseline_multiples"])
    if by_base == 1 and not creatinine_baseline_grade1:
        by_base = 0
    return max(by_uln, by_base)


__all__ = [
    "CTCAE_VERSION",
    "ClinicalTerm",
    "GradeDescription",
    "LabTerm",
    "clinical_term_grades",
    "clinical_terms",
    "ctcae_table",
    "grade_description",
    "grade_lab",
    "grade_weight_loss",
    "lab_terms",
]
