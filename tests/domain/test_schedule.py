"""Schedule of assessments: declared events, expansion, dates, assignment of records, timing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from npctrial.domain.protocol import load_protocol, parse_protocol
from npctrial.domain.schedule_plan import (
    EventDefinition,
    PlannedEvent,
    assign_event,
    classify_timing,
    expand_events,
    plan_events,
)
from npctrial.errors import ProtocolError, ValidationError

IMRT = load_protocol("imrt-s1")
CCRT = load_protocol("ccrt-nimotuzumab")
ENROL, RT_START, RT_END = dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 2, 27)
ANCHORS = {"enrolment": ENROL, "rt_start": RT_START, "rt_end": RT_END}


def _ids(protocol: Any, horizon: float | None = None) -> list[str]:
    return [e.id for e in expand_events(protocol, horizon)]


def test_imrt_events_follow_the_seed_order_weekly_ccrt_then_follow_up() -> None:
    # seed 000: pretreatment evaluation; AEs "every week during CCRT"; response "at the end of
    # CCRT"; follow-up every 3 months in year 1, every 6 months in years 2-5, yearly after.
    ids = _ids(IMRT)
    assert ids[:10] == ["screening", "baseline", *[f"ccrt_w{k}" for k in range(1, 8)], "ccrt_end"]
    assert ids[10:] == [f"fu_m{m}" for m in (3, 6, 9, 12, 18, 24, 30, 36, 42, 48, 54, 60, 72, 84, 96, 108, 120)]


def test_ccrt_nimotuzumab_follow_up_events_come_from_its_own_plan() -> None:
    # the nimotuzumab protocol (assumed plan): every 3 months in years 1-2
    fu = [e.id for e in expand_events(CCRT, 36) if e.follow_up]
    assert fu == ["fu_m3", "fu_m6", "fu_m9", "fu_m12", "fu_m15", "fu_m18", "fu_m21", "fu_m24", "fu_m30", "fu_m36"]


def test_every_event_of_both_protocols_expects_forms_and_weeks_expect_toxicity() -> None:
    for protocol in (IMRT, CCRT):
        events = expand_events(protocol, 60)
        assert all(e.forms for e in events)
        weeks = [e for e in events if e.id.startswith("ccrt_w")]
        assert len(weeks) == 7 and all({"ae", "rtog"} <= set(e.forms) for e in weeks)
        end = next(e for e in events if e.id == "ccrt_end")
        assert "assessment" in end.forms and end.anchor == "rt_end"


def test_weekly_targets_are_7_days_apart_from_the_first_radiotherapy_day() -> None:
    planned = {p.id: p for p in plan_events(expand_events(IMRT, 12), ANCHORS)}
    assert planned["ccrt_w1"].target == RT_START
    assert planned["ccrt_w3"].target == RT_START + dt.timedelta(days=14)
    assert planned["ccrt_w3"].window_end == RT_START + dt.timedelta(days=20)
    assert planned["ccrt_w7"].event.label == "CCRT week 7"
    assert planned["ccrt_w7"].event.short == "W7" and planned["fu_m3"].event.short == "M3"
    assert planned["ccrt_w7"].event.occurrence == 7 and planned["baseline"].event.occurrence == 0


def test_follow_up_targets_and_windows_match_the_follow_up_module() -> None:
    # 3 x 30.4375 = 91.3 -> day 91 after the end of RT, +-14 days; 18 months: +-30 days
    planned = {p.id: p for p in plan_events(expand_events(IMRT, 24), ANCHORS)}
    m3, m18 = planned["fu_m3"], planned["fu_m18"]
    assert m3.target == RT_END + dt.timedelta(days=91)
    assert (m3.window_start, m3.window_end) == (m3.target - dt.timedelta(days=14), m3.target + dt.timedelta(days=14))
    assert m18.target == RT_END + dt.timedelta(days=548)  # 18 x 30.4375 = 547.9 -> 548
    # M12 (+-14) and M18 (+-30) windows do not overlap
    assert planned["fu_m12"].window_end < m18.window_start


def test_events_whose_anchor_is_unknown_have_no_dates() -> None:
    planned = {p.id: p for p in plan_events(expand_events(IMRT, 12), {"enrolment": ENROL})}
    assert planned["baseline"].target == ENROL
    assert planned["ccrt_w1"].target is None and planned["fu_m3"].window_end is None
    assert classify_timing(planned["ccrt_w1"], False, ENROL) == "unscheduled"


def _planned(*events: tuple[str, int, int, int, tuple[str, ...]]) -> tuple[PlannedEvent, ...]:
    defs = tuple(EventDefinition(i, i, i, "enrolment", d, b, a, f) for i, d, b, a, f in events)
    return plan_events(defs, {"enrolment": ENROL})


def test_assign_event_window_bounds_are_inclusive() -> None:
    planned = _planned(("w1", 0, 0, 6, ("ae",)), ("w9", 60, 0, 6, ("ae",)))
    assert assign_event(planned, "ae", ENROL) == "w1"
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=6)) == "w1"
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=7)) is None
    assert assign_event(planned, "ae", ENROL - dt.timedelta(days=1)) is None


def test_assign_event_only_considers_events_expecting_the_form() -> None:
    planned = _planned(("w1", 0, 0, 6, ("lab", "rtog")), ("w2", 7, 0, 6, ("lab", "rtog")), ("x", 3, 3, 3, ("ae",)))
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=1)) == "x"
    assert assign_event(planned, "lab", ENROL + dt.timedelta(days=1)) == "w1"
    assert assign_event(planned, "drug", ENROL + dt.timedelta(days=1)) is None
    assert assign_event(planned, "rtog", ENROL + dt.timedelta(days=20)) is None  # outside both weeks


def test_a_form_collected_at_one_event_belongs_to_it_out_of_window() -> None:
    planned = _planned(("baseline", 0, 28, 14, ("baseline",)), ("w1", 20, 0, 6, ("ae",)))
    assert assign_event(planned, "baseline", ENROL + dt.timedelta(days=15)) == "baseline"
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=30)) == "w1"


def test_assign_event_nearest_target_then_earlier_on_a_tie() -> None:
    # week 7 (days 42-48) and end of CCRT (target day 45, window 42-75) overlap
    planned = _planned(("w7", 42, 0, 6, ("ae",)), ("end", 46, 4, 30, ("ae",)))
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=43)) == "w7"  # 1 day vs 3 days
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=45)) == "end"  # 3 days vs 1 day
    assert assign_event(planned, "ae", ENROL + dt.timedelta(days=44)) == "w7"  # 2 and 2: the earlier
    with pytest.raises(ValidationError):
        assign_event(planned, "ae", "2026-01-05")  # type: ignore[arg-type]


def test_classify_timing_boundaries() -> None:
    (ev,) = _planned(("v", 30, 5, 5, ("followup",)))  # window days 25-35
    day = lambda n: ENROL + dt.timedelta(days=n)  # noqa: E731
    assert classify_timing(ev, True, day(100)) == "done"
    assert classify_timing(ev, False, day(36)) == "overdue"
    assert classify_timing(ev, False, day(35)) == "due"
    assert classify_timing(ev, False, day(25)) == "due"
    assert classify_timing(ev, False, day(11)) == "upcoming"  # window opens in 14 days
    assert classify_timing(ev, False, day(10)) == "planned"  # in 15 days
    assert classify_timing(ev, False, day(20), upcoming_days=5) == "upcoming"


def _with_schedule(schedule: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = yaml.safe_load(open(_protocol_path("imrt-s1"), encoding="utf-8"))
    data["schedule"] = schedule
    data.update(extra)
    return data


def _protocol_path(name: str) -> str:
    from importlib import resources

    return str(resources.files("npctrial.domain").joinpath("protocols", f"{name}.yaml"))


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    return str(info.value)


EVENT = {"id": "v", "label": "Visit", "anchor": "enrolment", "forms": ["baseline"]}


def test_schedule_problems_are_reported_with_their_path() -> None:
    msg = _problems(_with_schedule({"events": [{**EVENT, "forms": ["baselin"]}]}))
    assert "schedule.events[0].forms[0]: unknown form 'baselin'" in msg
    msg = _problems(_with_schedule({"events": [{**EVENT, "id": "w", "repeat": 2, "every_days": 7, "label": "W {n}"},
                                               {**EVENT, "id": "w2"}]}))
    assert "duplicate or reserved event id 'w2'" in msg
    assert "reserved event id 'fu_m3'" in _problems(_with_schedule({"events": [{**EVENT, "id": "fu_m3"}]}))
    assert "needs 'every_days'" in _problems(_with_schedule({"events": [{**EVENT, "repeat": 3, "label": "V {n}"}]}))
    assert "needs '{n}'" in _problems(_with_schedule({"events": [{**EVENT, "repeat": 3, "every_days": 7}]}))
    assert "short label needs '{n}'" in _problems(_with_schedule(
        {"events": [{**EVENT, "repeat": 3, "every_days": 7, "label": "V {n}", "short": "V"}]}))
    assert "listed once per event" in _problems(_with_schedule({"events": [{**EVENT, "forms": ["ae", "ae"]}]}))
    assert "schedule.critical_fields.nope: unknown form" in _problems(
        _with_schedule({"events": [EVENT], "critical_fields": {"nope": ["x"]}}))
    msg = _problems(_with_schedule({"events": [EVENT], "follow_up_forms": ["followup"]}, follow_up=None))
    assert "schedule.follow_up_forms: the protocol has no follow_up plan" in msg


def test_a_protocol_without_a_schedule_has_no_events() -> None:
    data = yaml.safe_load(open(_protocol_path("imrt-s1"), encoding="utf-8"))
    data.pop("schedule")
    assert expand_events(parse_protocol(data)) == ()
