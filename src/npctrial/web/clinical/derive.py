"""Derived CRF values, computed by :mod:`npctrial.domain` (the web layer re-implements no rule).

Each ``derive_*`` takes an unsaved or changed record and the domain protocol it is collected
under, sets the derived fields and raises :class:`npctrial.errors.ValidationError` naming the
field when the domain rejects the input.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.domain import (
    OTHER_SPECIFY,
    TargetMeasurement,
    assess_target_series,
    bed,
    check_ae_grade,
    check_lab_value,
    check_rtog_grade,
    classify_onset,
    eqd2,
    grade_lab,
    lab_analyte,
    other_specify_soc,
    other_specify_socs,
    stage_group,
    timepoint_response,
)
from npctrial.domain.ctcae import ctcae_term_soc
from npctrial.domain.radiobiology import ALPHA_BETA_LATE_GY, ALPHA_BETA_TUMOUR_GY
from npctrial.domain.treatment_rules import (
    check_dose,
    compute_protocol_bsa,
    compute_protocol_dose,
    rules_of,
    sae_report_deadline,
)
from npctrial.errors import ClinicalWarning, ValidationError


def derive_baseline(record: Any, protocol: Any) -> list[str]:
    """BSA by the protocol's rule (formula, rounding before or after banding), the S-1 band dose, the stage group.

    Returns the clinical warnings raised (e.g. BSA on a boundary the protocol left ambiguous).
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClinicalWarning)
        bsa, _ = compute_protocol_bsa(rules_of(protocol), record.height_cm, record.weight_kg)
        notes.extend(str(w.message) for w in caught if issubclass(w.category, ClinicalWarning))
    record.bsa_m2 = bsa.bsa_m2
    record.bsa_rule = f"{rules_of(protocol).bsa.describe()}; raw {bsa.bsa_raw_m2:.4f} m2"[:300]
    dose = compute_protocol_dose(protocol, "S-1", record.height_cm, record.weight_kg)
    if dose is not None:
        record.s1_mg_per_dose = dose.mg_per_dose
        record.s1_doses_per_day = dose.dose.doses_per_day
        record.dose_rule = dose.rule[:500]
        notes.extend(dose.warnings)
    else:
        record.s1_mg_per_dose = record.s1_doses_per_day = None
        record.dose_rule = "the protocol has no S-1 band table"
    group = stage_group(record.t_category, record.n_category, record.m_category, int(record.tnm_edition))
    record.stage_group = group or ""
    return notes


def derive_radiotherapy(record: Any, protocol: Any) -> list[str]:
    """BED and EQD2 of the planned course at alpha/beta 10 and 3 Gy."""
    if record.end_date and record.end_date < record.start_date:
        raise ValidationError(_("end_date (%(end)s) must not be before start_date (%(start)s)")
                              % {"end": record.end_date, "start": record.start_date}, field="end_date")
    if record.delivered_fractions is not None and record.delivered_fractions > record.fractions:
        raise ValidationError(_("delivered_fractions must be <= planned fractions (%(planned)s), got %(got)s")
                              % {"planned": record.fractions, "got": record.delivered_fractions},
                              field="delivered_fractions")
    n, d = int(record.fractions), float(record.total_dose_gy)
    record.bed_gy10, record.eqd2_gy10 = bed(d, n, ALPHA_BETA_TUMOUR_GY), eqd2(d, n, ALPHA_BETA_TUMOUR_GY)
    record.bed_gy3, record.eqd2_gy3 = bed(d, n, ALPHA_BETA_LATE_GY), eqd2(d, n, ALPHA_BETA_LATE_GY)
    return []


def derive_administration(record: Any, protocol: Any, baseline: Any = None) -> list[str]:
    """Adherence from the diary; the protocol dose from the baseline BSA; a different dose is a deviation.

    The expected dose is the protocol's band dose for the subject's baseline height and weight
    (``protocol_dose_mg``); for a drug the protocol gives no table for, the planned dose. A dose
    given that differs is a deviation (:func:`npctrial.domain.treatment_rules.check_dose`) with
    one of the protocol's reasons ("no dose modification unless progression, grade 4 toxicity or
    refusal" in seed 000).
    """
    notes: list[str] = []
    if record.doses_planned:
        taken = record.doses_taken or 0
        if taken > record.doses_planned:
            raise ValidationError(_("doses_taken (%(taken)s) cannot exceed doses_planned (%(planned)s)")
                                  % {"taken": taken, "planned": record.doses_planned}, field="doses_taken")
        record.adherence_pct = 100.0 * taken / record.doses_planned
    else:
        record.adherence_pct = None
    dose = None
    if baseline is not None and baseline.height_cm and baseline.weight_kg:
        dose = compute_protocol_dose(protocol, record.drug, baseline.height_cm, baseline.weight_kg)
    elif compute_has_table(protocol, record.drug):
        notes.append(f"no baseline height and weight yet: the {record.drug} dose cannot be checked against the "
                     "protocol's BSA bands")
    record.protocol_dose_mg = None if dose is None else dose.mg_per_dose
    expected, basis = (dose.mg_per_dose, "protocol") if dose is not None else (record.planned_dose_mg, "planned")
    checked = check_dose(rules_of(protocol), float(record.dose_mg), float(expected), basis=basis,
                         reason=record.deviation_reason or "", note=record.deviation_note or "")
    record.deviation = checked.deviation
    return notes


