"""Values carried forward from screening to the baseline form, and the reason for changing them.

The baseline re-records what screening already captured: TNM, ECOG, height, weight, labs, EBV
DNA. The new baseline form is prefilled with the screening values (converted into the baseline's
unit with the domain's lab catalogue, :func:`npctrial.domain.lab_analytes.convert_lab_value`:
a bilirubin screened in mg/dL is carried in umol/L); the coordinator may change a carried value
only with a reason, which is kept as the change reason of the record's creation in its audit
trail, together with the screening it came from and the values changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from npctrial.domain.lab_analytes import convert_lab_value
from npctrial.errors import ValidationError
from npctrial.web.clinical.labels import field_text

#: baseline field -> screening field it is carried from (same name unless stated)
SOURCES = {"height_cm": "height_cm", "weight_kg": "weight_kg", "t_category": "t_category",
           "n_category": "n_category", "m_category": "m_category", "ecog": "ecog", "wbc": "wbc", "anc": "anc",
           "hb": "hb", "platelets": "platelets", "alt": "alt", "ast": "ast", "creatinine": "creatinine",
           "bilirubin": "bilirubin", "ebv_dna": "ebv_dna_post_induction"}
#: baseline lab field -> analyte of the domain catalogue (for unit conversion)
ANALYTES = {"wbc": "wbc", "anc": "neutrophils", "hb": "hemoglobin", "platelets": "platelets", "alt": "alt",
            "ast": "ast", "creatinine": "creatinine", "bilirubin": "bilirubin"}


@dataclass(frozen=True)
class Carried:
    field: str
    value: Any  # in the baseline's unit
    source: str  # "T category 'T3' at screening S-GZ-0001" style note
    source_value: Any
    source_unit: str


def carried_values(subject: Any, protocol: Any) -> dict[str, Carried]:
    """Baseline values from the subject's screening (and the protocol's TNM edition)."""
    screening = subject.screening
    units = {f.name: f.unit or "" for f in protocol.fields}
    out: dict[str, Carried] = {}
    for target, source in SOURCES.items():
        raw = screening.values.get(source)
        if raw is None:
            continue
        value, unit = raw, units.get(source, "")
        to_unit = field_text(target).unit
        if target in ANALYTES and unit and to_unit and unit != to_unit:
            value = convert_lab_value(ANALYTES[target], float(raw), unit, to_unit)
        note = _("%(value)s%(unit)s at screening %(screening)s") % {
            "value": raw, "unit": f" {unit}" if unit else "", "screening": screening}
        out[target] = Carried(target, value, note, raw, unit)
    out["tnm_edition"] = Carried("tnm_edition", protocol.stage_edition,
                                 _("the protocol's edition (AJCC %(n)sth)") % {"n": protocol.stage_edition},
                                 protocol.stage_edition, "")
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == str(b)


def changed_values(carried: dict[str, Carried], values: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, carried value, value entered) for every carried value the coordinator changed."""
    out = []
    for name, c in carried.items():
        if name in values and not _same(c.value, values[name]):
            out.append((name, c.value, values[name]))
    return out


def creation_reason(subject: Any, carried: dict[str, Carried], values: dict[str, Any], reason: str) -> str:
    """The audit reason of a baseline created from screening values; ValidationError without a reason
    for a changed value (field: the first changed one)."""
    changes = changed_values(carried, values)
    if changes and not (reason or "").strip():
        name, old, new = changes[0]
        raise ValidationError(
            _("%(field)s was %(old)s at screening and is now %(new)s: give the reason for changing values carried "
              "from screening") % {"field": field_text(name).label, "old": old, "new": new}, field=name)
    kept = [n for n in carried if n in values and n not in {c[0] for c in changes}]
    text = _("carried forward from screening %(screening)s: %(fields)s") % {
        "screening": subject.screening, "fields": ", ".join(kept) or "-"}
    if changes:
        text += "; " + _("changed: %(changes)s; reason: %(reason)s") % {
            "changes": ", ".join(f"{n} {old} -> {new}" for n, old, new in changes), "reason": reason.strip()}
    return text[:500]
