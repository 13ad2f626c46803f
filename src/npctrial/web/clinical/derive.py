"""Derived CRF values, computed by :mod:`npctrial.domain` (the web layer re-implements no rule).

Each ``derive_*`` takes an unsaved or changed record and the domain protocol it is collected
under, sets the derived fields and raises :class:`npctrial.errors.ValidationError` naming the
field when the domain rejects the input.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.domain import (
    TargetMeasurement,
    assess_target_series,
    banded_dose,
    bed,
    body_surface_area,
    check_rtog_grade,
    classify_onset,
    eqd2,
    grade_lab,
    stage_group,
    timepoint_response,
)
from npctrial.errors import ClinicalWarning, ValidationError

#: BSA used for dosing. Neither seed protocol names a formula or rounding; Mosteller (NEJM 1987),
#: reported to 2 decimals, is the oncology default of shared/domain/dosing.md §1 (no cap stated).
BSA_FORMULA = "mosteller"
BSA_DECIMALS = 2

#: ICH E6(R2) 4.11.1: SAEs are reported to the sponsor immediately; protocols (and 21 CFR 312.64(b)
#: practice) set "within 24 hours of awareness".
SAE_REPORTING_HOURS = 24

#: Linear-quadratic defaults (Fowler, Br J Radiol 1989; shared/domain/dosing.md): alpha/beta 10 and 3 Gy.
ALPHA_BETA_TUMOUR = 10.0
ALPHA_BETA_LATE = 3.0

#: The no-dose-modification rule: a changed dose is a deviation that needs one of these reasons.
ALLOWED_DEVIATION_REASONS = ("progression", "grade4_toxicity", "refusal", "other")


def derive_baseline(record: Any, protocol: Any) -> list[str]:
    """BSA (Mosteller, 2 dp), the S-1 band dose of the protocol with its rule, and the stage group.

    Returns the clinical warnings raised (e.g. BSA on a boundary the protocol left ambiguous).
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClinicalWarning)
        bsa = body_surface_area(record.height_cm, record.weight_kg, BSA_FORMULA, decimals=BSA_DECIMALS)
        record.bsa_m2 = bsa.bsa_m2
        record.bsa_rule = f"Mosteller sqrt(height x weight / 3600), {bsa.rounding}; raw {bsa.bsa_raw_m2:.4f} m2"
        table = next((t for t in protocol.dosing if t.drug.upper() == "S-1"), None)
        if table is not None:
            dose = banded_dose(bsa, table)
            record.s1_mg_per_dose = dose.mg_per_dose
            record.s1_doses_per_day = dose.doses_per_day
            record.dose_rule = f"{dose.band.describe()} -> {dose.mg_per_dose:g} mg x {dose.doses_per_day}/day; " \
                               f"protocol: {table.wording or ''}"[:500]
        else:
            record.s1_mg_per_dose = record.s1_doses_per_day = None
            record.dose_rule = "the protocol has no S-1 band table"
        notes.extend(str(w.message) for w in caught if issubclass(w.category, ClinicalWarning))
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
    record.bed_gy10, record.eqd2_gy10 = bed(d, n, ALPHA_BETA_TUMOUR), eqd2(d, n, ALPHA_BETA_TUMOUR)
    record.bed_gy3, record.eqd2_gy3 = bed(d, n, ALPHA_BETA_LATE), eqd2(d, n, ALPHA_BETA_LATE)
    return []


def derive_administration(record: Any, protocol: Any) -> list[str]:
    """Adherence from the diary; a dose differing from the planned one is a deviation with a reason.

    Both seed protocols allow no dose modification during CCRT "unless progression, grade 4
    toxicity or refusal": the changed dose is kept as given, flagged, and must carry a reason.
    """
    if record.doses_planned:
        taken = record.doses_taken or 0
        if taken > record.doses_planned:
            raise ValidationError(_("doses_taken (%(taken)s) cannot exceed doses_planned (%(planned)s)")
                                  % {"taken": taken, "planned": record.doses_planned}, field="doses_taken")
        record.adherence_pct = 100.0 * taken / record.doses_planned
    else:
        record.adherence_pct = None
    record.deviation = abs(float(record.dose_mg) - float(record.planned_dose_mg)) > 1e-9
    if record.deviation and record.deviation_reason not in ALLOWED_DEVIATION_REASONS:
        raise ValidationError(
            _("dose_mg %(dose)s differs from the planned %(planned)s mg: the protocol allows no dose modification, "
              "so record the deviation reason (progression, grade 4 toxicity, refusal or other)")
            % {"dose": f"{record.dose_mg:g}", "planned": f"{record.planned_dose_mg:g}"},
            field="deviation_reason")
    if record.deviation and record.deviation_reason == "other" and not record.deviation_note.strip():
        raise ValidationError(_("deviation_note is required when the deviation reason is 'other'"),
                              field="deviation_note")
    return []


def suggest_lab_grade(term: str, value: float, unit: str, *, lln: float | None = None, uln: float | None = None,
                      baseline: float | None = None) -> int:
    """CTCAE v4.03 grade suggested by :func:`npctrial.domain.grade_lab`."""
    return grade_lab(term, value, unit, lln=lln, uln=uln, baseline=baseline)


def derive_lab(record: Any, protocol: Any) -> list[str]:
    """Suggested grade from the domain; a recorded grade that differs needs an override reason."""
    record.suggested_grade = suggest_lab_grade(record.term, record.value, record.unit, lln=record.lln,
                                               uln=record.uln, baseline=record.baseline_value)
    if record.grade is None:
        record.grade = record.suggested_grade
    if not 0 <= int(record.grade) <= 4:
        raise ValidationError(_("grade must be 0-4, got %(grade)s") % {"grade": record.grade}, field="grade")
    if int(record.grade) != record.suggested_grade and not record.override_reason.strip():
        raise ValidationError(_("grade %(grade)s overrides the suggested CTCAE grade %(suggested)s: "
                                "override_reason is required")
                              % {"grade": record.grade, "suggested": record.suggested_grade}, field="override_reason")
    return []


def sae_deadline(aware_at: datetime) -> datetime:
    return aware_at + timedelta(hours=SAE_REPORTING_HOURS)


def derive_adverse_event(record: Any, protocol: Any) -> list[str]:
    """Grade 1-5; stop not before start; serious AEs get the 24-hour reporting deadline."""
    if not 1 <= int(record.grade) <= 5:
        raise ValidationError(_("grade must be 1-5 (CTCAE has no grade 0 for an AE), got %(grade)s")
                              % {"grade": record.grade}, field="grade")
    if record.stop_date and record.stop_date < record.start_date:
        raise ValidationError(_("stop_date (%(stop)s) is before start_date (%(start)s)")
                              % {"stop": record.stop_date, "start": record.start_date}, field="stop_date")
    if record.serious:
        if record.aware_at is None:
            record.aware_at = timezone.now()
        record.sae_report_due = sae_deadline(record.aware_at)
    else:
        record.sae_report_due = None
    return []


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
