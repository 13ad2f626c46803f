"""Follow-up schedules from protocol data and overdue visits."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npctrial.domain.followup import (
    assign_visits,
    follow_up_schedule,
    follow_up_stop,
    overdue_visits,
    visit_statuses,
)
from npctrial.domain.protocol import FollowUpPlan, VisitPeriod, load_protocol
from npctrial.errors import ProtocolError, ValidationError

IMRT = load_protocol("imrt-s1")
RT_END = dt.date(2024, 1, 15)


def test_imrt_s1_months_every_3_then_6_then_12() -> None:
    # "every 3 months during the first years, every 6 months for the following 2-5 years,
    # and annually thereafter" (horizon 120 months)
    sched = follow_up_schedule(RT_END, IMRT)
    months = [v.month for v in sched.visits]
    assert months == [3, 6, 9, 12, 18, 24, 30, 36, 42, 48, 54, 60, 72, 84, 96, 108, 120]
    assert [v.number for v in sched.visits] == list(range(1, 18))


def test_targets_are_rounded_month_days_from_rt_end() -> None:
    sched = follow_up_schedule("2024-01-15", IMRT)
    first = sched.visits[0]
    # 3 x 30.4375 = 91.3125 -> 91 days; window +-14 days
    assert first.target == RT_END + dt.timedelta(days=91)
    assert first.window_start == first.target - dt.timedelta(days=14)
    assert first.window_end == first.target + dt.timedelta(days=14)
    m60 = next(v for v in sched.visits if v.month == 60)
    assert m60.target == RT_END + dt.timedelta(days=1826)  # 60 x 30.4375 = 1826.25
    assert m60.window_end - m60.target == dt.timedelta(days=30)


def test_windows_never_overlap_and_are_cut_at_the_midpoint() -> None:
    plan = FollowUpPlan(
        anchor="rt_end",
        horizon_months=3,
        periods=(VisitPeriod(from_month=0, to_month=None, interval_months=1, window_before_days=20,
                             window_after_days=20),),
    )
    sched = follow_up_schedule(RT_END, plan)
    for a, b in zip(sched.visits, sched.visits[1:], strict=False):
        assert a.window_end < b.window_start
        mid = a.target + dt.timedelta(days=(b.target - a.target).days // 2)
        assert b.window_start == mid and a.window_end == mid - dt.timedelta(days=1)
    # first window keeps its own 20 days before
    assert sched.visits[0].window_start == sched.visits[0].target - dt.timedelta(days=20)


def test_horizon_override_and_frame() -> None:
    sched = follow_up_schedule(RT_END, IMRT, horizon_months=12)
    assert [v.label for v in sched.visits] == ["M3", "M6", "M9", "M12"]
    frame = sched.to_frame()
    assert list(frame.columns) == ["visit", "label", "month", "target", "window_start", "window_end"]
    assert "M12" in sched.summary()


def test_overdue_visits() -> None:
    sched = follow_up_schedule(RT_END, IMRT, horizon_months=12)
    v1, v2, v3, _ = sched.visits
    done = [v1.target, v2.window_end]  # visit 2 attended on the last day of its window
    today = v3.window_end + dt.timedelta(days=1)
    assert overdue_visits(sched, done, today) == (v3,)
    # on the last day of its window a visit is not yet overdue
    assert overdue_visits(sched, done, v3.window_end) == ()
    # a visit outside every window is unscheduled and does not cover anything
    outside = v1.window_end + dt.timedelta(days=1)
    assert outside < v2.window_start
    assert assign_visits(sched, [outside]) == {outside: None}
    assert overdue_visits(sched, [outside], today) == (v1, v2, v3)


def test_errors() -> None:
    with pytest.raises(ValidationError, match="rt_end must be a date"):
        follow_up_schedule("15/01/2024", IMRT)
    with pytest.raises(ValidationError, match="today must be a date"):
        overdue_visits(follow_up_schedule(RT_END, IMRT), [], "tomorrow")
    no_plan = IMRT.model_copy(update={"follow_up": None})
    with pytest.raises(ProtocolError, match="no follow-up plan"):
        follow_up_schedule(RT_END, no_plan)


def test_nimotuzumab_plan_is_three_monthly_for_two_years() -> None:
    sched = follow_up_schedule(RT_END, load_protocol("ccrt-nimotuzumab"), horizon_months=36)
    assert [v.month for v in sched.visits] == [3, 6, 9, 12, 15, 18, 21, 24, 30, 36]




@given(
    interval=st.sampled_from([0.5, 1, 2, 3, 6, 12]),
    before=st.integers(0, 60),
    after=st.integers(0, 60),
)
def test_windows_never_overlap_and_contain_their_target(interval: float, before: int, after: int) -> None:
    plan = FollowUpPlan(
        anchor="rt_end",
        horizon_months=24,
        periods=(VisitPeriod(from_month=0, to_month=None, interval_months=interval,
                             window_before_days=before, window_after_days=after),),
    )
    visits = follow_up_schedule(RT_END, plan).visits
    for v in visits:
        assert v.window_start <= v.target <= v.window_end
    for a, b in zip(visits, visits[1:], strict=False):
        assert a.window_end < b.window_start


def test_follow_up_stops_at_the_first_death_or_withdrawal() -> None:
    events = [("last_contact", "2024-03-01"), ("withdrawal", "2024-09-01"), ("death", "2024-08-01"),
              ("distant_metastasis", "2024-02-01")]
    assert follow_up_stop(events) == dt.date(2024, 8, 1)
    assert follow_up_stop([("last_contact", "2024-03-01")]) is None
    with pytest.raises(ValidationError, match="event date"):
        follow_up_stop([("death", "01/08/2024")])


def test_visits_after_death_are_stopped_not_overdue_or_planned() -> None:
    sched = follow_up_schedule(RT_END, IMRT)
    v1, v2, v3 = sched.visits[:3]
    death = v2.window_start + dt.timedelta(days=1)  # inside visit 2's window: it can no longer happen
    today = v3.window_end + dt.timedelta(days=400)
    statuses = visit_statuses(sched, [v1.target], today, stopped_on=death)
    assert statuses[0] == (v1, "done", v1.target)
    assert {s for _, s, _ in statuses[1:]} == {"stopped"}
    assert overdue_visits(sched, [v1.target], today, stopped_on=death) == ()
    # a visit whose window closed before the death was missed: still overdue
    late = v3.window_end + dt.timedelta(days=1)
    assert overdue_visits(sched, [v1.target], today, stopped_on=late) == (v2, v3)
    assert [s for _, s, _ in visit_statuses(sched, [], v1.target, stopped_on=None)][:2] == ["due", "planned"]


def test_annual_visits_continue_after_month_60_to_the_horizon() -> None:
    sched = follow_up_schedule(RT_END, IMRT)
    after = [v for v in sched.visits if v.month > 60]
    assert [v.month for v in after] == [72, 84, 96, 108, 120]
    today = after[-1].window_end + dt.timedelta(days=1)
    statuses = dict((v.month, s) for v, s, _ in visit_statuses(sched, [], today))
    assert statuses[120] == "overdue"
