"""Schedule of assessments (protocol YAML ``schedule:``): events, their forms, target days, windows.

A protocol declares the events of a subject's casebook: screening, baseline, each week of
concurrent chemoradiotherapy, the end of CCRT (RECIST response), and the forms collected at
each. Follow-up visits are not listed one by one: they come from the protocol's ``follow_up``
plan and expect ``follow_up_forms``. ``log_forms`` are collected whenever they happen (adverse
events, interruptions, relapses), and ``critical_fields`` names the fields a monitor verifies
one by one (source-data verification).

Days and windows
- Each event has an ``anchor`` (enrolment, start or end of radiotherapy), a target ``day``
  (0 = the anchor date) and a window ``[day - window_before, day + window_after]``.
- ``repeat: n`` with ``every_days: d`` declares n events (ids ``{id}1`` .. ``{id}n``, ``{n}`` in
  the label) at ``day + (k - 1) * d``: "each week of CCRT" is ``repeat: 7, every_days: 7``.
- Follow-up events (ids ``fu_m3``, ``fu_m6`` ...) take the targets and windows of
  :func:`npctrial.domain.followup.follow_up_schedule` (non-overlapping windows).

This module is the schema and its checks (imported by :mod:`npctrial.domain.protocol`); the
dates of one subject's events are planned by :mod:`npctrial.domain.schedule_plan`.
The windows of the seed protocols are conventions (shared/domain/risk-and-followup.md §2);
each protocol states where its numbers come from in ``schedule.source``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from npctrial.domain.localised_text import LocalisedStr, LocalisedText, versions
from npctrial.messages import Message, message

__all__ = ["STANDARD_FORMS", "Schedule", "ScheduleEvent", "schedule_problems"]

#: Typed case report forms every protocol may name (the EDC implements them); protocol-declared
#: forms (``forms:`` in the YAML) add their own ids.
STANDARD_FORMS = (
    "screening", "baseline", "radiotherapy", "drug", "interruption", "lab_panel", "lab", "ae",
    "rtog", "assessment", "followup", "event",
)

Anchor = Literal["enrolment", "rt_start", "rt_end"]
_IDENT = r"^[a-z][a-z0-9_]*$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleEvent(_Frozen):
    """One declared event (or a series of ``repeat`` events ``every_days`` apart)."""

    id: str = Field(pattern=_IDENT, max_length=30)
    label: LocalisedStr  # published English, optional translations ({en: ..., zh: ...})
    short: LocalisedStr | None = None  # column heading, e.g. "W{n}" (at most 12 characters)
    anchor: Anchor
    day: int = 0
    window_before: int = Field(default=0, ge=0)
    window_after: int = Field(default=0, ge=0)
    forms: tuple[str, ...] = Field(min_length=1)
    repeat: int = Field(default=1, ge=1, le=60)
    every_days: int | None = Field(default=None, ge=1)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleEvent:
        if self.repeat > 1 and self.every_days is None:
            raise ValueError(message("schedule.repeat_needs_every_days", "a repeated event needs 'every_days'"))
        if self.short is not None and any(len(v) > 12 for v in versions(self.short).values()):
            raise ValueError(message("schedule.short_label_too_long",
                                     "a short label has at most 12 characters (in every language)"))
        if self.repeat > 1 and any("{n}" not in v for v in versions(self.label).values()):
            raise ValueError(message("schedule.repeat_label_needs_n",
                                     "a repeated event's label needs '{n}' (the repeat number) in every language"))
        if self.repeat > 1 and self.short is not None and any("{n}" not in v for v in versions(self.short).values()):
            raise ValueError(message("schedule.repeat_short_label_needs_n", "a repeated event's short label needs "
                                     "'{n}' (the repeat number) in every language"))
        if len(set(self.forms)) != len(self.forms):
            raise ValueError(message("schedule.form_listed_twice", "each form may be listed once per event"))
        return self


class Schedule(_Frozen):
    """The schedule of assessments of a protocol."""

    events: tuple[ScheduleEvent, ...] = Field(min_length=1)
    follow_up_forms: tuple[str, ...] = ()
    follow_up_label: LocalisedStr = LocalisedText("Follow-up {label}", {"zh": "随访 {label}"})
    log_forms: tuple[str, ...] = ()
    critical_fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    source: str | None = None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def schedule_problems(data: Mapping[str, Any]) -> list[Message]:
    """Semantic checks of ``schedule`` in a raw protocol mapping (paths as in protocol errors).

    Every form named is a standard or declared form; expanded event ids are unique; follow-up
    forms need a follow-up plan; critical fields name declared fields of declared forms.
    """
    schedule = data.get("schedule")
    if not isinstance(schedule, Mapping):
        return []
    declared = {f.get("id"): f for f in _as_list(data.get("forms")) if isinstance(f, Mapping)}
    known = set(STANDARD_FORMS) | {k for k in declared if isinstance(k, str)}
    problems: list[Message] = []

    def check_forms(path: str, forms: Any) -> None:
        for j, form in enumerate(_as_list(forms)):
            if form not in known:
                problems.append(message("schedule.unknown_form", "%(path)s: unknown form %(form)s (known: %(known)s)",
                                        path=f"{path}[{j}]", form=repr(form), known=tuple(sorted(known))))

    ids: set[str] = set()
    for i, ev in enumerate(_as_list(schedule.get("events"))):
        if not isinstance(ev, Mapping):
            continue
        check_forms(f"schedule.events[{i}].forms", ev.get("forms"))
        repeat = ev.get("repeat", 1)
        n = repeat if isinstance(repeat, int) and repeat >= 1 else 1
        for k in range(1, n + 1):
            eid = f"{ev.get('id')}{k}" if n > 1 else str(ev.get("id"))
            if eid in ids or eid.startswith("fu_m"):
                problems.append(message("schedule.duplicate_event_id", "%(path)s: duplicate or reserved event id "
                                        "%(id)s", path=f"schedule.events[{i}].id", id=repr(eid)))
            ids.add(eid)
    check_forms("schedule.follow_up_forms", schedule.get("follow_up_forms"))
    check_forms("schedule.log_forms", schedule.get("log_forms"))
    if _as_list(schedule.get("follow_up_forms")) and not isinstance(data.get("follow_up"), Mapping):
        problems.append(message("schedule.follow_up_forms_without_plan",
                                "schedule.follow_up_forms: the protocol has no follow_up plan"))
    critical = schedule.get("critical_fields")
    for form, fields in (critical.items() if isinstance(critical, Mapping) else ()):
        if form not in known:
            problems.append(message("schedule.critical_fields_unknown_form", "%(path)s: unknown form %(form)s",
                                    path=f"schedule.critical_fields.{form}", form=repr(form)))
        elif form in declared:
            names = {f.get("name") for f in _as_list(declared[form].get("fields")) if isinstance(f, Mapping)}
            for name in _as_list(fields):
                if name not in names:
                    problems.append(message("schedule.critical_field_unknown", "%(path)s: %(name)s is not a field of "
                                            "form %(form)s", path=f"schedule.critical_fields.{form}", name=repr(name),
                                            form=repr(form)))
    return problems