def compute_has_table(protocol: Any, drug: str) -> bool:
    return any(t.drug.lower() == str(drug).lower() for t in protocol.dosing)


def suggest_lab_grade(term: str, value: float, unit: str, *, lln: float | None = None, uln: float | None = None,
                      baseline: float | None = None, lln_unit: str | None = None, uln_unit: str | None = None,
                      baseline_unit: str | None = None) -> int:
    """CTCAE v4.03 grade suggested by :func:`npctrial.domain.grade_lab` (reference values in their own units)."""
    return grade_lab(term, value, unit, lln=lln, uln=uln, baseline=baseline, lln_unit=lln_unit, uln_unit=uln_unit,
                     baseline_unit=baseline_unit)


#: (reference value field, its unit field, plausibility kind) of a lab record
LAB_REFERENCES = (("lln", "lln_unit", "lln"), ("uln", "uln_unit", "uln"), ("baseline_value", "baseline_unit", "baseline"))


def check_lab_units(record: Any) -> list[Any]:
    """Value, LLN, ULN and baseline each in a unit of the analyte and plausible in it; LLN < ULN.

    Returns the plausibility results (their ``unusual`` text opens a query); raises
    ValidationError naming the field for a value impossible in its unit or a missing unit.
    """
    analyte = lab_analyte(record.term)
    out = [check_lab_value(analyte, record.value, record.unit)]
    for name, unit_name, kind in LAB_REFERENCES:
        value, unit = getattr(record, name), getattr(record, unit_name) or ""
        if value is None:
            continue
        if not unit:
            raise ValidationError(_("%(unit)s is required with %(name)s (%(value)s): in which unit is it?")
                                  % {"unit": unit_name, "name": name, "value": f"{value:g}"}, field=unit_name)
        out.append(check_lab_value(analyte, value, unit, kind=kind, field=name))  # type: ignore[arg-type]
    lln, uln = out_by_kind(out, "lln"), out_by_kind(out, "uln")
    if lln is not None and uln is not None and lln.canonical_value >= uln.canonical_value:
        raise ValidationError(_("lln (%(lln)s) must be below uln (%(uln)s)")
                              % {"lln": f"{lln.value:g} {lln.unit}", "uln": f"{uln.value:g} {uln.unit}"}, field="lln")
    return out


def out_by_kind(checks: list[Any], kind: str) -> Any:
    return next((c for c in checks if c.kind == kind), None)


def derive_lab(record: Any, protocol: Any) -> list[str]:
    """Units checked; suggested grade from the domain; a recorded grade that differs needs an override reason."""
    check_lab_units(record)
    record.suggested_grade = suggest_lab_grade(
        record.term, record.value, record.unit, lln=record.lln, uln=record.uln, baseline=record.baseline_value,
        lln_unit=record.lln_unit or None, uln_unit=record.uln_unit or None, baseline_unit=record.baseline_unit or None)
    if record.grade is None:
        record.grade = record.suggested_grade
    grade = int(record.grade)
    if grade != 0:
        check_ae_grade(record.term, grade)
    if grade > 4:
        raise ValidationError(_("grade must be 0-4 for a lab value (grade 5 is recorded as an AE), got %(grade)s")
                              % {"grade": grade}, field="grade")
    if grade != record.suggested_grade and not record.override_reason.strip():
        raise ValidationError(_("grade %(grade)s overrides the suggested CTCAE grade %(suggested)s: "
                                "override_reason is required")
                              % {"grade": grade, "suggested": record.suggested_grade}, field="override_reason")
    return []


def sae_deadline(aware_at: datetime, protocol: Any = None) -> datetime:
    """The SAE reporting deadline of the protocol (:func:`npctrial.domain.treatment_rules.sae_report_deadline`)."""
    return sae_report_deadline(aware_at, rules_of(protocol))


