"""Derived CRF values, computed by :mod:`npctrial.domain` (the web layer re-implements no rule).

Each ``derive_*`` takes an unsaved or changed record and the domain protocol it is collected
under, passes the record's fields to the domain's ``check_*``/``compute_*`` functions, sets the
derived fields and lets the domain's :class:`npctrial.errors.ValidationError` (naming the field,
a coded message translated at the page and the API) through.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from npctrial.domain import (
    TargetMeasurement,
    assess_target_series,
    bed,
    check_ae_dates,
    check_ae_term,
    check_delivered_fractions,
    check_lab_grade,
    check_lab_units,
    check_rt_course_dates,
    check_rtog_grade,
    check_rtog_timing,
    compute_adherence_pct,
    compute_has_table,
    eqd2,
    grade_lab,
    stage_group,
    timepoint_response,
)
from npctrial.domain.radiobiology import ALPHA_BETA_LATE_GY, ALPHA_BETA_TUMOUR_GY
from npctrial.domain.treatment_rules import (
    check_dose,
    compute_protocol_bsa,
    compute_protocol_dose,
    rules_of,
    sae_report_deadline,
)
from npctrial.errors import ClinicalWarning
from npctrial.messages import Message


def _reader_text(warning: object) -> str:
    """A clinical warning of the domain layer in the reader's language (its coded message), else its text."""
    text = warning.args[0] if isinstance(warning, Warning) and warning.args else warning
    return text.render(get_language()) if isinstance(text, Message) else str(text)


