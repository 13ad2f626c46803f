"""Treatment rules of a protocol: BSA formula and rounding, the protocol dose, dose deviations, SAE window.

Protocol YAML (optional section; every protocol gets :data:`DEFAULT_RULES` where it is silent)::

    treatment_rules:
      bsa: {formula: mosteller, decimals: 2, round_before_banding: true, source: "..."}
      deviation_reasons:
        - {code: progression, label: "Disease progression"}
        - {code: other, label: "Other (explain)", needs_note: true}
      deviation_source: "..."
      sae_report_hours: 24
      rtog_late_after_days: 90

Protocol dose (:func:`compute_protocol_dose`):
1. BSA by the protocol's formula (Mosteller, NEJM 1987, by default); with
   ``round_before_banding`` the BSA rounded half up to ``decimals`` is the one banded (1.2467
   -> 1.25 -> 40 mg in the S-1 table), otherwise the unrounded value is banded and the rounded
   one only shown.
2. The band of the drug's table (explicit inclusivity, :func:`npctrial.domain.banded_dose`).

Dose check (:func:`check_dose`): a dose given that differs from the protocol dose (or, for a drug
the protocol gives no table for, from the planned dose) is a deviation; it needs one of the
protocol's reasons, and a note when the reason asks for one (ValidationError naming the field).

SAE deadline (:func:`sae_report_deadline`): awareness + ``sae_report_hours`` (ICH E6(R2) 4.11.1:
"immediately"; protocols and 21 CFR 312.64(b) practice write "within 24 hours").
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from npctrial.domain.dosing import BandedDose, BSAResult, banded_dose, body_surface_area
from npctrial.domain.localised_text import LocalisedStr, LocalisedText
from npctrial.errors import ClinicalWarning, ValidationError
from npctrial.messages import Message, message

__all__ = [
    "DEFAULT_RULES",
    "BsaRule",
    "DeviationReason",
    "DoseCheck",
    "ProtocolDose",
    "TreatmentRules",
    "check_dose",
    "compute_has_table",
    "compute_protocol_bsa",
    "compute_protocol_dose",
    "rules_of",
    "sae_report_deadline",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BsaRule(_Frozen):
    """How the protocol computes the BSA it doses with."""

    formula: Literal["mosteller", "dubois", "haycock", "gehan_george", "boyd"] = "mosteller"
    decimals: int | None = Field(default=2, ge=0, le=6)
    round_before_banding: bool = True
    cap_m2: float | None = Field(default=None, gt=0)
    source: str | None = None

    def describe(self) -> str:
        rounding = ("not rounded" if self.decimals is None else
                    f"rounded half up to {self.decimals} dp {'before' if self.round_before_banding else 'after'} "
                    "banding")
        cap = "" if self.cap_m2 is None else f", capped at {self.cap_m2:g} m2"
        return f"{self.formula.capitalize()} BSA, {rounding}{cap}"


class DeviationReason(_Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: LocalisedStr  # "Disease progression", or {en: ..., zh: ...}
    needs_note: bool = False


class TreatmentRules(_Frozen):
    bsa: BsaRule = BsaRule()
    deviation_reasons: tuple[DeviationReason, ...] = ()
    deviation_source: str | None = None
    sae_report_hours: int = Field(default=24, ge=1, le=24 * 30)
    #: RTOG/EORTC late morbidity is scored only more than this many days after the end of RT
    #: (:func:`npctrial.domain.rtog.check_rtog_timing`; "beyond three months" in seed 000).
    rtog_late_after_days: int = Field(default=90, ge=0, le=3650)


#: What a protocol that states nothing gets: Mosteller to 2 dp before banding (the oncology
#: default of shared/domain/dosing.md), any dose change needs a reason (named "other" with a note),
#: SAEs within 24 hours.
DEFAULT_RULES = TreatmentRules(
    deviation_reasons=(DeviationReason(code="other", label=LocalisedText("Other (explain)", {"zh": "其他（请说明）"}),
                                       needs_note=True),),
    deviation_source="no dose-modification rule stated by the protocol: every change needs an explained reason",
)


def rules_of(protocol: Any) -> TreatmentRules:
    """The protocol's treatment rules, or :data:`DEFAULT_RULES`."""
    rules = getattr(protocol, "treatment_rules", None)
    return rules if isinstance(rules, TreatmentRules) else DEFAULT_RULES


def compute_protocol_bsa(rules: TreatmentRules, height_cm: float, weight_kg: float) -> tuple[BSAResult, float]:
    """Step 1: the BSA (shown, rounded as the protocol states) and the value the bands are applied to."""
    rule = rules.bsa
    bsa = body_surface_area(height_cm, weight_kg, rule.formula, cap=rule.cap_m2, decimals=rule.decimals)
    banded = bsa.bsa_m2 if rule.round_before_banding else (
        bsa.bsa_raw_m2 if rule.cap_m2 is None else min(bsa.bsa_raw_m2, rule.cap_m2))
    return bsa, banded


