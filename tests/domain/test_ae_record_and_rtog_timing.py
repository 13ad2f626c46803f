"""An adverse event as recorded (CTCAE v4.03) and when an RTOG score may be given.

Sources: NCI CTCAE v4.03 (14 June 2010): an event without a term is "<SOC> - Other, specify"
with the verbatim term, graded 1-5 (Eye disorders 1-4); mucositis oral and dry mouth are
Gastrointestinal disorders, dry mouth has grades 1-3. RTOG/EORTC (Cox JD, Stetz J, Pajak TF,
Int J Radiat Oncol Biol Phys 1995;31:1341-1346): acute morbidity is the first 90 days, late
morbidity beyond 90 days; the seed protocol counts them from the end of RT ("late toxicities are
evaluated beyond three months from the end of radiotherapy"): day 90 is acute, day 91 late.
"""

from __future__ import annotations

import datetime as dt

import pytest

from npctrial.domain import check_ae_dates, check_ae_term, check_rtog_timing, compute_term_soc
from npctrial.domain.treatment_rules import DEFAULT_RULES, TreatmentRules
from npctrial.errors import ValidationError

START, END = dt.date(2026, 1, 12), dt.date(2026, 2, 27)  # 33 fractions


def test_listed_term_takes_its_soc_from_ctcae() -> None:
    assert check_ae_term("mucositis_oral", 3) == "gastrointestinal"
    assert compute_term_soc("dry_mouth") == "gastrointestinal"


def test_other_specify_needs_the_verbatim_term_then_the_soc() -> None:
    for verbatim in ("", "  ", None):
        with pytest.raises(ValidationError) as err:
            check_ae_term("other", 2, term_other=verbatim, soc="skin")
        assert err.value.field == "term_other" and err.value.code == "ae.term_other_required"
    for soc in ("", None):
        with pytest.raises(ValidationError) as err:
            check_ae_term("other", 2, term_other="hiccups", soc=soc)
        assert err.value.field == "soc" and err.value.code == "ae.soc_required"
    assert check_ae_term("other", 2, term_other="hiccups", soc="Gastrointestinal disorders") == "gastrointestinal"


@pytest.mark.parametrize(("soc", "grade", "ok"), [("eye", 4, True), ("eye", 5, False), ("skin", 5, True),
                                                  ("skin", 0, False)])
def test_other_specify_grades_follow_the_soc(soc: str, grade: int, ok: bool) -> None:
    if ok:
        assert check_ae_term("other", grade, term_other="x", soc=soc) == soc
    else:
        with pytest.raises(ValidationError) as err:
            check_ae_term("other", grade, term_other="x", soc=soc)
        assert err.value.field == "grade"


def test_verbatim_term_is_only_for_other_specify() -> None:
    with pytest.raises(ValidationError) as err:
        check_ae_term("dry_mouth", 2, term_other="xerostomia")
    assert err.value.field == "term_other" and err.value.code == "ae.term_other_not_other"
    assert check_ae_term("dry_mouth", 2, term_other="   ") == "gastrointestinal"


@pytest.mark.parametrize(("grade", "ok"), [(3, True), (4, False)])
def test_listed_term_grade_is_one_ctcae_defines(grade: int, ok: bool) -> None:
    if ok:
        check_ae_term("dry_mouth", grade)
    else:
        with pytest.raises(ValidationError, match="allowed grades: 1, 2, 3"):
            check_ae_term("dry_mouth", grade)


@pytest.mark.parametrize(("stop", "ok"), [(START, True), (START + dt.timedelta(days=1), True), (None, True),
                                          (START - dt.timedelta(days=1), False)])
def test_event_does_not_stop_before_it_started(stop: dt.date | None, ok: bool) -> None:
    if ok:
        assert check_ae_dates(START, stop) == stop
    else:
        with pytest.raises(ValidationError) as err:
            check_ae_dates(START, stop)
        assert err.value.field == "stop_date" and err.value.code == "ae.stop_before_start"
        assert str(err.value) == "stop_date (2026-01-11) is before start_date (2026-01-12)"


@pytest.mark.parametrize(("days", "ok"), [(90, False), (91, True), (365, True)])
def test_late_scale_only_more_than_90_days_after_the_end_of_rt(days: int, ok: bool) -> None:
    day = END + dt.timedelta(days=days)
    if ok:
        assert check_rtog_timing("late", day, START, END) == days
    else:
        with pytest.raises(ValidationError) as err:
            check_rtog_timing("late", day, START, END)
        assert err.value.field == "scale" and err.value.code == "rtog.late_too_early"
        assert str(err.value) == ("late RTOG toxicity is scored only beyond 90 days after the end of radiotherapy "
                                  "(90 days)")


@pytest.mark.parametrize("days", [-46, 0, 90])
def test_acute_scale_from_the_first_day_of_rt(days: int) -> None:
    assert check_rtog_timing("acute", END + dt.timedelta(days=days), START, END) == days


@pytest.mark.parametrize(("end", "scale"), [(END, "acute"), (END, "late"), (None, "acute"), (None, "late")])
def test_no_score_before_rt_started(end: dt.date | None, scale: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_rtog_timing(scale, START - dt.timedelta(days=1), START, end)
    assert err.value.field == "assessment_date" and err.value.code == "rtog.before_rt_start"


def test_late_score_needs_the_end_of_rt_acute_does_not() -> None:
    for start in (START, None):
        with pytest.raises(ValidationError) as err:
            check_rtog_timing("late", START + dt.timedelta(days=200), start, None)
        assert err.value.field == "scale" and err.value.code == "rtog.late_needs_rt_end"
        assert check_rtog_timing("acute", START + dt.timedelta(days=20), start, None) is None


def test_the_late_window_is_a_protocol_parameter() -> None:
    assert DEFAULT_RULES.rtog_late_after_days == 90
    rules = TreatmentRules.model_validate({"rtog_late_after_days": 180})
    day = END + dt.timedelta(days=181)
    assert check_rtog_timing("late", day, START, END, late_after_days=rules.rtog_late_after_days) == 181
    with pytest.raises(ValidationError):
        check_rtog_timing("late", day - dt.timedelta(days=1), START, END, late_after_days=180)


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        check_rtog_timing("chronic", END, START, END)
    assert err.value.field == "scale"


def test_refusals_read_in_chinese() -> None:
    with pytest.raises(ValidationError) as err:
        check_rtog_timing("late", END + dt.timedelta(days=90), START, END)
    assert err.value.message is not None
    assert err.value.message.render("zh-hans") == "RTOG 晚期毒性仅在放疗结束 90 天后评分（当前为 90 天）"
    with pytest.raises(ValidationError) as err:
        check_ae_term("other", 2, term_other="", soc="skin")
    assert err.value.message is not None and err.value.message.render("zh-hans") == "“其他，请注明”不良事件须填写具体术语"
