"""High-risk rule of the CCRT +/- nimotuzumab protocol (EBV DNA > 0 copies/mL or SD/PD)."""

from __future__ import annotations

import math

import pytest

from npctrial.domain.risk import HIGH_RISK_RULE, assess_high_risk
from npctrial.errors import ValidationError


@pytest.mark.parametrize(
    ("ebv", "response", "expected"),
    [
        (0, "CR", False),
        (0, "PR", False),
        (0.0, "pr", False),
        (0.5, "PR", True),  # strictly greater than 0
        (1, "CR", True),
        (0, "SD", True),
        (0, "PD", True),
        (2000, "PD", True),
        (None, "SD", True),
        (10, None, True),
        (None, "PR", None),
        (0, None, None),
        (0, "NE", None),
        (None, None, None),
    ],
)
def test_high_risk_truth_table(ebv, response, expected) -> None:
    result = assess_high_risk(ebv, response)
    assert result.high_risk is expected


def test_rule_carries_its_source_and_operator() -> None:
    assert HIGH_RISK_RULE.ebv_dna_operator == ">"
    assert HIGH_RISK_RULE.ebv_dna_threshold_copies_per_ml == 0
    assert "Seed protocol 001" in HIGH_RISK_RULE.source
    result = assess_high_risk(0, "SD")
    assert "SD" in " ".join(result.reasons)
    assert result.summary().startswith("high risk")
    assert assess_high_risk(None, None).label == "undetermined"


@pytest.mark.parametrize("ebv", [-1, math.nan, math.inf, "12", True])
def test_bad_ebv_values(ebv) -> None:
    with pytest.raises(ValidationError, match="ebv_dna_copies_per_ml"):
        assess_high_risk(ebv, "PR")


def test_bad_response() -> None:
    with pytest.raises(ValidationError, match="induction_response must be one of"):
        assess_high_risk(0, "stable")
