"""Screening identity, age and the duplicate rule, from the rule in npctrial.domain.screening_identity."""

from __future__ import annotations

from datetime import date

import pytest

from npctrial.domain.screening_identity import (
    ScreeningIdentity,
    check_birth_date,
    check_hospital_number,
    check_initials,
    check_same_person,
    compute_age,
    derive_age_value,
    find_same_person,
)
from npctrial.errors import ValidationError

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(("typed", "kept"), [("zw", "ZW"), ("ZWL", "ZWL"), ("abcd", "ABCD"), (" Z.W. ", "ZW"),
                                             ("z-w", "ZW"), ("Z W L", "ZWL")])
def test_initials_are_two_to_four_latin_letters_upper_cased(typed, kept):
    assert check_initials(typed) == kept


@pytest.mark.parametrize("typed", ["Z", "ABCDE", "张伟", "Z1", "", "  ", "ZÉ", "Z_W", "Z'W", None, 12])
def test_initials_out_of_the_rule_are_refused_naming_the_field(typed):
    with pytest.raises(ValidationError) as err:
        check_initials(typed)
    assert err.value.field == "initials"


def test_birth_date_boundaries():
    assert check_birth_date("1900-01-01", screening_date=TODAY, today=TODAY) == date(1900, 1, 1)
    assert check_birth_date(TODAY, screening_date=TODAY, today=TODAY) == TODAY  # born on the day: allowed
    for bad in ("1899-12-31", "2026-06-16", "not a date"):
        with pytest.raises(ValidationError) as err:
            check_birth_date(bad, screening_date=TODAY, today=TODAY)
        assert err.value.field == "birth_date"


def test_birth_date_after_the_screening_date_is_refused():
    with pytest.raises(ValidationError) as err:
        check_birth_date("2026-06-02", screening_date="2026-06-01", today=TODAY)
    assert err.value.field == "birth_date" and "after the screening date" in str(err.value)


def test_hospital_number_optional_stripped_bounded():
    assert check_hospital_number(None) == ""
    assert check_hospital_number("  ZY-0042 ") == "ZY-0042"
    assert check_hospital_number("x" * 40) == "x" * 40
    for bad in ("x" * 41, "A\x00B", 42):
        with pytest.raises(ValidationError) as err:
            check_hospital_number(bad)
        assert err.value.field == "hospital_number"


@pytest.mark.parametrize(("birth", "on", "age"), [
    (date(1970, 6, 15), date(2026, 6, 15), 56),  # birthday today: the year is completed
    (date(1970, 6, 16), date(2026, 6, 15), 55),  # birthday tomorrow
    (date(1970, 12, 31), date(2026, 1, 1), 55),
    (date(2000, 2, 29), date(2026, 2, 28), 25),  # leap-day birthday: on 1 March in common years
    (date(2000, 2, 29), date(2026, 3, 1), 26),
    (date(2000, 2, 29), date(2028, 2, 29), 28),
    (date(2026, 6, 15), date(2026, 6, 15), 0),
])
def test_age_in_completed_years(birth, on, age):
    assert compute_age(birth, on) == age


def test_age_field_comes_from_the_birth_date():
    values = derive_age_value(["age", "ecog"], {"ecog": 1}, date(1956, 6, 16), date(2026, 6, 15))
    assert values == {"ecog": 1, "age": 69}
    assert derive_age_value(["age"], {"age": "69"}, date(1956, 6, 16), date(2026, 6, 15))["age"] == 69
    assert derive_age_value(["age"], {"age": 70}, None, date(2026, 6, 15)) == {"age": 70}  # typed age without birth
    assert derive_age_value(["ecog"], {}, date(1956, 6, 16), date(2026, 6, 15)) == {}  # no age field: nothing added
    with pytest.raises(ValidationError) as err:
        derive_age_value(["age"], {"age": 70}, date(1956, 6, 16), date(2026, 6, 15))
    assert err.value.field == "age"


def _who(site="GZ", initials="ZW", birth=date(1970, 3, 4), number=""):
    return ScreeningIdentity(site=site, initials=initials, birth_date=birth, hospital_number=number)


def test_same_initials_and_birth_date_is_the_same_person_at_any_site():
    assert check_same_person(_who(), _who()) == "initials_birth_date"
    assert check_same_person(_who(), _who(site="HK")) == "initials_birth_date"
    assert check_same_person(_who(initials="zw"), _who(initials="ZW")) == "initials_birth_date"


def test_a_day_apart_or_other_initials_is_another_person():
    assert check_same_person(_who(), _who(birth=date(1970, 3, 5))) is None
    assert check_same_person(_who(), _who(birth=date(1970, 3, 3))) is None
    assert check_same_person(_who(), _who(initials="ZWL")) is None
    assert check_same_person(_who(), _who(initials="WZ")) is None


def test_unrecorded_identity_matches_nobody():
    blank = ScreeningIdentity(site="GZ")
    assert check_same_person(blank, blank) is None
    assert check_same_person(_who(initials=""), _who(initials="")) is None
    assert check_same_person(_who(birth=None), _who(birth=None)) is None


def test_same_hospital_number_is_the_same_person_only_at_the_same_site():
    a = _who(initials="AB", birth=date(1960, 1, 1), number="ZY123")
    b = _who(initials="CD", birth=date(1961, 1, 1), number=" zy123 ")
    assert check_same_person(a, b) == "hospital_number"
    assert check_same_person(a, _who(site="HK", initials="CD", birth=date(1961, 1, 1), number="ZY123")) is None
    assert check_same_person(a, _who(initials="CD", birth=date(1961, 1, 1), number="ZY124")) is None
    assert check_same_person(_who(initials="AB"), _who(initials="CD")) is None  # both without number: no match


def test_find_same_person_keeps_the_order_and_the_reason():
    earlier = [(1, _who(initials="XY")), (2, _who(site="HK")), (3, _who(initials="AB", number="N1")),
               (4, _who(initials="zw"))]
    new = _who(number="N1")
    assert find_same_person(new, earlier) == [(2, "initials_birth_date"), (3, "hospital_number"),
                                              (4, "initials_birth_date")]
    assert find_same_person(new, []) == []