def derive_baseline(record: Any, protocol: Any) -> list[str]:
    """BSA by the protocol's rule (formula, rounding before or after banding), the S-1 band dose, the stage group.

    Returns the clinical warnings raised (e.g. BSA on a boundary the protocol left ambiguous).
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClinicalWarning)
        bsa, _ = compute_protocol_bsa(rules_of(protocol), record.height_cm, record.weight_kg)
        notes.extend(_reader_text(w.message) for w in caught if issubclass(w.category, ClinicalWarning))
    record.bsa_m2 = bsa.bsa_m2
    record.bsa_rule = f"{rules_of(protocol).bsa.describe()}; raw {bsa.bsa_raw_m2:.4f} m2"[:300]
    dose = compute_protocol_dose(protocol, "S-1", record.height_cm, record.weight_kg)
    if dose is not None:
        record.s1_mg_per_dose = dose.mg_per_dose
        record.s1_doses_per_day = dose.dose.doses_per_day
        record.dose_rule = dose.rule[:500]
        notes.extend(_reader_text(m) for m in dose.warning_messages)
    else:
        record.s1_mg_per_dose = record.s1_doses_per_day = None
        record.dose_rule = "the protocol has no S-1 band table"
    group = stage_group(record.t_category, record.n_category, record.m_category, int(record.tnm_edition))
    record.stage_group = group or ""
    return notes


def derive_radiotherapy(record: Any, protocol: Any) -> list[str]:
    """Dates and fractions checked (:mod:`npctrial.domain.radiotherapy_course`); BED and EQD2 of the
    planned course at alpha/beta 10 and 3 Gy."""
    check_rt_course_dates(record.start_date, record.end_date)
    check_delivered_fractions(record.fractions, record.delivered_fractions)
    n, d = int(record.fractions), float(record.total_dose_gy)
    record.bed_gy10, record.eqd2_gy10 = bed(d, n, ALPHA_BETA_TUMOUR_GY), eqd2(d, n, ALPHA_BETA_TUMOUR_GY)
    record.bed_gy3, record.eqd2_gy3 = bed(d, n, ALPHA_BETA_LATE_GY), eqd2(d, n, ALPHA_BETA_LATE_GY)
    return []


def derive_administration(record: Any, protocol: Any, baseline: Any = None) -> list[str]:
    """Adherence from the diary; the protocol dose from the baseline BSA; a different dose is a deviation.

    Adherence is :func:`npctrial.domain.compute_adherence_pct`. The expected dose is the protocol's
    band dose for the subject's baseline height and weight (``protocol_dose_mg``); for a drug the
    protocol gives no table for, the planned dose. A dose given that differs is a deviation
    (:func:`npctrial.domain.treatment_rules.check_dose`) with one of the protocol's reasons ("no
    dose modification unless progression, grade 4 toxicity or refusal" in seed 000).
    """
    notes: list[str] = []
    record.adherence_pct = compute_adherence_pct(record.doses_taken, record.doses_planned)
    dose = None
    if baseline is not None and baseline.height_cm and baseline.weight_kg:
        dose = compute_protocol_dose(protocol, record.drug, baseline.height_cm, baseline.weight_kg)
    elif compute_has_table(protocol, record.drug):
        notes.append(_("no baseline height and weight yet: the %(drug)s dose cannot be checked against the "
                       "protocol's BSA bands") % {"drug": record.drug})
    record.protocol_dose_mg = None if dose is None else dose.mg_per_dose
    expected, basis = (dose.mg_per_dose, "protocol") if dose is not None else (record.planned_dose_mg, "planned")
    checked = check_dose(rules_of(protocol), float(record.dose_mg), float(expected), basis=basis,
                         reason=record.deviation_reason or "", note=record.deviation_note or "")
    record.deviation = checked.deviation
    return notes


def lab_value_checks(record: Any) -> list[Any]:
    """:func:`npctrial.domain.check_lab_units` over a lab record (result, LLN, ULN, baseline in their units)."""
    return check_lab_units(record.term, record.value, record.unit, lln=record.lln, lln_unit=record.lln_unit,
                           uln=record.uln, uln_unit=record.uln_unit, baseline_value=record.baseline_value,
                           baseline_unit=record.baseline_unit)


def derive_lab(record: Any, protocol: Any) -> list[str]:
    """Units checked; the grade :func:`npctrial.domain.grade_lab` suggests; a recorded grade that
    differs needs an override reason (:func:`npctrial.domain.check_lab_grade`)."""
    lab_value_checks(record)
    record.suggested_grade = grade_lab(
        record.term, record.value, record.unit, lln=record.lln, uln=record.uln, baseline=record.baseline_value,
        lln_unit=record.lln_unit or None, uln_unit=record.uln_unit or None, baseline_unit=record.baseline_unit or None)
    if record.grade is None:
        record.grade = record.suggested_grade
    check_lab_grade(record.term, int(record.grade), record.suggested_grade, record.override_reason)
    return []


def derive_adverse_event(record: Any, protocol: Any) -> list[str]:
    """CTCAE v4.03 term, SOC and grade (:func:`npctrial.domain.check_ae_term`); stop not before
    start (:func:`npctrial.domain.check_ae_dates`); the SAE deadline of the protocol
    (:func:`npctrial.domain.treatment_rules.sae_report_deadline`) from awareness (now, if not given)."""
    record.soc = check_ae_term(record.term, int(record.grade), term_other=record.term_other, soc=record.soc)
    check_ae_dates(record.start_date, record.stop_date)
    if record.serious:
        if record.aware_at is None:
            record.aware_at = timezone.now()
        record.sae_report_due = sae_report_deadline(record.aware_at, rules_of(protocol))
    else:
        record.sae_report_due = None
    return []


def derive_rtog(record: Any, protocol: Any, rt: Any) -> list[str]:
    """Grade valid for the organ and scale; the assessment date against the RT course
    (:func:`npctrial.domain.check_rtog_timing`: late scores only beyond the protocol's 90 days)."""
    check_rtog_grade(record.organ, record.scale, int(record.grade))
    record.days_after_rt_end = check_rtog_timing(
        record.scale, record.assessment_date, None if rt is None else rt.start_date,
        None if rt is None else rt.end_date, late_after_days=rules_of(protocol).rtog_late_after_days)
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
