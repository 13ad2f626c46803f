"""High-risk classification after induction chemotherapy (CCRT +/- nimotuzumab protocol).

Rule (seed protocol 001): patients with plasma EBV DNA **> 0 copies/mL** or **stable /
progressive disease (SD/PD, RECIST 1.1)** after induction chemotherapy are high risk; patients
with EBV DNA = 0 copies/mL **and** CR/PR are not. The operator is strict: exactly 0 copies/mL
("undetectable") is not high risk. Supporting evidence: Lv J et al., Nat Commun 2019 (detectable
EBV DNA after induction chemotherapy and worse survival); see shared/domain/risk-and-followup.md.

Algorithm
1. Validate: EBV DNA a finite number >= 0 (copies/mL) or None; response one of CR/PR/SD/PD/NE
   or None (NE counts as unknown).
2. Each component is True / False / unknown. High risk if any component is True; not high risk
   if both are known and False; otherwise undetermined (``high_risk is None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["HIGH_RISK_RULE", "HighRiskRule", "RiskAssessment", "assess_high_risk"]


@dataclass(frozen=True)
class HighRiskRule:
    """The rule as data: threshold with its operator, the responses that count, and sources."""

    ebv_dna_threshold_copies_per_ml: float
    ebv_dna_operator: str
    responses: tuple[str, ...]
    wording: str
    source: str


HIGH_RISK_RULE = HighRiskRule(
    ebv_dna_threshold_copies_per_ml=0.0,
    ebv_dna_operator=">",
    responses=("SD", "PD"),
    wording=(
        "patients with plasma Epstein-Barr virus(EBV) DNA> 0 copy/mL or stable disease/progressive "
        "disease(SD/PD) after induction chemotherapy had a significantly higher risk of disease progression"
    ),
    source=(
        "Seed protocol 001 (CCRT +/- nimotuzumab for high-risk locally advanced NPC), background; "
        "Lv J et al., Nat Commun 2019"
    ),
)

_RESPONSES = ("CR", "PR", "SD", "PD", "NE")


@dataclass(frozen=True)
class RiskAssessment:
    """Outcome of :func:`assess_high_risk`; ``high_risk`` is None when it cannot be decided."""

    high_risk: bool | None
    reasons: tuple[str, ...]
    ebv_dna_copies_per_ml: float | None
    induction_response: str | None
    rule: HighRiskRule

    @property
    def label(self) -> str:
        return {True: "high risk", False: "not high risk", None: "undetermined"}[self.high_risk]

    def summary(self) -> str:
        why = "; ".join(self.reasons) if self.reasons else "no component decided"
        return f"{self.label}: {why} (source: {self.rule.source})"


def assess_high_risk(
    ebv_dna_copies_per_ml: float | None,
    induction_response: str | None,
    *,
    rule: HighRiskRule = HIGH_RISK_RULE,
) -> RiskAssessment:
    """Classify risk after induction chemotherapy (steps 1-2 of the module docstring)."""
    ebv: float | None = None
    if ebv_dna_copies_per_ml is not None:
        if isinstance(ebv_dna_copies_per_ml, bool) or not isinstance(
            ebv_dna_copies_per_ml, int | float
        ):
            raise ValidationError(message("risk.ebv_dna_not_a_number", "ebv_dna_copies_per_ml must be a number, got "
                                          "%(value)s", value=repr(ebv_dna_copies_per_ml)), field="ebv_dna_copies_per_ml")
        ebv = float(ebv_dna_copies_per_ml)
        if not math.isfinite(ebv) or ebv < 0:
            raise ValidationError(message("lab.negative_value", "%(field)s must be >= 0, got %(value)s",
                                          field="ebv_dna_copies_per_ml", value=repr(ebv_dna_copies_per_ml)),
                                  field="ebv_dna_copies_per_ml")
    response: str | None = None
    if induction_response is not None:
        response = str(induction_response).strip().upper()
        if response not in _RESPONSES:
            raise ValidationError(message("risk.unknown_induction_response", "induction_response must be one of "
                                          "%(allowed)s, got %(value)s", allowed=_RESPONSES,
                                          value=repr(induction_response)), field="induction_response")

    reasons: list[str] = []
    ebv_high: bool | None = None
    if ebv is not None:
        threshold = rule.ebv_dna_threshold_copies_per_ml
        ebv_high = ebv > threshold if rule.ebv_dna_operator == ">" else ebv >= threshold
        reasons.append(
            f"EBV DNA {ebv:g} copies/mL {'' if ebv_high else 'not '}{rule.ebv_dna_operator} {threshold:g}"
        )
    resp_high: bool | None = None
    if response is not None and response != "NE":
        resp_high = response in rule.responses
        reasons.append(f"induction response {response} {'is' if resp_high else 'is not'} SD/PD")
    if ebv_high or resp_high:
        high: bool | None = True
    elif ebv_high is False and resp_high is False:
        high = False
    else:
        high = None
    return RiskAssessment(high, tuple(reasons), ebv, response, rule)
