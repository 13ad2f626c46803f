"""Eligibility of one patient for one protocol.

:func:`evaluate_eligibility` returns an :class:`EligibilityReport`: a verdict per criterion
(met / not met / missing data, with the values used and the rule text) and an overall verdict.

Algorithm
1. Coerce the patient record through the protocol's field catalogue (types, units, plausibility
   limits); a bad value raises :class:`~npctrial.errors.ValidationError` naming the field.
2. Evaluate every criterion's rule with three-valued logic (:mod:`npctrial.domain.rules`):
   ``True`` -> "met", ``False`` -> "not met", undecidable for lack of data -> "missing".
3. Overall verdict: **ineligible** if any inclusion criterion is not met or any exclusion
   criterion is met (an exclusion that is "met" excludes the patient); otherwise **incomplete**
   if any criterion is missing data; otherwise **eligible**.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from npctrial.domain.protocol import Protocol
from npctrial.domain.rules import MISSING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CriterionResult", "EligibilityReport", "evaluate_eligibility"]

CriterionStatus = Literal["met", "not met", "missing"]
OverallVerdict = Literal["eligible", "ineligible", "incomplete"]
_META_KEYS = frozenset({"id", "protocol", "site", "note"})


@dataclass(frozen=True)
class CriterionResult:
    """The verdict on one criterion, with the values the rule read."""

    criterion_id: str
    kind: Literal["inclusion", "exclusion"]
    status: CriterionStatus
    wording: str
    rule: str
    values: tuple[tuple[str, Any], ...]
    missing_fields: tuple[str, ...]

    @property
    def excludes(self) -> bool:
        """Whether this result on its own makes the patient ineligible."""
        return (self.kind == "inclusion" and self.status == "not met") or (
            self.kind == "exclusion" and self.status == "met"
        )

    def values_text(self, protocol: Protocol | None = None) -> str:
        parts = []
        for name, value in self.values:
            unit = ""
            if protocol is not None:
                spec = protocol.field(name)
                unit = f" {spec.unit}" if spec.unit and value is not None else ""
            shown = (
                "missing"
                if value is None
                else (f"{value:g}" if isinstance(value, float) else str(value))
            )
            parts.append(f"{name}={shown}{unit}")
        return ", ".join(parts)


@dataclass(frozen=True)
class EligibilityReport:
    """Per-criterion verdicts and the overall verdict for one patient."""

    protocol: Protocol
    patient_id: str | None
    results: tuple[CriterionResult, ...]
    verdict: OverallVerdict
    ignored_fields: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return self.verdict == "eligible"

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        """The criteria that make the patient ineligible."""
        return tuple(r for r in self.results if r.excludes)

    @property
    def missing(self) -> tuple[CriterionResult, ...]:
        return tuple(r for r in self.results if r.status == "missing")

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion."""
        import pandas as pd  # imported when used: the CLI and the EDC start without pandas

        return pd.DataFrame(
            {
                "criterion": [r.criterion_id for r in self.results],
                "kind": [r.kind for r in self.results],
                "status": [r.status for r in self.results],
                "excludes": [r.excludes for r in self.results],
                "values": [r.values_text(self.protocol) for r in self.results],
                "rule": [r.rule for r in self.results],
                "wording": [r.wording for r in self.results],
            }
        )

    def summary(self) -> str:
        """Readable text report: overall verdict, then each criterion."""
        who = f"patient {self.patient_id}" if self.patient_id else "patient"
        lines = [
            f"Eligibility of {who} for {self.protocol.id} (version {self.protocol.version}): "
            f"{self.verdict.upper()}"
        ]
        for r in self.results:
            flag = "  <- excludes" if r.excludes else ""
            lines.append(
                f"  {r.criterion_id:<4} {r.kind:<9} {r.status:<8} {r.values_text(self.protocol)}{flag}"
            )
            lines.append(f"       rule: {r.rule}")
            lines.append(f"       text: {r.wording}")
        if self.ignored_fields:
            lines.append(
                f"  ignored (not in the protocol's field catalogue): {', '.join(self.ignored_fields)}"
            )
        return "\n".join(lines)


def evaluate_eligibility(protocol: Protocol, patient: Mapping[str, Any]) -> EligibilityReport:
    """Evaluate every criterion of ``protocol`` for ``patient`` (steps 1-3 of the module doc).

    ``patient`` maps field names to values (plain, in the catalogue unit, or
    ``{"value": v, "unit": u}``); an optional ``id`` key names the patient in the report.
    Keys that are not catalogued fields (other than ``id``, ``protocol``, ``site``, ``note``) are listed in
    ``ignored_fields`` so that a misspelt field is visible rather than silently missing.
    """
    values = protocol.coerce_record(patient)
    patient_id = patient.get("id")
    results: list[CriterionResult] = []
    for crit in protocol.criteria:
        rule = crit.compiled()
        outcome = rule.evaluate(values)
        status: CriterionStatus = (
            "missing" if outcome is MISSING else ("met" if outcome else "not met")
        )
        used = tuple((name, values.get(name)) for name in rule.fields)
        results.append(
            CriterionResult(
                criterion_id=crit.id,
                kind=crit.kind,
                status=status,
                wording=crit.wording,
                rule=crit.rule,
                values=used,
                missing_fields=tuple(name for name, v in used if v is None),
            )
        )
    if any(r.excludes for r in results):
        verdict: OverallVerdict = "ineligible"
    elif any(r.status == "missing" for r in results):
        verdict = "incomplete"
    else:
        verdict = "eligible"
    return EligibilityReport(
        protocol=protocol,
        patient_id=None if patient_id is None else str(patient_id),
        results=tuple(results),
        verdict=verdict,
        ignored_fields=tuple(
            str(k)
            for k in patient
            if k not in _META_KEYS and k not in {f.name for f in protocol.fields}
        ),
    )