def derive_adverse_event(record: Any, protocol: Any) -> list[str]:
    """CTCAE v4.03 term and a grade the term defines; stop not before start; SAE deadline.

    "Other, specify" needs the verbatim term and its system organ class (its grades follow the
    SOC: Eye disorders has no grade 5); a listed term takes its SOC from CTCAE.
    """
    if record.term == OTHER_SPECIFY:
        if not (record.term_other or "").strip():
            raise ValidationError(_("term_other is required for an 'Other, specify' adverse event"), field="term_other")
        if not record.soc:
            raise ValidationError(_("soc (system organ class) is required for an 'Other, specify' adverse event"),
                                  field="soc")
        record.soc = other_specify_soc(record.soc).key
        check_ae_grade(OTHER_SPECIFY, int(record.grade), soc=record.soc)
    else:
        if (record.term_other or "").strip():
            raise ValidationError(_("term_other is only for an 'Other, specify' adverse event"), field="term_other")
        check_ae_grade(record.term, int(record.grade))
        record.soc = soc_of_term(record.term)
    if record.stop_date and record.stop_date < record.start_date:
        raise ValidationError(_("stop_date (%(stop)s) is before start_date (%(start)s)")
                              % {"stop": record.stop_date, "start": record.start_date}, field="stop_date")
    if record.serious:
        if record.aware_at is None:
            record.aware_at = timezone.now()
        record.sae_report_due = sae_deadline(record.aware_at, protocol)
    else:
        record.sae_report_due = None
    return []


def soc_of_term(term: str) -> str:
    """The key of the system organ class a CTCAE term belongs to."""
    name = ctcae_term_soc(term)
    return next((s.key for s in other_specify_socs() if s.name == name), "")


def derive_rtog(record: Any, protocol: Any, rt: Any) -> list[str]:
    """Grade valid for the organ and scale; late scores only > 90 days after the end of RT."""
    check_rtog_grade(record.organ, record.scale, int(record.grade))
    if rt is None or rt.end_date is None:
        if record.scale == "late":
            raise ValidationError(_("late RTOG toxicity needs the radiotherapy end date (treatment form)"),
                                  field="scale")
        record.days_after_rt_end = None
        return []
    record.days_after_rt_end = (record.assessment_date - rt.end_date).days
    if record.assessment_date < rt.start_date:
        raise ValidationError(_("assessment_date (%(date)s) is before radiotherapy started")
                              % {"date": record.assessment_date}, field="assessment_date")
    onset = classify_onset(record.assessment_date, rt.start_date, rt.end_date)
    if record.scale == "late" and onset != "late":
        raise ValidationError(_("late RTOG toxicity is scored only beyond 90 days after the end of radiotherapy "
                                "(%(days)s days)") % {"days": record.days_after_rt_end}, field="scale")
    return []


def derive_recist_series(assessments: list[Any]) -> None:
    """RECIST 1.1 over a subject's assessments (date order; the first is the baseline).

    Steps: 1. baseline target lesions = targets of the first assessment; 2. target sums, percent
    change from baseline and nadir by :func:`npctrial.domain.assess_target_series`;
    3. timepoint response (target, non-target, new lesions) by :func:`timepoint_response`.
    Sets the derived fields on the objects (the caller saves them).
    """
    if not assessments:
        return
    first = assessments[0]
    base = [TargetMeasurement(x.lesion_id, x.nodal, x.diameter_mm) for x in first.lesions.all() if x.target]
    first.target_sum_mm = sum(m.diameter_mm or 0 for m in base) if base else None
    first.change_from_baseline_pct = first.change_from_nadir_pct = None
    first.target_response = first.overall_response = ""
    first.note = "baseline"
    if not base:
        return
    visits = [[TargetMeasurement(x.lesion_id, x.nodal, x.diameter_mm) for x in a.lesions.all() if x.target]
              for a in assessments[1:]]
    responses = assess_target_series(base, visits)
    for a, r in zip(assessments[1:], responses, strict=True):
        a.target_sum_mm = r.sum_mm
        a.change_from_baseline_pct = r.change_from_baseline_pct
        a.change_from_nadir_pct = r.change_from_nadir_pct
        a.target_response = r.category
        new_map: dict[str, bool | Literal["equivocal"]] = {"no": False, "yes": True, "equivocal": "equivocal"}
        new = new_map[a.new_lesions]
        a.overall_response = timepoint_response(r.category, a.non_target or None, new)
        a.note = r.note


def day_of(origin: date, when: date) -> int:
    return (when - origin).days


def start_of_day(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time(9, 0)))
