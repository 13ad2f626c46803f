"""A lab record: every reference value in its own unit, LLN below ULN, the recorded grade.

Sources: NCI CTCAE v4.03 (14 June 2010): platelet count decreased 1 "<LLN - 75.0 x10e9/L",
2 "<75.0 - 50.0", 3 "<50.0 - 25.0", 4 "<25.0"; neutrophil count decreased grades 1-4 (no grade 5);
hyponatremia 1, 3, 4, 5 (no grade 2); grade 5 is "Death related to AE", which the EDC records as an
adverse event, not as a laboratory value. Unit conversions: Young DS, Ann Intern Med
1987;106:114-129 (haemoglobin 1 g/dL = 10 g/L; cell counts 1 /mm3 = 0.001 x10^9/L).
"""

from __future__ import annotations

import pytest

from npctrial.domain import check_lab_grade, check_lab_units, grade_lab
from npctrial.errors import ValidationError

PLT = "platelet_count_decreased"


def test_result_and_references_each_in_their_own_unit() -> None:
    checks = check_lab_units("hemoglobin", 11.5, "g/dL", lln=120, lln_unit="g/L", uln=16.0, uln_unit="g/dL",
                             baseline_value=130, baseline_unit="g/L")
    assert [(c.kind, c.canonical_value) for c in checks] == [("value", 115.0), ("lln", 120.0), ("uln", 160.0),
                                                             ("baseline", 130.0)]


@pytest.mark.parametrize(("given", "field"), [({"lln": 120}, "lln_unit"), ({"uln": 160, "uln_unit": ""}, "uln_unit"),
                                              ({"baseline_value": 130}, "baseline_unit")])
def test_a_reference_value_without_its_unit_is_refused_on_the_unit(given: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_lab_units("hemoglobin", 115, "g/L", **given)
    assert err.value.field == field and err.value.code == "lab.unit_required"
    assert "in which unit is it?" in str(err.value)


def test_a_unit_without_a_value_is_not_a_reference() -> None:
    assert len(check_lab_units("hemoglobin", 115, "g/L", lln_unit="g/L", uln_unit="g/dL")) == 1


def test_a_gdl_value_typed_under_gl_is_refused_with_the_unit_that_fits() -> None:
    with pytest.raises(ValidationError) as err:
        check_lab_units("hemoglobin", 7.5, "g/L")
    assert err.value.field == "value" and "7.5 g/dL = 75 g/L" in str(err.value)
    with pytest.raises(ValidationError) as err:
        check_lab_units("hemoglobin", 115, "g/L", lln=12, lln_unit="g/L")  # 12 g/dL typed under g/L
    assert err.value.field == "lln"


@pytest.mark.parametrize(("lln", "lln_unit", "ok"), [(6.0, "10^9/L", False), (6000, "/mm3", False),
                                                     (5.9, "10^9/L", True), (5999, "/mm3", True)])
def test_lln_strictly_below_uln_compared_in_one_unit(lln: float, lln_unit: str, ok: bool) -> None:
    """WBC ULN 6.0 x10^9/L (= 6000 /mm3): an LLN equal to it, in either unit, is refused."""
    kwargs = {"lln": lln, "lln_unit": lln_unit, "uln": 6.0, "uln_unit": "10^9/L"}
    if ok:
        assert len(check_lab_units("wbc", 5.0, "10^9/L", **kwargs)) == 3
    else:
        with pytest.raises(ValidationError) as err:
            check_lab_units("wbc", 5.0, "10^9/L", **kwargs)
        assert err.value.field == "lln" and err.value.code == "lab.lln_not_below_uln"


def test_an_unusual_result_is_stored_with_a_query_text() -> None:
    checks = check_lab_units("hemoglobin", 45, "g/L")
    assert checks[0].unusual is not None and "outside the usual range" in checks[0].unusual


@pytest.mark.parametrize(("value", "grade"), [(150, 0), (149, 1), (75, 1), (74.9, 2), (50, 2), (49.9, 3),
                                              (25, 3), (24.9, 4)])
def test_suggested_platelet_grade_at_the_ctcae_cut_offs(value: float, grade: int) -> None:
    assert grade_lab(PLT, value, "10^9/L", lln=150, lln_unit="10^9/L") == grade


def test_the_suggested_grade_is_accepted_without_a_reason() -> None:
    assert check_lab_grade(PLT, 2, 2) == 2
    assert check_lab_grade(PLT, 0, 0, None) == 0


@pytest.mark.parametrize(("grade", "suggested"), [(3, 2), (1, 2), (0, 1)])
def test_a_grade_other_than_the_suggested_one_needs_the_override_reason(grade: int, suggested: int) -> None:
    for reason in ("", "   ", None):
        with pytest.raises(ValidationError) as err:
            check_lab_grade(PLT, grade, suggested, reason)
        assert err.value.field == "override_reason" and err.value.code == "lab.override_reason_required"
    assert check_lab_grade(PLT, grade, suggested, "platelet clumping on the smear") == grade


def test_lab_grades_are_0_to_4_and_grade_5_is_an_adverse_event() -> None:
    assert check_lab_grade(PLT, 4, 4) == 4
    with pytest.raises(ValidationError) as err:
        check_lab_grade("hyponatremia", 5, 4, "died")  # CTCAE defines grade 5 for hyponatremia: an AE
    assert err.value.field == "grade" and err.value.code == "lab.grade_above_4"
    with pytest.raises(ValidationError, match="allowed grades: 1, 2, 3, 4") as err:
        check_lab_grade("neutrophil_count_decreased", 5, 4, "x")  # no grade 5 in CTCAE at all
    assert err.value.field == "grade"


def test_a_grade_the_term_does_not_define_is_refused_even_with_a_reason() -> None:
    with pytest.raises(ValidationError, match="allowed grades: 1, 3, 4, 5") as err:
        check_lab_grade("hyponatremia", 2, 1, "symptomatic")
    assert err.value.field == "grade"


@pytest.mark.parametrize("grade", [-1, True, 2.0])
def test_a_grade_is_a_whole_number_from_0(grade: object) -> None:
    with pytest.raises(ValidationError) as err:
        check_lab_grade(PLT, grade, 0, "x")
    assert err.value.field == "grade"


def test_lab_refusals_read_in_chinese() -> None:
    with pytest.raises(ValidationError) as err:
        check_lab_units("hemoglobin", 115, "g/L", lln=120)
    assert err.value.message is not None
    assert err.value.message.render("zh-hans") == "填写 lln（120）时须同时填写 lln_unit：该数值的单位是什么？"
    with pytest.raises(ValidationError) as err:
        check_lab_grade(PLT, 3, 2)
    assert err.value.message is not None
    assert err.value.message.render("zh-hans") == "分级 3 与建议的 CTCAE 分级 2 不同：须填写更改原因"
