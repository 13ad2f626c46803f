"""What an amendment changes: a structured comparison of two protocol versions.

:func:`compare_protocols` returns a frozen :class:`ProtocolDiff`:

1. Eligibility criteria by id: added, removed, changed (wording, rule or kind), each with the
   old and new rule so a reviewer sees exactly which patients the change affects.
2. Catalogued fields by name: added, removed, changed (type, unit, choices, limits).
3. Randomisation: whether the allocation changes (arms, ratio, stratification, method, block
   sizes; arm labels alone do not change any allocation), and both settings.
4. Every other top-level section that differs (dosing, follow-up, schedule, endpoints, access ...).
5. A unified diff of the two YAML texts (for the record).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from npctrial.domain.localised_text import versions
from npctrial.domain.protocol import Protocol

__all__ = ["CriterionChange", "FieldChange", "ProtocolDiff", "compare_protocols", "randomisation_key"]


@dataclass(frozen=True)
class CriterionChange:
    id: str
    change: str  # added | removed | changed
    old_rule: str | None
    new_rule: str | None
    old_wording: str | None
    new_wording: str | None


@dataclass(frozen=True)
class FieldChange:
    name: str
    change: str  # added | removed | changed
    details: tuple[str, ...]  # e.g. "max: 5 -> 4"


@dataclass(frozen=True)
class ProtocolDiff:
    old_version: str
    new_version: str
    criteria: tuple[CriterionChange, ...]
    fields: tuple[FieldChange, ...]
    randomisation_changed: bool
    old_randomisation: dict[str, Any] | None
    new_randomisation: dict[str, Any] | None
    sections: tuple[str, ...]
    text_diff: tuple[str, ...]

    @property
    def criteria_changed(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    def summary(self) -> str:
        parts = [f"{self.old_version} -> {self.new_version}"]
        if self.criteria:
            parts.append("criteria " + ", ".join(f"{c.id} {c.change}" for c in self.criteria))
        if self.fields:
            parts.append("fields " + ", ".join(f"{f.name} {f.change}" for f in self.fields))
        if self.randomisation_changed:
            parts.append("randomisation changed")
        if self.sections:
            parts.append("sections " + ", ".join(self.sections))
        return "; ".join(parts)


_FIELD_ATTRS = ("type", "unit", "choices", "min", "max", "conversions", "typical_min", "typical_max", "label", "help")
_SKIPPED_SECTIONS = {"version", "criteria", "fields", "randomisation"}


def randomisation_key(protocol: Protocol) -> dict[str, Any] | None:
    """The settings that decide allocations (step 3 of the module docstring), or None (not randomised)."""
    spec = protocol.randomisation
    if spec is None:
        return None
    return {"method": spec.method, "arms": [a.code for a in spec.arms], "ratio": list(spec.ratio),
            "stratification": list(spec.stratification), "block_sizes": list(spec.block_sizes)}


def _criteria(old: Protocol, new: Protocol) -> tuple[CriterionChange, ...]:
    before = {c.id: c for c in old.criteria}
    after = {c.id: c for c in new.criteria}
    out: list[CriterionChange] = []
    for cid in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(cid), after.get(cid)
        if a is not None and b is not None and (a.rule, versions(a.wording), a.kind) == (b.rule, versions(b.wording), b.kind):
            continue
        change = "added" if a is None else "removed" if b is None else "changed"
        out.append(CriterionChange(cid, change, a.rule if a else None, b.rule if b else None,
                                   a.wording if a else None, b.wording if b else None))
    return tuple(out)


def _shown(value: Any) -> str:
    """A field attribute for the diff; texts with every language version (a changed translation is a change)."""
    if isinstance(value, str) and versions(value).keys() - {"en"}:
        return " / ".join(f"{k}: {v!r}" for k, v in versions(value).items())
    return repr(value)


def _fields(old: Protocol, new: Protocol) -> tuple[FieldChange, ...]:
    before = {f.name: f for f in old.fields}
    after = {f.name: f for f in new.fields}
    out: list[FieldChange] = []
    for name in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            out.append(FieldChange(name, "added" if a is None else "removed", ()))
            continue
        details = tuple(f"{attr}: {_shown(getattr(a, attr))} -> {_shown(getattr(b, attr))}" for attr in _FIELD_ATTRS
                        if _shown(getattr(a, attr)) != _shown(getattr(b, attr)))
        if details:
            out.append(FieldChange(name, "changed", details))
    return tuple(out)


def compare_protocols(old: Protocol, new: Protocol, old_text: str = "", new_text: str = "") -> ProtocolDiff:
    """The differences from ``old`` to ``new`` (steps in the module docstring)."""
    old_dump, new_dump = old.model_dump(), new.model_dump()
    sections = tuple(k for k in new_dump if k not in _SKIPPED_SECTIONS and old_dump.get(k) != new_dump.get(k))
    at_enrolment = [p.randomisation.at_enrolment if p.randomisation else False for p in (old, new)]
    if at_enrolment[0] != at_enrolment[1]:
        sections += ("randomisation.at_enrolment",)
    text = tuple(difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), f"v{old.version}",
                                      f"v{new.version}", lineterm="", n=2))
    return ProtocolDiff(
        old_version=old.version, new_version=new.version, criteria=_criteria(old, new), fields=_fields(old, new),
        randomisation_changed=randomisation_key(old) != randomisation_key(new),
        old_randomisation=randomisation_key(old), new_randomisation=randomisation_key(new),
        sections=sections, text_diff=text,
    )
