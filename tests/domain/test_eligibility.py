"""Eligibility against the two shipped protocols; cases written from the protocol wording."""

from __future__ import annotations

from typing import Any

import pytest

from npctrial.domain.eligibility import evaluate_eligibility
from npctrial.domain.protocol import load_protocol
from npctrial.errors import ValidationError

IMRT = load_protocol("imrt-s1")
NIMO = load_protocol("ccrt-nimotuzumab")


def eligible_imrt(**changes: Any) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "id": "T-1",
        "histology_confirmed": True,
        "t_category": "T3",
        "n_category": "N1",
        "m_category": "M0",
        "ecog": 1,
        "measurable_lesions": 1,
        "wbc": 5.0,
        "hb": 130,
        "platelets": 200,
        "bilirubin": 0.8,
        "alt": 20,
        "alt_uln": 40,
        "ast": 20,
        "ast_uln": 40,
        "creatinine": 70,
        "creatinine_uln": 100,
        "previous_radiotherapy": False,
        "other_malignancy_history": False,
        "pregnant_or_lactating": False,
        "s1_allergy": False,
        "major_organ_dysfunction": False,
        "uncontrolled_infection": False,
        "severe_gi_disease": False,
        "mental_disorder": False,
    }
    patient.update(changes)
    return patient


def status(report, cid: str) -> str:
    return next(r.status for r in report.results if r.criterion_id == cid)


def test_fully_eligible_patient() -> None:
    report = evaluate_eligibility(IMRT, eligible_imrt())
    assert report.verdict == "eligible" and report.eligible
    assert all(r.status == ("met" if r.kind == "inclusion" else "not met") for r in report.results)
    assert report.failed == () and report.missing == ()


@pytest.mark.parametrize(
    ("field", "value", "cid", "expected"),
    [
        # "hemoglobin level ≥100g/L": exactly 100 is met
        ("hb", 100, "I5", "met"),
        ("hb", 99.9, "I5", "not met"),
        ("hb", {"value": 10.0, "unit": "g/dL"}, "I5", "met"),
        ("hb", {"value": 9.9, "unit": "g/dL"}, "I5", "not met"),
        # "white blood cell counts ≥4×10^9/L"
        ("wbc", 4.0, "I4", "met"),
        ("wbc", 3.99, "I4", "not met"),
        ("wbc", {"value": 4000, "unit": "/mm3"}, "I4", "met"),
        # "platelet counts ≥100×10^9/L"
        ("platelets", 100, "I6", "met"),
        ("platelets", 99, "I6", "not met"),
        # "total bilirubin level ≤1.5 mg/dl"
        ("bilirubin", 1.5, "I7", "met"),
        ("bilirubin", 1.51, "I7", "not met"),
        ("bilirubin", {"value": 25.0, "unit": "umol/L"}, "I7", "met"),
        ("bilirubin", {"value": 26.0, "unit": "umol/L"}, "I7", "not met"),
        # "ECOG performance status of 0 or 1"
        ("ecog", 0, "I2", "met"),
        ("ecog", 2, "I2", "not met"),
        # "at least one measurable lesion"
        ("measurable_lesions", 0, "I3", "not met"),
        # "≤1.5 times the upper limit of normal": ALT 60 with ULN 40 is exactly 1.5 x ULN
        ("alt", 60, "I8", "met"),
        ("alt", 61, "I8", "not met"),
        ("creatinine", 150, "I9", "met"),
        ("creatinine", 151, "I9", "not met"),
    ],
)
def test_laboratory_and_performance_boundaries(field: str, value: Any, cid: str, expected: str) -> None:
    report = evaluate_eligibility(IMRT, eligible_imrt(**{field: value}))
    assert status(report, cid) == expected
    assert report.verdict == ("eligible" if expected == "met" else "ineligible")


@pytest.mark.parametrize(
    ("t", "n", "expected"),
    [
        ("T3", "N0", "met"),  # stage III (AJCC 8th)
        ("T1", "N2", "met"),  # stage III
        ("T4", "N0", "met"),  # stage IVA
        ("T1", "N3", "met"),  # stage IVA
        ("T2", "N1", "not met"),  # stage II is not locally advanced here
        ("T1", "N0", "not met"),  # stage I
    ],
)
def test_locally_advanced_stage(t: str, n: str, expected: str) -> None:
    report = evaluate_eligibility(IMRT, eligible_imrt(t_category=t, n_category=n))
    assert status(report, "I1") == expected


