"""Lab panels (data) and the checks of a laboratory reference range."""

from __future__ import annotations

import pytest

from npctrial.domain import (
    check_reference_range,
    lab_analyte,
    lab_panel,
    lab_panels,
    reference_limits_needed,
)
from npctrial.errors import ValidationError


def test_weekly_panel_is_blood_count_liver_and_renal_each_analyte_once():
    p = lab_panel("weekly")
    keys = [a.key for a in p.analytes]
    assert [s.key for s in p.sections] == ["blood_count", "liver", "renal"]
    assert {"wbc", "neutrophils", "lymphocytes", "hemoglobin", "platelets", "alt", "ast", "bilirubin",
            "creatinine"} <= set(keys)
    assert len(keys) == len(set(keys)) and "body_weight" not in keys
    assert all(a.ctcae_term for p in lab_panels() for a in p.analytes)
    assert p.label.in_language("zh") != str(p.label)  # a Chinese version of the label


def test_unknown_panel_names_the_field():
    with pytest.raises(ValidationError) as e:
        lab_panel("monthly")
    assert e.value.field == "panel"


def test_limit_needed_follows_the_ctcae_direction():
    assert reference_limits_needed("hb") == ("lln",)  # Anemia: <LLN
    assert reference_limits_needed("ALT") == ("uln",)  # ALT increased: >ULN
    assert reference_limits_needed("creatinine") == ("uln",)  # >ULN (baseline is not a range limit)


def test_a_range_in_micro_spelling_is_stored_in_the_catalogue_spelling():
    r = check_reference_range("bilirubin", "µmol/L", None, 21)
    assert (r.analyte, r.unit, r.lln, r.uln) == ("bilirubin", "umol/L", None, 21.0)


@pytest.mark.parametrize(("args", "field"), [
    (("alt", "mg/dL", None, 40), "unit"),           # not a unit of ALT
    (("alt", "U/L", None, None), "lln"),            # no limit at all
    (("alt", "U/L", 5, None), "uln"),               # ALT is graded against the ULN
    (("hb", "g/L", None, 175), "lln"),              # anaemia is graded against the LLN
    (("hb", "g/L", 130, 130), "lln"),               # LLN must be below ULN: equal refused
    (("hb", "g/dL", 13, 1.0), "uln"),               # 1 g/dL = 10 g/L is no ULN of haemoglobin
    (("bilirubin", "mg/dL", None, 20), "uln"),      # 20 mg/dL = 342 umol/L: a umol/L value in the wrong unit
    (("hb", "g/L", -1, 175), "lln"),
    (("hb", "g/L", float("nan"), 175), "lln"),
    (("nonsense", "g/L", 1, 2), "analyte"),
    (("body_weight", "kg", 40, 90), "analyte"),     # weight loss is graded against the baseline, not a range
])
def test_implausible_ranges_are_refused_naming_the_field(args, field):
    with pytest.raises(ValidationError) as e:
        check_reference_range(*args)
    assert e.value.field == field


def test_conventional_units_are_accepted_when_plausible():
    assert check_reference_range("bilirubin", "mg/dL", None, 1.2).uln == 1.2
    assert check_reference_range("hb", "g/dL", 13.0, 17.5).lln == 13.0
    assert check_reference_range(lab_analyte("creatinine"), "mg/dL", 0.6, 1.3).unit == "mg/dL"
    # one step below the ULN is still a valid range (LLN < ULN)
    assert check_reference_range("hb", "g/L", 129.9, 130).lln == 129.9
