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
  * uln, lln and baseline carry their own units (``uln_unit`` ...; default: the value's unit)
    and are converted into the value's unit through the analyte catalogue
    (:mod:`npctrial.domain.lab_analytes`) before grading.

Allowed grades (:func:`allowed_grades`, :func:`check_ae_grade`): a term offers only the grades
the NCI table defines ("-" = not available: dry mouth 1-3, febrile neutropenia 3-5, fatigue 1-3,
the Investigations lab terms 1-4 ...). An event without a CTCAE term is "<SOC> - Other, specify"
(:func:`other_specify_socs`), graded 1-5 (Eye disorders 1-4).

Reference: NCI CTCAE v4.03 (14 June 2010), the NCI spreadsheet CTCAE_4.03_2010-06-14.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from npctrial.domain._inputs import check_number
from npctrial.domain._tables import read_rule_table
from npctrial.domain.lab_analytes import Analyte, lab_analyte
from npctrial.errors import ValidationError
from npctrial.messages import message

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
    analyte: str = ""
    grades: tuple[int, ...] = ()


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
        raise ValidationError(message("ctcae.term_not_text", "term must be a string, got %(value)s", value=repr(term)),
                              field="term")
    kinds = [kind] if kind else ["lab_terms", "clinical_terms"]
    for k in kinds:
        key = _term_index(k).get(_norm(term))
        if key is not None:
            return k, key
    params = {"term": repr(term), "version": CTCAE_VERSION,
              "expected": tuple(repr(c) for c in sorted(key for k in kinds for key in ctcae_table()[k]))}
    if kind == "lab_terms":
        text = message("ctcae.unknown_lab_term", "term %(term)s is not a lab term of CTCAE v%(version)s in this "
                       "project; expected one of [%(expected)s]", **params)
    elif kind == "clinical_terms":
        text = message("ctcae.unknown_clinical_term", "term %(term)s is not a clinical term of CTCAE v%(version)s in "
                       "this project; expected one of [%(expected)s]", **params)
    else:
        text = message("ctcae.unknown_term", "term %(term)s is not a CTCAE term of CTCAE v%(version)s in this "
                       "project; expected one of [%(expected)s]", **params)
    raise ValidationError(text, field="term")


def _needs(spec: dict[str, Any]) -> tuple[str, ...]:
    if spec["direction"] == "low":
        return ("lln",)
    if spec["direction"] == "loss_from_baseline":
        return ("baseline",)
    return ("uln", "baseline") if "baseline_multiples" in spec else ("uln",)


def _grades(spec: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(g) for g, text in spec["grades"].items() if text is not None)


def lab_terms() -> list[LabTerm]:
    """Every lab-derived term with its analyte's accepted units (for EDC forms and validation)."""
    out = []
    for key, spec in ctcae_table()["lab_terms"].items():
        a = lab_analyte(spec["analyte"])
        out.append(LabTerm(key, spec["term"], spec["soc"], a.canonical_unit, a.unit_names,
                           spec["direction"], _needs(spec), a.key, _grades(spec)))
    return out


def clinical_terms() -> list[ClinicalTerm]:
    """Every clinically graded term with the grades it offers."""
    return [ClinicalTerm(key, spec["term"], spec["soc"], _grades(spec))
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
        raise ValidationError(message("ctcae.grade_not_integer", "grade must be an integer 1-5, got %(value)s",
                                      value=repr(grade)), field="grade")
    text = spec["grades"].get(grade)
    if text is None:
        available = [g for g, t in spec["grades"].items() if t is not None]
        raise ValidationError(message("ctcae.grade_not_defined_available",
                                      "grade %(grade)s is not defined for '%(term)s' in CTCAE v%(version)s; "
                                      "available grades [%(available)s]", grade=grade, term=spec["term"],
                                      version=CTCAE_VERSION, available=tuple(available)), field="grade")
    return GradeDescription(key, spec["term"], grade, str(text))


def _finite(value: Any, field: str, *, positive: bool = False) -> float:
    value = check_number(value, field)
    if value < 0 or (positive and value == 0):
        raise ValidationError(message("number.not_positive", "%(field)s must be > 0, got %(value)s", field=field,
                                      value=repr(value)) if positive else
                              message("lab.negative_value", "%(field)s must be >= 0, got %(value)s", field=field,
                                      value=repr(value)), field=field)
    return float(value)


def _analyte_of(spec: dict[str, Any]) -> Analyte:
    return lab_analyte(spec["analyte"])


def _low_cutoffs(spec: dict[str, Any], unit: str) -> list[tuple[float, int]]:
    override = (spec.get("cutoffs_by_unit") or {}).get(unit)
    if override is not None:
        return [(float(a), int(g)) for a, g in override]
    factor = _analyte_of(spec).unit(unit).to_canonical
    return [(round(float(a) / factor, 9), int(g)) for a, g in spec["cutoffs"]]


def _reference(spec: dict[str, Any], value: float | None, unit: str | None, value_unit: str,
               name: str) -> float | None:
    """A reference value (lln, uln, baseline) converted into the unit of the graded value."""
    if value is None:
        return None
    checked = _finite(value, name, positive=True)
    if unit is None or unit == value_unit:
        return checked
    return _analyte_of(spec).convert(checked, unit, value_unit, field=name, unit_field=f"{name}_unit")


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
    uln_unit: str | None = None,
    lln_unit: str | None = None,
    baseline_unit: str | None = None,
) -> int:
    """CTCAE v4.03 grade (0-4) of a lab value; see the module docstring for boundary rules.

    Steps:
      1. Resolve the term (key, official term or alias such as 'ANC', 'Hb'); check the unit of
         the value and of each reference value; convert lln/uln/baseline into the value's unit
         (bilirubin 3 mg/dL with ULN 20 umol/L: ULN = 1.169 mg/dL, 2.57 x ULN, grade 2).
      2. Decrease terms: first fixed cut-off (in the given unit) the value is below gives the
         grade; otherwise grade 1 if value < LLN (LLN required only in that case), else 0.
      3. Increase terms: highest multiple of ULN the value exceeds gives the grade.
      4. Creatinine: max(ULN grade, baseline grade); at least one of uln/baseline is required.
      5. Weight loss: percent loss from ``baseline`` (unit kg).
    """
    _, key = _resolve(term, "lab_terms")
    spec = ctcae_table()["lab_terms"][key]
    unit_name = _analyte_of(spec).unit(unit).name
    x = _finite(value, "value", positive=spec["direction"] == "loss_from_baseline")
    direction = spec["direction"]
    ref_base = _reference(spec, baseline, baseline_unit, unit_name, "baseline")
    if direction == "loss_from_baseline":
        if ref_base is None:
            raise ValidationError(message("ctcae.weight_loss_needs_baseline",
                                          "baseline (weight) is required for weight loss"), field="baseline")
        return grade_weight_loss(x, ref_base)
    if direction == "low":
        for limit, grade in _low_cutoffs(spec, unit_name):
            if x < limit:
                return grade
        ref_lln = _reference(spec, lln, lln_unit, unit_name, "lln")
        if ref_lln is None:
            raise ValidationError(message("ctcae.lln_required",
                                          "lln is required to tell grade 0 from grade 1 of '%(term)s' at %(value)s %(unit)s",
                                          term=spec["term"], value=repr(value), unit=unit_name), field="lln")
        return 1 if x < ref_lln else 0
    ref_uln = _reference(spec, uln, uln_unit, unit_name, "uln")
    if "baseline_multiples" not in spec:
        if ref_uln is None:
            raise ValidationError(message("ctcae.uln_required", "uln is required to grade '%(term)s'",
                                          term=spec["term"]), field="uln")
        return _grade_by_multiple(x, ref_uln, spec["uln_multiples"])
    if ref_uln is None and ref_base is None:
        raise ValidationError(message("ctcae.uln_or_baseline_required", "uln or baseline is required to grade '%(term)s'",
                                      term=spec["term"]), field="uln")
    by_uln = 0 if ref_uln is None else _grade_by_multiple(x, ref_uln, spec["uln_multiples"])
    by_base = 0 if ref_base is None else _grade_by_multiple(x, ref_base, spec["baseline_multiples"])
    if by_base == 1 and not creatinine_baseline_grade1:
        by_base = 0
    return max(by_uln, by_base)


OTHER_SPECIFY = "other"


@dataclass(frozen=True)
class OtherSpecifySoc:
    """A system organ class for "<SOC> - Other, specify" with the grades it allows."""

    key: str
    name: str
    meddra: int
    grades: tuple[int, ...]

    @property
    def term(self) -> str:
        return f"{self.name} - Other, specify"


@cache
def other_specify_socs() -> tuple[OtherSpecifySoc, ...]:
    """The 26 system organ classes of CTCAE v4.03 for "Other, specify" terms."""
    data = ctcae_table()["other_specify"]
    default = tuple(int(g) for g in data["grades"])
    return tuple(OtherSpecifySoc(str(s["key"]), str(s["name"]), int(s["meddra"]),
                                 tuple(int(g) for g in s.get("grades", default)))
                 for s in data["socs"])


def other_specify_soc(soc: str) -> OtherSpecifySoc:
    """The SOC named by its key or name (ValidationError ``field="soc"``)."""
    for s in other_specify_socs():
        if isinstance(soc, str) and _norm(soc) in (_norm(s.key), _norm(s.name)):
            return s
    raise ValidationError(message("ctcae.unknown_soc", "soc %(soc)s is not a CTCAE v%(version)s system organ class; "
                                  "expected one of [%(expected)s]", soc=repr(soc), version=CTCAE_VERSION,
                                  expected=tuple(repr(s.key) for s in other_specify_socs())), field="soc")


def allowed_grades(term: str, *, soc: str | None = None) -> tuple[int, ...]:
    """The grades CTCAE v4.03 defines for ``term`` (lab or clinical), or for "Other, specify" in ``soc``."""
    if isinstance(term, str) and _norm(term) in (OTHER_SPECIFY, "otherspecify"):
        if soc is None:
            raise ValidationError(message("ctcae.other_needs_soc",
                                          "an 'Other, specify' adverse event needs its system organ class"), field="soc")
        return other_specify_soc(soc).grades
    kind, key = _resolve(term)
    return _grades(ctcae_table()[kind][key])


def check_ae_grade(term: str, grade: Any, *, soc: str | None = None) -> int:
    """``grade`` if CTCAE v4.03 defines it for the term, else ValidationError ``field="grade"``.

    Dry mouth grade 4, febrile neutropenia grade 1, fatigue grade 5 and neutrophil count
    decreased grade 5 are all refused: the NCI table marks them "-".
    """
    allowed = allowed_grades(term, soc=soc)
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in allowed:
        name = other_specify_soc(soc).term if soc is not None and _norm(term) in (OTHER_SPECIFY, "otherspecify") \
            else ctcae_term_name(term)
        raise ValidationError(message("ctcae.grade_not_defined",
                                      "grade %(grade)s is not defined for '%(term)s' in CTCAE v%(version)s; "
                                      "allowed grades: %(allowed)s", grade=repr(grade), term=name,
                                      version=CTCAE_VERSION, allowed=tuple(allowed)), field="grade")
    return grade


def check_lab_grade(term: str, grade: Any, suggested: int, override_reason: str | None = "") -> int:
    """The grade recorded for a lab value, checked against the grade :func:`grade_lab` suggests.

    1. A grade other than 0 is one CTCAE v4.03 defines for the term (:func:`check_ae_grade`).
    2. A lab record holds grades 0-4: grade 5 (death) is an adverse event, not a laboratory value
       (CTCAE v4.03: "Grade 5 Death related to AE").
    3. A grade that differs from the suggested one is an override: it needs its reason.
    """
    if isinstance(grade, bool) or not isinstance(grade, int) or grade < 0:
        raise ValidationError(message("field.below_min", "%(field)s must be >= %(limit)s%(unit)s, got %(value)s",
                                      field="grade", limit="0", unit="", value=repr(grade)), field="grade")
    if grade != 0:
        check_ae_grade(term, grade)
    if grade > 4:
        raise ValidationError(message("lab.grade_above_4",
                                      "grade must be 0-4 for a lab value (grade 5 is recorded as an AE), got %(grade)s",
                                      grade=grade), field="grade")
    if grade != suggested and not (override_reason or "").strip():
        raise ValidationError(message("lab.override_reason_required",
                                      "grade %(grade)s overrides the suggested CTCAE grade %(suggested)s: "
                                      "override_reason is required", grade=grade, suggested=suggested),
                              field="override_reason")
    return grade


def ctcae_term_soc(term: str) -> str:
    """The system organ class of a term key or alias."""
    kind, key = _resolve(term)
    return str(ctcae_table()[kind][key]["soc"])


def ctcae_term_name(term: str) -> str:
    """The official CTCAE name of a term key or alias."""
    kind, key = _resolve(term)
    return str(ctcae_table()[kind][key]["term"])


__all__ = [
    "CTCAE_VERSION",
    "OTHER_SPECIFY",
    "ClinicalTerm",
    "GradeDescription",
    "LabTerm",
    "OtherSpecifySoc",
    "allowed_grades",
    "check_ae_grade",
    "check_lab_grade",
    "ctcae_term_name",
    "ctcae_term_soc",
    "other_specify_soc",
    "other_specify_socs",
    "clinical_term_grades",
    "clinical_terms",
    "ctcae_table",
    "grade_description",
    "grade_lab",
    "grade_weight_loss",
    "lab_terms",
]