def test_distant_metastasis_is_ineligible_twice() -> None:
    report = evaluate_eligibility(IMRT, eligible_imrt(m_category="M1"))
    assert status(report, "I1") == "not met"
    assert status(report, "E7") == "met"
    assert report.verdict == "ineligible"
    assert {r.criterion_id for r in report.failed} == {"I1", "E7"}


@pytest.mark.parametrize(
    "field",
    [
        "previous_radiotherapy",
        "other_malignancy_history",
        "pregnant_or_lactating",
        "s1_allergy",
        "major_organ_dysfunction",
        "uncontrolled_infection",
        "severe_gi_disease",
        "mental_disorder",
    ],
)
def test_an_exclusion_that_is_met_excludes(field: str) -> None:
    report = evaluate_eligibility(IMRT, eligible_imrt(**{field: True}))
    assert report.verdict == "ineligible"
    (failed,) = report.failed
    assert failed.kind == "exclusion" and failed.status == "met"


def test_missing_data_is_missing_not_failed() -> None:
    patient = eligible_imrt()
    del patient["hb"]
    patient["s1_allergy"] = None
    report = evaluate_eligibility(IMRT, patient)
    assert status(report, "I5") == "missing"
    assert status(report, "E4") == "missing"
    assert report.verdict == "incomplete"
    i5 = next(r for r in report.results if r.criterion_id == "I5")
    assert i5.missing_fields == ("hb",)


def test_not_met_wins_over_missing() -> None:
    patient = eligible_imrt(ecog=3)
    del patient["hb"]
    assert evaluate_eligibility(IMRT, patient).verdict == "ineligible"


def test_partly_missing_rule_decided_when_possible() -> None:
    # "alt <= 1.5*uln and ast <= 1.5*uln": a failing ALT decides it even without AST
    patient = eligible_imrt(alt=200)
    del patient["ast"]
    report = evaluate_eligibility(IMRT, patient)
    assert status(report, "I8") == "not met"


def test_bad_values_raise_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="hb must be a number"):
        evaluate_eligibility(IMRT, eligible_imrt(hb="low"))
    with pytest.raises(ValidationError, match="must be a mapping"):
        evaluate_eligibility(IMRT, ["hb", 100])  # type: ignore[arg-type]


def test_report_text_and_frame() -> None:
    report = evaluate_eligibility(IMRT, eligible_imrt(hb=95))
    text = report.summary()
    assert "INELIGIBLE" in text and "hb=95 g/L" in text and "hb >= 100" in text
    frame = report.to_frame()
    assert list(frame.columns) == ["criterion", "kind", "status", "excludes", "values", "rule", "wording"]
    assert len(frame) == len(IMRT.criteria)
    assert frame.loc[frame.criterion == "I5", "status"].item() == "not met"


# --------------------------------------------------------------------------- nimotuzumab protocol


def nimo(**changes: Any) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "t_category": "T3",
        "n_category": "N2",
        "m_category": "M0",
        "induction_chemotherapy": True,
        "ebv_dna_post_induction": 0,
        "induction_response": "PR",
    }
    patient.update(changes)
    return patient


@pytest.mark.parametrize(
    ("ebv", "response", "expected"),
    [
        (0, "PR", "not met"),  # EBV DNA = 0 and CR/PR: not high risk
        (0, "CR", "not met"),
        (1, "CR", "met"),  # > 0 copies/mL
        (0, "SD", "met"),
        (0, "PD", "met"),
        (None, "PR", "missing"),
        (None, "SD", "met"),
        (500, None, "met"),
        (0, None, "missing"),
    ],
)
def test_high_risk_criterion(ebv: float | None, response: str | None, expected: str) -> None:
    report = evaluate_eligibility(NIMO, nimo(ebv_dna_post_induction=ebv, induction_response=response))
    assert status(report, "I3") == expected


@pytest.mark.parametrize(("t", "n", "expected"), [("T2", "N0", "met"), ("T1", "N0", "not met"), ("T4", "N3", "met")])
def test_nimotuzumab_stage_ii_to_iva(t: str, n: str, expected: str) -> None:
    report = evaluate_eligibility(NIMO, nimo(t_category=t, n_category=n, ebv_dna_post_induction=10))
    assert status(report, "I1") == expected


def test_unknown_keys_are_reported_as_ignored() -> None:
    patient = eligible_imrt(haemoglobin=120, protocol="imrt-s1")
    report = evaluate_eligibility(IMRT, patient)
    assert report.ignored_fields == ("haemoglobin",)
    assert "haemoglobin" in report.summary()
