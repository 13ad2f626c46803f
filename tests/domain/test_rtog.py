"""RTOG/EORTC scales and acute/late classification (cases from ../shared/domain/rtog.md and the
IMRT + S-1 protocol: "Late toxicities are evaluated beyond three months from the end of RT")."""

from __future__ import annotations

import datetime as dt

import pytest

from npctrial.domain.rtog import (
    check_rtog_grade,
    classify_onset,
    rtog_grade_description,
    rtog_grades,
    rtog_organs,
)
from npctrial.errors import ValidationError

START = dt.date(2024, 1, 8)
END = dt.date(2024, 2, 23)


@pytest.mark.parametrize(
    ("onset", "expected"),
    [
        (START, "acute"),
        (END, "acute"),
        (END + dt.timedelta(days=89), "acute"),
        (END + dt.timedelta(days=90), "acute"),  # exactly 90 days: not "more than 90"
        (END + dt.timedelta(days=91), "late"),
        (END + dt.timedelta(days=400), "late"),
    ],
)
def test_classify_onset_protocol_rule(onset: dt.date, expected: str) -> None:
    assert classify_onset(onset, START, END) == expected


def test_classify_onset_accepts_iso_strings_and_datetimes() -> None:
    assert classify_onset("2024-05-23", "2024-01-08", "2024-02-23") == "acute"  # day 90
    assert classify_onset(dt.datetime(2024, 5, 24, 10, 0), START, END) == "late"  # day 91


def test_classify_onset_rtog_start_rule() -> None:
    # RTOG acute table: day 1 = first day of RT through day 90.
    day90 = START + dt.timedelta(days=89)
    assert classify_onset(day90, START, END, counted_from="start") == "acute"
    assert classify_onset(day90 + dt.timedelta(days=1), START, END, counted_from="start") == "late"
    # The same onset is acute under the protocol's end-of-RT rule.
    assert classify_onset(day90 + dt.timedelta(days=1), START, END) == "acute"


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((START, START, START - dt.timedelta(days=1)), {}, "rt_end"),
        ((START - dt.timedelta(days=1), START, END), {}, "onset"),
        (("23/05/2024", START, END), {}, "onset"),
        ((END, START, END), {"late_after_days": -1}, "late_after_days"),
        ((END, START, END), {"counted_from": "middle"}, "counted_from"),
    ],
)
def test_classify_onset_bad_input(args: tuple, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        classify_onset(*args, **kwargs)
    assert info.value.field == field


ACUTE_ORGANS = ["skin", "mucous_membrane", "salivary_gland", "pharynx_esophagus", "larynx", "ear"]
LATE_ORGANS = ["salivary_glands", "skin", "subcutaneous_tissue", "mucous_membrane", "brain",
               "spinal_cord", "larynx", "esophagus"]


def test_organs_of_each_scale_match_rtog_md() -> None:
    assert [o.key for o in rtog_organs("acute")] == ACUTE_ORGANS
    assert [o.key for o in rtog_organs("late")] == LATE_ORGANS


def test_acute_salivary_has_no_grade_3() -> None:
    assert [g.grade for g in rtog_grades("salivary_gland", "acute")] == [0, 1, 2, 4, 5]
    with pytest.raises(ValidationError) as info:
        check_rtog_grade("salivary gland", "acute", 3)
    assert info.value.field == "grade"
    assert check_rtog_grade("salivary gland", "late", 3) == 3


@pytest.mark.parametrize("organ", ACUTE_ORGANS)
def test_acute_organs_have_0_to_5(organ: str) -> None:
    grades = [g.grade for g in rtog_grades(organ, "acute")]
    assert grades[0] == 0 and grades[-1] == 5
    assert all(g.text for g in rtog_grades(organ, "acute"))


@pytest.mark.parametrize("organ", LATE_ORGANS)
def test_late_organs_have_0_to_5(organ: str) -> None:
    assert [g.grade for g in rtog_grades(organ, "late")] == [0, 1, 2, 3, 4, 5]


def test_wording() -> None:
    assert rtog_grade_description("mucous membrane", "acute", 1).text.startswith("Injection")
    assert "Confluent, moist desquamation other than skin folds" in rtog_grade_description("skin", "acute", 3).text
    assert ">15% from pre-treatment baseline" in rtog_grade_description("Pharynx & oesophagus", "acute", 3).text
    assert rtog_grade_description("esophagus", "late", 4).text.startswith("Necrosis")
    assert rtog_grade_description("skin", "late", 5).text.startswith("Death directly related")
    assert rtog_grade_description("skin", "acute", 0).text == "No change over baseline"
    assert rtog_grade_description("salivary glands", "late", 4).text == "Fibrosis"


def test_no_late_ear_scale() -> None:
    # The RTOG/EORTC late schema has no ear/hearing category (rtog.md section 3).
    with pytest.raises(ValidationError) as info:
        rtog_grades("ear", "late")
    assert info.value.field == "organ"


@pytest.mark.parametrize(("organ", "scale", "grade", "field"),
                         [("skin", "chronic", 1, "scale"), ("liver", "acute", 1, "organ"),
                          ("skin", "acute", 6, "grade"), ("skin", "acute", True, "grade")])
def test_bad_lookups(organ: str, scale: str, grade: int, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_rtog_grade(organ, scale, grade)
    assert info.value.field == field
