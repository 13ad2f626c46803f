"""Laboratory panels and site laboratory reference ranges.

A *panel* (``data/lab_panels.yaml``) is the set of analytes a site reports on one request, in
sections (blood count, liver, renal ...). Every analyte of a panel is graded by a CTCAE v4.03
lab term, so each row of a panel is one lab value of the EDC.

A *reference range* is a laboratory's LLN and/or ULN of one analyte, both in one unit of the
analyte's controlled list (:func:`check_reference_range`):

1. the analyte is graded by a CTCAE lab term against a reference limit (not body weight) and the
   unit is one of its units (ValidationError ``field="analyte"`` / ``field="unit"``);
2. at least one limit is given, and the limit the CTCAE grade of the analyte is read against
   (LLN for a decrease term such as anaemia, ULN for an increase term such as ALT) is given;
3. each limit is a plausible reference limit in that unit
   (:func:`npctrial.domain.lab_analytes.check_lab_value` with ``kind`` lln/uln);
4. LLN < ULN (compared in the canonical unit).

Typical use::

    lab_panel("weekly").analytes[0].key                    # 'wbc'
    check_reference_range("bilirubin", "umol/L", None, 21)  # ReferenceRange(... uln=21.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from npctrial.domain._tables import read_rule_table
from npctrial.domain.ctcae import lab_terms
from npctrial.domain.lab_analytes import Analyte, check_lab_value, lab_analyte
from npctrial.domain.localised_text import LocalisedText, parse_localised_text
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["LabPanel", "PanelSection", "ReferenceRange", "check_reference_range", "lab_panel", "lab_panels",
           "reference_limits_needed"]


@dataclass(frozen=True)
class PanelSection:
    key: str
    label: LocalisedText
    analytes: tuple[Analyte, ...]


@dataclass(frozen=True)
class LabPanel:
    key: str
    label: LocalisedText
    sections: tuple[PanelSection, ...]

    @property
    def analytes(self) -> tuple[Analyte, ...]:
        """Every analyte of the panel, in form order."""
        return tuple(a for s in self.sections for a in s.analytes)


def _panel_analyte(panel: str, key: Any) -> Analyte:
    a = lab_analyte(key)
    if a.ctcae_term is None or "lln" not in reference_limits_needed(a) and "uln" not in reference_limits_needed(a):
        raise ValidationError(message("lab_data.panel_analyte_not_graded", "lab panels data: %(panel)s: %(analyte)s is "
                                      "not graded against a reference range", panel=panel, analyte=a.key),
                              field="lab_panels")
    return a


def _panel(key: str, spec: dict[str, Any]) -> LabPanel:
    sections = tuple(PanelSection(str(s["key"]), parse_localised_text(s["label"]),
                                  tuple(_panel_analyte(key, a) for a in s["analytes"]))
                     for s in spec["sections"])
    keys = [a.key for s in sections for a in s.analytes]
    if len(set(keys)) != len(keys):
        raise ValidationError(message("lab_data.panel_analyte_twice", "lab panels data: %(panel)s lists an analyte "
                                      "twice", panel=key), field="lab_panels")
    return LabPanel(key, parse_localised_text(spec["label"]), sections)


@cache
def lab_panels() -> tuple[LabPanel, ...]:
    """Every panel of ``data/lab_panels.yaml``, in file order."""
    data = read_rule_table("lab_panels.yaml")
    return tuple(_panel(str(k), spec) for k, spec in data["panels"].items())


def lab_panel(key: Any) -> LabPanel:
    """The panel ``key`` (ValidationError ``field="panel"`` naming the known panels)."""
    found = next((p for p in lab_panels() if p.key == key), None)
    if found is None:
        raise ValidationError(message("lab_panel.unknown", "unknown lab panel %(panel)s; expected one of %(panels)s",
                                      panel=repr(key), panels=tuple(p.key for p in lab_panels())), field="panel")
    return found


@cache
def reference_limits_needed(analyte: str | Analyte) -> tuple[str, ...]:
    """The reference limits the analyte's CTCAE v4.03 lab term is graded against: ("lln",) or ("uln", ...)."""
    a = lab_analyte(analyte)
    term = next((t for t in lab_terms() if t.key == a.ctcae_term), None)
    return () if term is None else tuple(n for n in term.needs if n in ("lln", "uln"))


@dataclass(frozen=True)
class ReferenceRange:
    """A checked reference range: the analyte key, the unit's canonical spelling, LLN and ULN."""

    analyte: str
    unit: str
    lln: float | None
    uln: float | None


def check_reference_range(analyte: Any, unit: Any, lln: Any, uln: Any) -> ReferenceRange:
    """A laboratory's reference range of one analyte, checked (steps 1-4 of the module docstring)."""
    a = lab_analyte(analyte)
    if not reference_limits_needed(a):
        raise ValidationError(message("lab_range.not_graded", "%(analyte)s is not graded against a laboratory "
                                      "reference range", analyte=a.label), field="analyte")
    u = a.unit(unit, "unit")
    if lln is None and uln is None:
        raise ValidationError(message("lab_range.no_limit", "give the LLN, the ULN or both of %(analyte)s",
                                      analyte=a.label), field="lln")
    for needed in reference_limits_needed(a):
        if {"lln": lln, "uln": uln}[needed] is None:
            raise ValidationError(message("lab_range.limit_required", "%(analyte)s is graded against its %(limit)s "
                                          "(CTCAE v4.03 %(term)s): %(field)s is required", analyte=a.label,
                                          limit=needed.upper(), term=str(a.ctcae_term), field=needed), field=needed)
    low = None if lln is None else check_lab_value(a, lln, u.name, kind="lln", field="lln")
    high = None if uln is None else check_lab_value(a, uln, u.name, kind="uln", field="uln")
    if low is not None and high is not None and low.canonical_value >= high.canonical_value:
        raise ValidationError(message("lab.lln_not_below_uln", "lln (%(lln)s) must be below uln (%(uln)s)",
                                      lln=f"{low.value:g} {u.name}", uln=f"{high.value:g} {u.name}"), field="lln")
    return ReferenceRange(a.key, u.name, None if low is None else low.value, None if high is None else high.value)
