"""Radiotherapy course dates and fractions; oral-drug adherence from the diary.

Rules as the CRFs state them (seed protocol 000, IMRT + S-1: "70 Gy in 33 fractions"; S-1 twice
daily from day 1 to day 14 of RT): a course does not end before it starts and delivers at most
the fractions planned; a diary period records at most the doses planned. Adherence is the
percentage of prescribed doses taken (Osterberg L, Blaschke T, N Engl J Med 2005;353:487-497).
"""

from __future__ import annotations

import datetime as dt

import pytest

from npctrial.domain import (
    check_delivered_fractions,
    check_doses_taken,
    check_rt_course_dates,
    compute_adherence_pct,
)
from npctrial.errors import ValidationError

START = dt.date(2026, 1, 12)


@pytest.mark.parametrize("end", [START, START + dt.timedelta(days=45), None])
def test_course_may_end_on_its_first_day_or_later_or_be_under_way(end: dt.date | None) -> None:
    assert check_rt_course_dates(START, end) == end


def test_course_ending_the_day_before_it_started_is_refused_on_end_date() -> None:
    with pytest.raises(ValidationError) as err:
        check_rt_course_dates(START, START - dt.timedelta(days=1))
    assert err.value.field == "end_date" and err.value.code == "rt.end_before_start"
    assert str(err.value) == "end_date (2026-01-11) must not be before start_date (2026-01-12)"


def test_course_dates_accept_iso_text_and_refuse_other_text() -> None:
    assert check_rt_course_dates("2026-01-12", "2026-02-27") == dt.date(2026, 2, 27)
    with pytest.raises(ValidationError) as err:
        check_rt_course_dates("2026-01-12", "27/02/2026")
    assert err.value.field == "end_date"


@pytest.mark.parametrize(("delivered", "ok"), [(0, True), (32, True), (33, True), (34, False), (None, True)])
def test_delivered_fractions_at_most_the_33_planned(delivered: int | None, ok: bool) -> None:
    if ok:
        assert check_delivered_fractions(33, delivered) == delivered
    else:
        with pytest.raises(ValidationError) as err:
            check_delivered_fractions(33, delivered)
        assert err.value.field == "delivered_fractions" and err.value.code == "rt.delivered_above_planned"
        assert "(33), got 34" in str(err.value)


@pytest.mark.parametrize(("planned", "delivered", "field"), [(0, None, "fractions"), (33, -1, "delivered_fractions"),
                                                             (33, 1.5, "delivered_fractions"), (True, 1, "fractions")])
def test_fraction_counts_are_whole_numbers(planned: object, delivered: object, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_delivered_fractions(planned, delivered)  # type: ignore[arg-type]
    assert err.value.field == field


@pytest.mark.parametrize(("taken", "planned", "pct"), [(28, 28, 100.0), (21, 28, 75.0), (0, 28, 0.0),
                                                       (None, 28, 0.0), (0, 0, None), (None, None, None)])
def test_adherence_is_the_percentage_of_planned_doses_taken(taken: int | None, planned: int | None,
                                                            pct: float | None) -> None:
    assert compute_adherence_pct(taken, planned) == pct


def test_one_dose_more_than_planned_is_refused_on_doses_taken() -> None:
    assert check_doses_taken(28, 28) == 28
    for taken, planned in ((29, 28), (1, 0)):
        with pytest.raises(ValidationError) as err:
            compute_adherence_pct(taken, planned)
        assert err.value.field == "doses_taken" and err.value.code == "dosing.taken_above_planned"
    assert str(err.value) == "doses_taken (1) cannot exceed doses_planned (0)"


def test_negative_or_fractional_dose_counts_are_refused() -> None:
    for taken, planned, field in ((-1, 28, "doses_taken"), (2.5, 28, "doses_taken"), (1, -2, "doses_planned")):
        with pytest.raises(ValidationError) as err:
            check_doses_taken(taken, planned)  # type: ignore[arg-type]
        assert err.value.field == field


def test_refusals_read_in_chinese() -> None:
    with pytest.raises(ValidationError) as err:
        check_delivered_fractions(33, 34)
    assert err.value.message is not None
    assert err.value.message.render("zh-hans") == "实际照射次数须 <= 计划次数（33），实际为 34"
    with pytest.raises(ValidationError) as err:
        check_doses_taken(29, 28)
    assert err.value.message is not None and err.value.message.render("zh") == "实际服药次数（29）不能超过计划次数（28）"
