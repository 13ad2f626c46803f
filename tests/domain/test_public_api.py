"""The public API of npctrial.domain is exactly this list (add names here when adding them)."""

from __future__ import annotations

import importlib

import npctrial.domain as domain

EXPECTED = sorted([
    # rule tables
    "load_rule_tables",
    # rtog
    "RTOGGrade",
    "RTOGOrgan",
    "check_rtog_grade",
    "check_rtog_timing",
    "classify_onset",
    "rtog_grade_description",
    "rtog_grades",
    "rtog_organs",
    # ctcae
    "OTHER_SPECIFY",
    "ClinicalTerm",
    "GradeDescription",
    "LabTerm",
    "OtherSpecifySoc",
    "allowed_grades",
    "check_ae_grade",
    "check_lab_grade",
    "ctcae_term_name",
    "other_specify_soc",
    "other_specify_socs",
    # lab analytes and units
    "Analyte",
    "LabUnit",
    "LabValueCheck",
    "check_lab_units",
    "check_lab_value",
    "convert_lab_value",
    "lab_analyte",
    "lab_analytes",
    # lab panels and reference ranges
    "LabPanel",
    "PanelSection",
    "ReferenceRange",
    "check_reference_range",
    "lab_panel",
    "lab_panels",
    "reference_limits_needed",
    "clinical_term_grades",
    "clinical_terms",
    "grade_description",
    "grade_lab",
    "grade_weight_loss",
    "lab_terms",
    # radiobiology and the radiotherapy course
    "bed",
    "check_delivered_fractions",
    "check_rt_course_dates",
    "eqd2",
    # adverse events as recorded
    "check_ae_dates",
    "check_ae_term",
    "compute_term_soc",
    # dosing
    "BSADose",
    "BSAResult",
    "BandTable",
    "BandedDose",
    "CarboplatinDose",
    "CreatinineClearance",
    "DoseBand",
    "band_table_from_dict",
    "banded_dose",
    "body_surface_area",
    "bsa_dose",
    "carboplatin_dose",
    "cisplatin_dose",
    "cockcroft_gault",
    "check_doses_taken",
    "compute_adherence_pct",
    "compute_cumulative_dose_per_m2",
    "compute_has_table",
    "compute_weight_change_percent",
    "load_band_table",
    "requires_dose_recalculation",
    # staging
    "NodalFindings",
    "PrimaryFindings",
    "Restaging",
    "StageResult",
    "StagingFindings",
    "TNM",
    "derive_n_category",
    "derive_t_category",
    "findings_from_mapping",
    "parse_tnm",
    "restage",
    "stage_findings",
    "stage_group",
    # protocol, rules, eligibility
    "Criterion",
    "CriterionResult",
    "DoseTable",
    "EligibilityReport",
    "EndpointSpec",
    "FieldSpec",
    "FollowUpPlan",
    "MISSING",
    "Protocol",
    "Randomisation",
    "Rule",
    "SimonDesign",
    "VisitPeriod",
    "available_protocols",
    "evaluate_eligibility",
    "load_protocol",
    "parse_protocol",
    "parse_rule",
    # risk
    "HIGH_RISK_RULE",
    "RiskAssessment",
    "assess_high_risk",
    # followup
    "FOLLOW_UP_STOPS",
    "FollowUpSchedule",
    "Visit",
    "assign_visits",
    "follow_up_schedule",
    "follow_up_stop",
    "overdue_visits",
    "visit_statuses",
    # schedule of assessments
    "EventDefinition",
    "PlannedEvent",
    "Schedule",
    "ScheduleEvent",
    "assign_event",
    "classify_timing",
    "expand_events",
    "plan_events",
    # endpoints
    "AeRate",
    "EndpointValue",
    "Failure",
    "FirstFailure",
    "PatientCourse",
    "compute_ae_rate",
    "derive_endpoint",
    "derive_endpoints",
    "derive_first_failure",
    "derive_worst_grades",
    # recist
    "BestOverallResponse",
    "Lesion",
    "TargetMeasurement",
    "TargetResponse",
    "TargetSelection",
    "Timepoint",
    "assess_target_series",
    "best_overall_response",
    "check_target_lesions",
    "classify_lesion",
    "compute_percent_change",
    "select_target_lesions",
    "target_response",
    "timepoint_response",
])


def test_all_is_locked() -> None:
    assert sorted(domain.__all__) == EXPECTED


def test_every_name_is_importable() -> None:
    module = importlib.import_module("npctrial.domain")
    for name in EXPECTED:
        assert getattr(module, name) is not None, name
