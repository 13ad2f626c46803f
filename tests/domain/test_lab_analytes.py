"""Laboratory analyte catalogue: units, conversions, plausibility, and CTCAE grading across units.

Conversion factors are checked against molar masses (bilirubin 584.66 g/mol, creatinine
113.12 g/mol, magnesium 24.305 g/mol, haemoglobin monomer 16 114.5 g/mol) and the SI
definitions of the count units (1 /mm3 = 1 /uL = 10^6/L).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npctrial.domain import (
    check_lab_value,
    convert_lab_value,
    grade_lab,
    lab_analyte,
    lab_analytes,
    lab_terms,
)
from npctrial.errors import ValidationError


def test_every_ctcae_lab_term_has_an_analyte_and_back() -> None:
    by_term = {a.ctcae_term: a for a in lab_analytes() if a.ctcae_term}
    for t in lab_terms():
        assert by_term[t.key].key == t.analyte
        assert t.units == lab_analyte(t.analyte).unit_names


@pytest.mark.parametrize(("name", "key"), [("Hb", "hemoglobin"), ("anemia", "hemoglobin"), ("ANC", "neutrophils"),
                                           ("blood_bilirubin_increased", "bilirubin"), ("Serum creatinine", "creatinine"),
                                           ("plt", "platelets"), ("SGPT", "alt")])
def test_resolves_keys_labels_aliases_and_ctcae_terms(name: str, key: str) -> None:
    assert lab_analyte(name).key == key


def test_unknown_analyte_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        lab_analyte("troponin")
    assert info.value.field == "analyte"


@pytest.mark.parametrize(
    ("analyte", "value", "src", "dst", "expected"),
    [
        ("bilirubin", 1.0, "mg/dL", "umol/L", 10 * 1000 / 584.66),
        ("creatinine", 1.0, "mg/dL", "umol/L", 10 * 1000 / 113.12),
        ("magnesium", 1.2, "mg/dL", "mmol/L", 1.2 * 10 / 24.305),
        ("hemoglobin", 6.2, "mmol/L", "g/L", 6.2 * 16.1145),
        ("hemoglobin", 7.5, "g/dL", "g/L", 75.0),
        ("platelets", 150_000, "/mm3", "10^9/L", 150.0),
        ("neutrophils", 1.5, "10^9/L", "cells/uL", 1500.0),
        ("alt", 1.0, "ukat/L", "U/L", 60.0),
        ("body_weight", 154.0, "lb", "kg", 154 * 0.45359237),
        ("sodium", 135, "mEq/L", "mmol/L", 135.0),
    ],
)
def test_conversions_from_molar_masses(analyte: str, value: float, src: str, dst: str, expected: float) -> None:
    assert convert_lab_value(analyte, value, src, dst) == pytest.approx(expected, rel=2e-4)


@pytest.mark.parametrize("spelling", ["x10^9/L", "10e9/L", "10^9/l", "10*9/L", "×10⁹/L"])
def test_unit_spellings_labs_print(spelling: str) -> None:
    assert lab_analyte("wbc").unit(spelling).name == "10^9/L"


def test_giga_per_litre_is_not_taken_for_grams() -> None:
    with pytest.raises(ValidationError) as info:
        lab_analyte("wbc").unit("G/L")
    assert info.value.field == "unit"


@given(st.sampled_from(lab_analytes()).flatmap(lambda a: st.tuples(
    st.just(a), st.sampled_from(a.unit_names), st.sampled_from(a.unit_names), st.floats(0.001, 1e4))))
def test_conversion_round_trips(case: tuple) -> None:
    a, u1, u2, x = case
    assert a.convert(a.convert(x, u1, u2), u2, u1) == pytest.approx(x, rel=1e-9)


# ---------------------------------------------------------------- plausibility


def test_hb_7_5_g_per_l_is_refused_and_the_message_names_g_per_dl() -> None:
    with pytest.raises(ValidationError) as info:
        check_lab_value("hb", 7.5, "g/L")
    assert info.value.field == "value"
    assert "7.5 g/dL = 75 g/L" in str(info.value)


def test_hb_7_5_g_per_dl_is_accepted_without_query() -> None:
    out = check_lab_value("hb", 7.5, "g/dL")
    assert out.canonical_value == 75.0 and out.unusual is None


def test_unusual_value_is_accepted_with_a_query_text() -> None:
    out = check_lab_value("hemoglobin", 45, "g/L")
    assert out.unusual is not None and "45 g/L" in out.unusual


def test_bilirubin_uln_20_mg_per_dl_is_refused_as_uln() -> None:
    with pytest.raises(ValidationError) as info:
        check_lab_value("bilirubin", 20, "mg/dL", kind="uln")
    assert info.value.field == "uln"
    assert "20 umol/L" in str(info.value)
    assert check_lab_value("bilirubin", 20, "umol/L", kind="uln").canonical_value == 20


def test_creatinine_2_umol_per_l_is_refused_naming_mg_per_dl() -> None:
    with pytest.raises(ValidationError) as info:
        check_lab_value("creatinine", 2.0, "umol/L")
    assert "2 mg/dL" in str(info.value)


@pytest.mark.parametrize(("value", "field"), [(-1, "value"), (float("nan"), "value"), ("7", "value"), (True, "value")])
def test_non_values_are_refused(value: object, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_lab_value("hb", value, "g/L")
    assert info.value.field == field


def test_unit_not_of_the_analyte_is_refused_with_its_own_field() -> None:
    with pytest.raises(ValidationError) as info:
        check_lab_value("hb", 12, "mmol/L", kind="lln")
    assert info.value.field == "lln"  # 12 mmol/L = 193 g/L is no LLN
    with pytest.raises(ValidationError) as info:
        check_lab_value("hb", 12, "U/L", kind="lln")
    assert info.value.field == "lln_unit"


# ---------------------------------------------------------------- grading across units


def test_bilirubin_3_mg_dl_with_uln_20_umol_l_is_grade_2() -> None:
    # 3 mg/dL = 51.3 umol/L = 2.57 x ULN: ">1.5 - 3.0 x ULN" is grade 2.
    assert grade_lab("bilirubin", 3, "mg/dL", uln=20, uln_unit="umol/L") == 2
    assert grade_lab("bilirubin", 51.3, "umol/L", uln=20, uln_unit="umol/L") == 2


def test_creatinine_2_mg_dl_with_uln_110_umol_l_is_grade_2() -> None:
    # 2.0 mg/dL = 176.8 umol/L = 1.61 x ULN: ">1.5 - 3.0 x ULN" is grade 2.
    assert grade_lab("creatinine", 2.0, "mg/dL", uln=110, uln_unit="umol/L") == 2
    assert grade_lab("creatinine", 2.0, "mg/dL", uln=110, uln_unit="umol/L", baseline=70,
                     baseline_unit="umol/L") == 2  # 2.5 x baseline: also grade 2


def test_lln_in_another_unit() -> None:
    # ANC 1700/mm3 (1.7 x 10^9/L) with LLN 2.0 x 10^9/L: below LLN, above the grade-2 cut-off.
    assert grade_lab("ANC", 1700, "/mm3", lln=2.0, lln_unit="10^9/L") == 1
    assert grade_lab("ANC", 1700, "/mm3", lln=1.5, lln_unit="10^9/L") == 0


def test_reference_unit_errors_name_their_field() -> None:
    with pytest.raises(ValidationError) as info:
        grade_lab("bilirubin", 3, "mg/dL", uln=20, uln_unit="g/L")
    assert info.value.field == "uln_unit"


@pytest.mark.parametrize(
    ("term", "value", "unit", "lln", "grade"),
    [
        ("hyponatremia", 131, "mmol/L", 135, 1),
        ("hyponatremia", 130, "mmol/L", 135, 1),  # "<LLN - 130": 130 is grade 1
        ("hyponatremia", 129.9, "mmol/L", 135, 3),  # no grade 2 in v4.03
        ("hyponatremia", 119.9, "mmol/L", 135, 4),
        ("hypokalemia", 3.0, "mmol/L", 3.5, 1),
        ("hypokalemia", 2.99, "mmol/L", 3.5, 3),
        ("hypokalemia", 2.49, "mmol/L", 3.5, 4),
        ("hypomagnesemia", 0.5, "mmol/L", 0.7, 1),
        ("hypomagnesemia", 0.49, "mmol/L", 0.7, 2),
        ("hypomagnesemia", 1.2, "mg/dL", 1.7, 1),  # published mg/dL cut-offs, not converted
        ("hypomagnesemia", 1.19, "mg/dL", 1.7, 2),
        ("hypomagnesemia", 0.69, "mg/dL", 1.7, 4),
        ("hypoalbuminemia", 30, "g/L", 35, 1),
        ("hypoalbuminemia", 2.9, "g/dL", 3.5, 2),
        ("hypoalbuminemia", 19, "g/L", 35, 3),
    ],
)
def test_metabolic_terms_at_their_cutoffs(term: str, value: float, unit: str, lln: float, grade: int) -> None:
    assert grade_lab(term, value, unit, lln=lln) == grade