@dataclass(frozen=True)
class ProtocolDose:
    """The dose the protocol prescribes for a BSA, with the rule it came from."""

    drug: str
    bsa: BSAResult
    banded_bsa_m2: float
    dose: BandedDose
    rule: str
    warnings: tuple[str, ...] = ()  # English (logs, CLI)
    #: the same warnings as coded messages, for a reader's language (:meth:`Message.render`)
    warning_messages: tuple[Message | str, ...] = ()

    @property
    def mg_per_dose(self) -> float:
        return self.dose.mg_per_dose


def _table(protocol: Any, drug: str) -> Any:
    return next((t for t in getattr(protocol, "dosing", ()) if t.drug.lower() == str(drug).lower()), None)


def compute_has_table(protocol: Any, drug: str) -> bool:
    """Whether the protocol doses ``drug`` by a BSA band table (its dose can be checked against the bands)."""
    return _table(protocol, drug) is not None


def _coded(warning: Warning | str) -> Message | str:
    args = getattr(warning, "args", ())
    return args[0] if args and isinstance(args[0], Message) else str(warning)


def compute_protocol_dose(protocol: Any, drug: str, height_cm: float, weight_kg: float) -> ProtocolDose | None:
    """Steps 1-2; None when the protocol has no band table for ``drug``."""
    table = _table(protocol, drug)
    if table is None:
        return None
    rules = rules_of(protocol)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClinicalWarning)
        bsa, banded = compute_protocol_bsa(rules, height_cm, weight_kg)
        dose = banded_dose(banded, table)
    clinical = [w.message for w in caught if issubclass(w.category, ClinicalWarning)]
    notes = tuple(str(w) for w in clinical)
    coded = tuple(_coded(w) for w in clinical)
    rule = (f"{rules.bsa.describe()}: BSA {bsa.bsa_m2:g} m2 (raw {bsa.bsa_raw_m2:.4f}); banded at {banded:.4g} m2 "
            f"-> {dose.band.describe()} -> {dose.mg_per_dose:g} mg x {dose.doses_per_day}/day; "
            f"protocol: {table.wording or ''}")
    return ProtocolDose(table.drug, bsa, banded, dose, rule, notes, coded)


@dataclass(frozen=True)
class DoseCheck:
    """Outcome of comparing a dose given with the dose it should have been."""

    expected_mg: float
    given_mg: float
    basis: str  # "protocol" (band table) or "planned"
    deviation: bool
    reason: str

    @property
    def difference_mg(self) -> float:
        return self.given_mg - self.expected_mg


def check_dose(rules: TreatmentRules, given_mg: float, expected_mg: float, *, basis: str,
               reason: str = "", note: str = "") -> DoseCheck:
    """A deviation when the dose given differs from the expected one; its reason must be allowed."""
    for name, value in (("dose_mg", given_mg), ("expected_mg", expected_mg)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValidationError(message("dose.not_a_dose", "%(field)s must be a number >= 0, got %(value)s",
                                          field=name, value=repr(value)), field="dose_mg")
    deviation = not math.isclose(float(given_mg), float(expected_mg), rel_tol=0, abs_tol=1e-9)
    codes = {r.code: r for r in rules.deviation_reasons}
    if deviation:
        if reason not in codes:
            listed = tuple(message("dose.deviation_reason_item", "%(code)s (%(label)s)", code=r.code, label=r.label)
                           for r in rules.deviation_reasons)
            bases = {"planned": message("dose.basis_planned", "planned"),
                     "protocol": message("dose.basis_protocol", "protocol")}
            raise ValidationError(message(
                "dose.deviation_reason_required",
                "dose_mg %(given)s differs from the %(basis)s dose %(expected)s mg: a protocol deviation "
                "(no dose modification except for: %(reasons)s); record its reason",
                given=f"{given_mg:g}", basis=bases.get(basis, basis), expected=f"{expected_mg:g}", reasons=listed),
                field="deviation_reason")
        if codes[reason].needs_note and not (note or "").strip():
            raise ValidationError(message("dose.deviation_note_required",
                                          "deviation_note is required when the deviation reason is %(reason)s",
                                          reason=repr(reason)), field="deviation_note")
    return DoseCheck(float(expected_mg), float(given_mg), basis, deviation, reason)


def sae_report_deadline(aware_at: dt.datetime, rules: TreatmentRules) -> dt.datetime:
    """When a serious AE must be reported: awareness + the protocol's window."""
    if not isinstance(aware_at, dt.datetime):
        raise ValidationError(message("sae.aware_at_not_datetime", "aware_at must be a date and time, got %(value)s",
                                      value=repr(aware_at)), field="aware_at")
    return aware_at + dt.timedelta(hours=rules.sae_report_hours)
