"""CTCAE v4.03 grading. Cases are written from the published criteria (../shared/domain/ctcae.md)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npctrial.domain.ctcae import (
    CTCAE_VERSION,
    clinical_term_grades,
    clinical_terms,
    grade_description,
    grade_lab,
    grade_weight_loss,
    lab_terms,
)
from npctrial.errors import ValidationError
from tests.conftest import SHARED

CTCAE_MD = (SHARED / "domain" / "ctcae.md").read_text()

# Reference logic transcribed from ctcae.md section 2 (canonical units: 10^9/L, g/L).
LOW_CUTS = {
    "white_blood_cell_decreased": [(1.0, 4), (2.0, 3), (3.0, 2)],
    "neutrophil_count_decreased": [(0.5, 4), (1.0, 3), (1.5, 2)],
    "lymphocyte_count_decreased": [(0.2, 4), (0.5, 3), (0.8, 2)],
    "platelet_count_decreased": [(25, 4), (50, 3), (75, 2)],
    "anemia": [(80, 3), (100, 2)],
}


def ref_grade_low(term: str, value: float, lln: float) -> int:
    for limit, grade in LOW_CUTS[term]:
        if value < limit:
            return grade
    return 1 if value < lln else 0


def test_version() -> None:
    assert CTCAE_VERSION == "4.03"


def test_every_lab_term_in_ctcae_md_is_gradable() -> None:
    section = CTCAE_MD.split("## 2.")[1].split("## 3.")[0]
    cells = re.findall(r"^\| ([^|]+?) \| ", section, flags=re.MULTILINE)
    names = [re.sub(r"\s*\([^)]*\)", "", c) for c in cells if c not in ("Term (SOC)",) and not c.startswith("-")]
    assert len(names) == 9, names
    assert set(names) <= {t.term for t in lab_terms()}


@pytest.mark.parametrize("term", sorted(LOW_CUTS))
@pytest.mark.parametrize("offset", [-0.01, 0.0, 0.01])
def test_low_terms_at_every_cutoff_match_reference(term: str, offset: float) -> None:
    lln = 4.0 if term != "platelet_count_decreased" else 150.0
    lln = 130.0 if term == "anemia" else lln
    unit = "g/L" if term == "anemia" else "10^9/L"
    for limit, _ in LOW_CUTS[term]:
        value = limit + offset
        assert grade_lab(term, value, unit, lln=lln) == ref_grade_low(term, value, lln)


@pytest.mark.parametrize(
    ("term", "value", "unit", "lln", "grade"),
    [
        # Hb exactly 100 g/L = 10.0 g/dL: "<LLN - 100 g/L" is grade 1; grade 2 is "<100 - 80".
        ("anemia", 100, "g/L", 120, 1),
        ("anemia", 10.0, "g/dL", 12.0, 1),
        ("anemia", 6.2, "mmol/L", 7.4, 1),
        ("anemia", 99.9, "g/L", 120, 2),
        ("anemia", 9.99, "g/dL", 12.0, 2),
        ("anemia", 6.19, "mmol/L", 7.4, 2),
        ("anemia", 80, "g/L", 120, 2),
        ("anemia", 79.9, "g/L", 120, 3),
        ("anemia", 4.89, "mmol/L", 7.4, 3),
        ("anemia", 30, "g/L", 120, 3),  # lab-only grade is capped at 3
        ("anemia", 120, "g/L", 120, 0),  # equal to LLN is not < LLN
        ("Hb", 119, "g/L", 120, 1),
        # ANC exactly 1.0 x 10^9/L is grade 2; 0.99 is grade 3; 1500/mm3 = 1.5 x 10^9/L.
        ("ANC", 1.0, "10^9/L", 2.0, 2),
        ("ANC", 0.99, "10^9/L", 2.0, 3),
        ("ANC", 1000, "/mm3", 2000, 2),
        ("ANC", 999, "/mm3", 2000, 3),
        ("ANC", 1500, "/mm3", 2000, 1),
        ("ANC", 1499, "cells/mm3", 2000, 2),
        ("neutrophils", 0.49, "x10^9/L", 2.0, 4),
        ("WBC", 3.0, "10^9/L", 4.0, 1),
        ("WBC", 2.99, "10^9/L", 4.0, 2),
        ("WBC", 999, "/mm3", 4000, 4),
        ("platelets", 75, "10^9/L", 100, 1),
        ("platelets", 74, "10^9/L", 100, 2),
        ("platelets", 24_999, "/mm3", 100_000, 4),
        ("lymphocytes", 0.8, "10^3/uL", 1.0, 1),
        ("lymphocytes", 0.19, "10^9/L", 1.0, 4),
    ],
)
def test_low_term_boundaries(term: str, value: float, unit: str, lln: float, grade: int) -> None:
    assert grade_lab(term, value, unit, lln=lln) == grade


@pytest.mark.parametrize(
    ("term", "value", "uln", "grade"),
    [
        ("ALT", 40, 40, 0),  # equal to ULN
        ("ALT", 41, 40, 1),
        ("ALT", 120, 40, 1),  # exactly 3.0 x ULN
        ("ALT", 121, 40, 2),
        ("ALT", 200, 40, 2),  # exactly 5.0 x ULN
        ("AST", 201, 40, 3),
        ("AST", 800, 40, 3),  # exactly 20 x ULN
        ("AST", 801, 40, 4),
        ("bilirubin", 1.65, 1.1, 1),  # exactly 1.5 x ULN (inexact in binary)
        ("bilirubin", 1.66, 1.1, 2),
        ("bilirubin", 3.3, 1.1, 2),  # exactly 3.0 x ULN
        ("bilirubin", 11.0, 1.1, 3),  # exactly 10 x ULN
        ("bilirubin", 11.1, 1.1, 4),
    ],
)
def test_uln_term_boundaries(term: str, value: float, uln: float, grade: int) -> None:
    unit = "U/L" if term in ("ALT", "AST") else "mg/dL"
    assert grade_lab(term, value, unit, uln=uln) == grade


@pytest.mark.parametrize(
    ("value", "uln", "baseline", "grade"),
    [
        (1.0, 1.2, None, 0),
        (1.3, 1.2, None, 1),
        (1.8, 1.2, None, 1),  # exactly 1.5 x ULN
        (1.81, 1.2, None, 2),
        (7.2, 1.2, None, 3),  # exactly 6 x ULN
        (7.21, 1.2, None, 4),
        (0.9, 1.2, 0.8, 1),  # >1 x baseline, below ULN: grade 1 read literally
        (1.2, 1.2, 0.8, 1),  # exactly 1.5 x baseline
        (1.21, 1.2, 0.8, 2),  # > 1.5 x baseline
        (2.41, 1.2, 0.8, 3),  # > 3 x baseline beats 2.0 x ULN (grade 2)
        (0.8, None, 0.8, 0),
        (8.0, None, 0.8, 3),  # baseline route has no grade 4
    ],
)
def test_creatinine_higher_of_uln_and_baseline(value: float, uln: float | None,
                                               baseline: float | None, grade: int) -> None:
    assert grade_lab("creatinine", value, "mg/dL", uln=uln, baseline=baseline) == grade


def test_creatinine_baseline_grade1_switch() -> None:
    assert grade_lab("creatinine", 90, "umol/L", uln=100, baseline=70) == 1
    assert grade_lab("creatinine", 90, "umol/L", uln=100, baseline=70, creatinine_baseline_grade1=False) == 0
    assert grade_lab("creatinine", 110, "umol/L", uln=100, baseline=80, creatinine_baseline_grade1=False) == 1


@pytest.mark.parametrize(
    ("weight", "baseline", "grade"),
    [(100, 100, 0), (104, 100, 0), (95.1, 100, 0), (95, 100, 1), (90.1, 100, 1), (90, 100, 2),
     (63, 70, 2), (80.1, 100, 2), (80, 100, 3), (56, 70, 3)],
)
def test_weight_loss(weight: float, baseline: float, grade: int) -> None:
    assert grade_weight_loss(weight, baseline) == grade
    assert grade_lab("weight loss", weight, "kg", baseline=baseline) == grade


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"term": "ANC", "value": 1.8, "unit": "10^9/L"}, "lln"),  # between cut-off and LLN
        ({"term": "ANC", "value": 1.0, "unit": "g/L"}, "unit"),
        ({"term": "Hb", "value": 100, "unit": "mg/dL", "lln": 120}, "unit"),
        ({"term": "ANC", "value": -1.0, "unit": "10^9/L", "lln": 2.0}, "value"),
        ({"term": "ANC", "value": float("nan"), "unit": "10^9/L", "lln": 2.0}, "value"),
        ({"term": "sodium", "value": 140, "unit": "mmol/L"}, "term"),
        ({"term": "ALT", "value": 50, "unit": "U/L"}, "uln"),
        ({"term": "ALT", "value": 50, "unit": "U/L", "uln": 0}, "uln"),
        ({"term": "creatinine", "value": 1.0, "unit": "mg/dL"}, "uln"),
        ({"term": "weight loss", "value": 60, "unit": "kg"}, "baseline"),
        ({"term": "Hb", "value": 110, "unit": "g/L", "lln": -5}, "lln"),
    ],
)
def test_bad_input(kwargs: dict, field: str) -> None:
    args = (kwargs.pop("term"), kwargs.pop("value"), kwargs.pop("unit"))
    with pytest.raises(ValidationError) as info:
        grade_lab(*args, **kwargs)
    assert info.value.field == field


def test_lln_not_needed_when_a_fixed_cutoff_applies() -> None:
    assert grade_lab("ANC", 1.2, "10^9/L") == 2


# ---------------------------------------------------------------- monotonicity (hypothesis)

LOW_CASES = [("anemia", "g/L", 120.0, 200.0), ("ANC", "10^9/L", 2.0, 10.0), ("WBC", "/mm3", 4000.0, 20000.0),
             ("platelets", "10^9/L", 150.0, 500.0), ("lymphocytes", "10^9/L", 1.0, 5.0),
             ("anemia", "mmol/L", 7.4, 12.0), ("anemia", "g/dL", 12.0, 20.0)]


@given(case=st.sampled_from(LOW_CASES), a=st.floats(0, 1), b=st.floats(0, 1))
def test_low_grade_monotone_non_increasing_in_value(case: tuple, a: float, b: float) -> None:
    term, unit, lln, top = case
    lo, hi = sorted((a * top, b * top))
    assert grade_lab(term, lo, unit, lln=lln) >= grade_lab(term, hi, unit, lln=lln)


@given(term=st.sampled_from(["ALT", "AST", "bilirubin", "creatinine"]), uln=st.floats(0.5, 100),
       a=st.floats(0, 30), b=st.floats(0, 30), base=st.none() | st.floats(0.3, 3))
def test_high_grade_monotone_non_decreasing_in_value(term: str, uln: float, a: float, b: float,
                                                     base: float | None) -> None:
    lo, hi = sorted((a * uln, b * uln))
    unit = "U/L" if term in ("ALT", "AST") else "umol/L"
    kw = {"uln": uln, "baseline": None if base is None or term != "creatinine" else base * uln}
    assert grade_lab(term, lo, unit, **kw) <= grade_lab(term, hi, unit, **kw)


@given(baseline=st.floats(30, 150), a=st.floats(0.5, 1.2), b=st.floats(0.5, 1.2))
def test_weight_loss_grade_monotone(baseline: float, a: float, b: float) -> None:
    lo, hi = sorted((a * baseline, b * baseline))
    assert grade_weight_loss(lo, baseline) >= grade_weight_loss(hi, baseline)


# ---------------------------------------------------------------- clinical terms


@pytest.mark.parametrize(
    ("term", "grades"),
    [
        ("Mucositis oral", [1, 2, 3, 4, 5]),
        ("Dry mouth", [1, 2, 3]),
        ("Dermatitis radiation", [1, 2, 3, 4, 5]),
        ("Dysphagia", [1, 2, 3, 4, 5]),
        ("Nausea", [1, 2, 3]),
        ("Vomiting", [1, 2, 3, 4, 5]),
        ("Diarrhea", [1, 2, 3, 4, 5]),
        ("Fatigue", [1, 2, 3]),
        ("Weight loss", [1, 2, 3]),
        ("Anorexia", [1, 2, 3, 4, 5]),
        ("Hearing impaired", [1, 2, 3, 4]),
        ("Tinnitus", [1, 2, 3]),
        ("Palmar-plantar erythrodysesthesia syndrome", [1, 2, 3]),
        ("Febrile neutropenia", [3, 4, 5]),
    ],
)
def test_clinical_term_grades_match_ctcae_md(term: str, grades: list[int]) -> None:
    out = clinical_term_grades(term)
    assert [g.grade for g in out] == grades
    assert all(g.text for g in out)
    assert clinical_term_grades(term, include_absent=True)[0].grade == 0


def test_clinical_wording_is_published_text() -> None:
    mucositis = {g.grade: g.text for g in clinical_term_grades("mucositis_oral")}
    assert mucositis[3] == "Severe pain; interfering with oral intake"
    vomiting = {g.grade: g.text for g in clinical_term_grades("vomiting")}
    assert "separated by 5 minutes" in vomiting[1]
    nausea = {g.grade: g.text for g in clinical_term_grades("nausea")}
    assert "IV" not in nausea[2] and "IV" not in nausea[3]  # v3.0 IV-fluid clauses dropped in v4
    dry = {g.grade: g.text for g in clinical_term_grades("dry mouth")}
    assert ">0.2 ml/min" in dry[1] and "<0.1 ml/min" in dry[3]


def test_listings_for_forms() -> None:
    lab = {t.key: t for t in lab_terms()}
    assert set(lab["anemia"].units) == {"g/L", "g/dL", "mmol/L"}
    assert {"10^9/L", "/mm3"} <= set(lab["neutrophil_count_decreased"].units)
    assert set(lab["creatinine_increased"].units) >= {"umol/L", "mg/dL"}
    assert lab["creatinine_increased"].needs == ("uln", "baseline")
    assert lab["anemia"].needs == ("lln",)
    names = [t.term for t in clinical_terms()]
    assert "Mucositis oral" in names and "Dry mouth" in names
    assert next(t for t in clinical_terms() if t.key == "dry_mouth").grades == (1, 2, 3)


def test_grade_description() -> None:
    assert grade_description("anemia", 1).text.startswith("Hemoglobin (Hgb) <LLN - 10.0 g/dL")
    assert grade_description("ANC", 4).text == "<500/mm3; <0.5 x 10e9 /L"
    with pytest.raises(ValidationError):
        grade_description("ALT", 5)  # Investigations terms have no grade 5 in v4.03
    with pytest.raises(ValidationError):
        grade_description("dry mouth", 4)
    with pytest.raises(ValidationError):
        clinical_term_grades("ANC")


@pytest.mark.parametrize(("alias", "key"), [("xerostomia", "dry_mouth"), ("Oral mucositis", "mucositis_oral"),
                                            ("radiation dermatitis", "dermatitis_radiation"),
                                            ("hand-foot syndrome", "palmar_plantar_erythrodysesthesia_syndrome"),
                                            ("hearing loss", "hearing_impaired")])
def test_clinical_aliases(alias: str, key: str) -> None:
    assert clinical_term_grades(alias)[0].term_key == key


# ---------------------------------------------------------------- allowed grades (NCI v4.03 table)

from npctrial.domain import (  # noqa: E402
    allowed_grades,
    check_ae_grade,
    other_specify_soc,
    other_specify_socs,
)


@pytest.mark.parametrize(
    ("term", "grade"),
    [("dry mouth", 4), ("dry_mouth", 5), ("febrile neutropenia", 1), ("febrile_neutropenia", 2),
     ("fatigue", 4), ("fatigue", 5), ("neutrophil_count_decreased", 5), ("ALT", 5), ("weight loss", 4),
     ("hyponatremia", 2), ("hearing impaired", 5), ("nausea", 4), ("mucositis oral", 0), ("mucositis oral", 6)],
)
def test_grades_the_table_marks_not_available_are_refused(term: str, grade: int) -> None:
    with pytest.raises(ValidationError) as info:
        check_ae_grade(term, grade)
    assert info.value.field == "grade"
    assert "allowed grades" in str(info.value)


@pytest.mark.parametrize(
    ("term", "grades"),
    [("dry_mouth", (1, 2, 3)), ("febrile_neutropenia", (3, 4, 5)), ("fatigue", (1, 2, 3)),
     ("neutrophil_count_decreased", (1, 2, 3, 4)), ("anemia", (1, 2, 3, 4, 5)), ("hyponatremia", (1, 3, 4, 5)),
     ("mucositis_oral", (1, 2, 3, 4, 5))],
)
def test_allowed_grades(term: str, grades: tuple[int, ...]) -> None:
    assert allowed_grades(term) == grades
    for g in grades:
        assert check_ae_grade(term, g) == g


def test_other_specify_needs_its_soc_and_follows_it() -> None:
    assert len(other_specify_socs()) == 26
    with pytest.raises(ValidationError) as info:
        allowed_grades("other")
    assert info.value.field == "soc"
    assert allowed_grades("other", soc="gastrointestinal") == (1, 2, 3, 4, 5)
    assert allowed_grades("other", soc="Eye disorders") == (1, 2, 3, 4)  # no grade 5 in v4.03
    with pytest.raises(ValidationError):
        check_ae_grade("other", 5, soc="eye")
    assert other_specify_soc("skin").term == "Skin and subcutaneous tissue disorders - Other, specify"
    with pytest.raises(ValidationError) as info:
        other_specify_soc("liver")
    assert info.value.field == "soc"


def test_hearing_grade1_wording_is_the_nci_text() -> None:
    # The v4.03 grade 1 has no "not enrolled in a monitoring program" clause (NCI spreadsheet).
    text = grade_description("hearing impaired", 1).text
    assert "subjective change in the absence of a Grade 1 threshold shift" in text
    assert "not enrolled" not in text
