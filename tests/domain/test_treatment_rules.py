"""Protocol dose from the BSA band (rounding stated in the protocol), dose deviations and the SAE window.

Seed 000: "BSA<1.25m2, 30mg; BSA: 1.25-1.5m2, 40mg; BSA>1.5m2, 50mg"; "The dose modifications of
S-1 will not be permitted ... unless progression of the disease, toxicities of grade 4 or patient's
refusal". imrt-s1.yaml states: Mosteller, 2 dp, rounded before banding.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
import yaml

from npctrial.domain import load_protocol, parse_protocol
from npctrial.domain.protocol import _protocol_dir
from npctrial.domain.treatment_rules import (
    DEFAULT_RULES,
    check_dose,
    compute_protocol_dose,
    rules_of,
    sae_report_deadline,
)
from npctrial.errors import ClinicalWarning, ValidationError

IMRT = load_protocol("imrt-s1")


def _weight(bsa: float, height: float = 150.0) -> float:
    return bsa * bsa * 3600 / height  # Mosteller solved for the weight


@pytest.mark.parametrize(("raw", "mg"), [(1.2467, 40), (1.2449, 30), (1.4951, 40), (1.5049, 40), (1.5051, 50),
                                         (1.60, 50)])
def test_bsa_is_rounded_to_2_dp_before_the_band(raw: float, mg: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClinicalWarning)
        dose = compute_protocol_dose(IMRT, "S-1", 150, _weight(raw))
    assert dose is not None and dose.mg_per_dose == mg
    assert dose.banded_bsa_m2 == pytest.approx(round(raw + 1e-12, 2), abs=1e-12)


def test_rounding_after_banding_uses_the_raw_bsa() -> None:
    data = yaml.safe_load(_protocol_dir().joinpath("imrt-s1.yaml").read_text())
    data["treatment_rules"]["bsa"]["round_before_banding"] = False
    protocol = parse_protocol(data)
    dose = compute_protocol_dose(protocol, "S-1", 150, _weight(1.2467))
    assert dose is not None and dose.mg_per_dose == 30 and dose.bsa.bsa_m2 == 1.25  # shown 1.25, banded 1.2467


def test_boundary_warning_names_the_band_not_an_empty_wording() -> None:
    dose = compute_protocol_dose(IMRT, "S-1", 150, _weight(1.50))  # the warning is returned, for the form
    assert dose is not None and len(dose.warnings) == 1
    text = dose.warnings[0]
    assert "''" not in text and "assigned to band [1.25, 1.5] m2 (40 mg)" in text


def test_no_table_means_no_protocol_dose() -> None:
    assert compute_protocol_dose(IMRT, "cisplatin", 160, 60) is None


def test_a_dose_other_than_the_protocol_dose_needs_an_allowed_reason() -> None:
    rules = rules_of(IMRT)
    assert [r.code for r in rules.deviation_reasons] == ["progression", "grade4_toxicity", "refusal", "other"]
    ok = check_dose(rules, 40, 40, basis="protocol")
    assert not ok.deviation
    with pytest.raises(ValidationError) as info:
        check_dose(rules, 50, 40, basis="protocol")  # issue 12: 50 mg for a BSA of 1.50 m2
    assert info.value.field == "deviation_reason" and "protocol dose 40 mg" in str(info.value)
    with pytest.raises(ValidationError) as info:
        check_dose(rules, 30, 40, basis="protocol", reason="cheaper")
    assert info.value.field == "deviation_reason"
    with pytest.raises(ValidationError) as info:
        check_dose(rules, 30, 40, basis="protocol", reason="other")
    assert info.value.field == "deviation_note"
    done = check_dose(rules, 30, 40, basis="protocol", reason="grade4_toxicity")
    assert done.deviation and done.difference_mg == -10


def test_defaults_when_the_protocol_is_silent_and_the_sae_window() -> None:
    data = yaml.safe_load(_protocol_dir().joinpath("imrt-s1.yaml").read_text())
    del data["treatment_rules"]
    rules = rules_of(parse_protocol(data))
    assert rules == DEFAULT_RULES and rules.bsa.decimals == 2 and rules.bsa.round_before_banding
    aware = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
    assert sae_report_deadline(aware, rules_of(IMRT)) == aware + dt.timedelta(hours=24)
    with pytest.raises(ValidationError):
        sae_report_deadline(dt.date(2026, 5, 1), rules)  # type: ignore[arg-type]
