"""Edit checks as protocol data: each generic and trial check on cases written from its rule, with boundaries."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import yaml
from pydantic import ValidationError as PydanticValidationError

from npctrial.domain import load_protocol, parse_protocol
from npctrial.domain.edit_checks import (
    CONTEXT_NAMES,
    check_edit_checks,
    edit_checks_for,
    evaluate_edit_checks,
    generic_edit_checks,
    treatment_weeks,
)
from npctrial.domain.protocol import _protocol_dir
from npctrial.domain.rules import parse_rule
from npctrial.errors import ProtocolError, ValidationError

TODAY = date(2026, 12, 1)
BASE = {"today": TODAY, "now": datetime(2026, 12, 1, 12, 0), "consent_date": date(2026, 4, 2),
        "enrolment_date": date(2026, 4, 3), "treatment_weeks": 7}


def fired(form: str, checks=None, **values) -> set[str]:
    return {f.check for f in evaluate_edit_checks(checks or generic_edit_checks(), form, {**BASE, **values})}


def test_generic_checks_load_with_unique_ids_and_known_severities() -> None:
    checks = generic_edit_checks()
    assert len(checks) >= 40
    assert len({c.id for c in checks}) == len(checks)
    assert {c.severity for c in checks} == {"hard", "soft"}


@pytest.mark.parametrize(("form", "values", "check"), [
    ("followup", {"visit_date": date(2026, 12, 2), "status": "alive_ned"}, "FUT-FOLLOWUP"),
    ("radiotherapy", {"start_date": date(2026, 4, 10), "end_date": date(2026, 12, 2)}, "FUT-RT-END"),
    ("event", {"kind": "last_contact", "event_date": date(2026, 12, 2)}, "FUT-EVENT"),
    ("ae", {"start_date": date(2026, 5, 1), "aware_at": datetime(2026, 12, 1, 12, 1)}, "FUT-AE-AWARE"),
])
def test_future_dates_fire_today_does_not(form: str, values: dict, check: str) -> None:
    assert check in fired(form, **values)
    today_values = {k: (TODAY if isinstance(v, date) and not isinstance(v, datetime) and v > TODAY else v)
                    for k, v in values.items()}
    today_values = {k: (BASE["now"] if isinstance(v, datetime) else v) for k, v in today_values.items()}
    assert check not in fired(form, **today_values)


def test_death_before_consent_and_before_alive_visits_are_hard() -> None:
    death = {"kind": "death", "event_date": date(2026, 3, 1), "last_alive_date": date(2026, 8, 1)}
    found = evaluate_edit_checks(generic_edit_checks(), "event", {**BASE, **death})
    assert {f.check for f in found} >= {"DEATH-BEFORE-CONSENT", "DEATH-BEFORE-ALIVE"}
    assert all(f.hard for f in found if f.check.startswith("DEATH"))
    with pytest.raises(ValidationError) as info:
        check_edit_checks(generic_edit_checks(), "event", {**BASE, **death})
    assert info.value.field == "event_date"
    # dying on the day of the last alive visit is possible
    assert "DEATH-BEFORE-ALIVE" not in fired("event", kind="death", event_date=date(2026, 8, 1),
                                             last_alive_date=date(2026, 8, 1))
    assert "DEATH-BEFORE-ALIVE" in fired("event", kind="death", event_date=date(2026, 7, 31),
                                         last_alive_date=date(2026, 8, 1))


def test_alive_visit_after_death_and_records_after_death() -> None:
    d = {"death_date": date(2026, 8, 1)}
    assert "ALIVE-AFTER-DEATH" in fired("followup", visit_date=date(2026, 8, 2), status="alive_ned", **d)
    assert "ALIVE-AFTER-DEATH" not in fired("followup", visit_date=date(2026, 8, 1), status="alive_ned", **d)
    assert "VISIT-AFTER-DEATH" in fired("followup", visit_date=date(2026, 8, 2), status="unknown", **d)
    assert "EVENT-AFTER-DEATH" in fired("event", kind="distant_metastasis", event_date=date(2026, 8, 2), **d)
    assert "DEATH-TWICE" in fired("event", kind="death", event_date=date(2026, 8, 2), **d)
    for form, field in (("lab", "sample_date"), ("ae", "start_date"), ("drug", "date"), ("rtog", "assessment_date")):
        assert any(c.endswith("AFTER-DEATH") for c in fired(form, **{field: date(2026, 8, 2)}, **d)), form


def test_nothing_fires_when_the_dates_it_needs_are_missing() -> None:
    assert fired("event", kind="death", event_date=date(2026, 5, 1)) == set()
    assert fired("followup", visit_date=date(2026, 5, 1), status="alive_ned") == set()


def test_treatment_before_enrolment_or_consent_is_soft() -> None:
    found = evaluate_edit_checks(generic_edit_checks(), "radiotherapy", {**BASE, "start_date": date(2026, 4, 1)})
    assert {f.check for f in found} == {"RT-BEFORE-CONSENT", "RT-BEFORE-ENROLMENT"}
    assert not any(f.hard for f in found)
    assert check_edit_checks(generic_edit_checks(), "radiotherapy", {**BASE, "start_date": date(2026, 4, 1)})
    assert fired("radiotherapy", start_date=date(2026, 4, 3)) == set()


@pytest.mark.parametrize(("days", "fires"), [(90, False), (91, True), (104, True)])
def test_acute_rtog_beyond_day_90_is_hard(days: int, fires: bool) -> None:
    assert ("RTOG-ACUTE-AFTER-90" in fired("rtog", scale="acute", days_after_rt_end=days, grade=5,
                                           death_date=date(2026, 9, 1))) is fires
    assert "RTOG-ACUTE-AFTER-90" not in fired("rtog", scale="late", days_after_rt_end=days)


def test_grade_5_without_death_opens_a_query() -> None:
    assert "AE-G5-NO-DEATH" in fired("ae", grade=5, start_date=date(2026, 5, 1))
    assert "AE-G5-NO-DEATH" not in fired("ae", grade=5, start_date=date(2026, 5, 1), death_date=date(2026, 5, 9))
    assert "AE-G5-DATE" in fired("ae", grade=5, start_date=date(2026, 5, 10), death_date=date(2026, 5, 9))
    assert "RTOG-G5-NO-DEATH" in fired("rtog", grade=5, scale="acute")


@pytest.mark.parametrize(("week", "fires"), [(0, True), (1, False), (7, False), (8, True)])
def test_lab_week_inside_the_treatment_weeks(week: int, fires: bool) -> None:
    assert ("LAB-WEEK" in fired("lab", week=week)) is fires


def test_lab_week_must_match_the_sample_date() -> None:
    rt = {"rt_start": date(2026, 4, 10)}
    assert "LAB-WEEK-DATE" not in fired("lab", week=1, sample_date=date(2026, 4, 16), **rt)  # day 6: week 1
    assert "LAB-WEEK-DATE" in fired("lab", week=1, sample_date=date(2026, 4, 17), **rt)  # day 7: week 2
    assert "LAB-DUPLICATE" in fired("lab", same_day_duplicates=1, term="anemia", sample_date=date(2026, 4, 17))
    assert "ASSESSMENT-DUPLICATE" in fired("assessment", same_day_duplicates=1, assessment_date=date(2026, 6, 1))


def test_treatment_weeks_from_the_schedule_and_a_longer_course() -> None:
    imrt = load_protocol("imrt-s1")
    assert treatment_weeks(imrt) == 7  # "CCRT week {n}", repeat 7
    assert treatment_weeks(imrt, date(2026, 4, 10), date(2026, 5, 26)) == 7
    assert treatment_weeks(imrt, date(2026, 4, 10), date(2026, 6, 2)) == 8  # interrupted: 53 days
    no_schedule = parse_protocol({k: v for k, v in _yaml("imrt-s1").items() if k != "schedule"})
    assert treatment_weeks(no_schedule) is None


def _yaml(name: str) -> dict:
    return yaml.safe_load(_protocol_dir().joinpath(f"{name}.yaml").read_text())


def test_trial_checks_of_the_randomised_protocol() -> None:
    checks = edit_checks_for(load_protocol("ccrt-nimotuzumab"))
    nimo = {"drug": "nimotuzumab", "date": date(2026, 4, 5), "arm": "CCRT", "randomisation_date": date(2026, 4, 6)}
    assert fired("drug", checks, **nimo) >= {"CCRT-NIMO-CONTROL-ARM", "CCRT-NIMO-BEFORE-RANDOMISATION"}
    assert fired("drug", checks, **{**nimo, "arm": "CCRT+NIMO", "date": date(2026, 4, 7)}) == set()
    assert "CCRT-NIMO-NOT-RANDOMISED" in fired("drug", checks, drug="nimotuzumab", date=date(2026, 4, 7))
    assert "CCRT-NIMO-CONTROL-ARM" not in fired("drug", edit_checks_for(load_protocol("imrt-s1")), **nimo)


def test_trial_checks_of_the_single_arm_protocol() -> None:
    checks = edit_checks_for(load_protocol("imrt-s1"))
    rt = {"rt_start": date(2026, 4, 10), "rt_end": date(2026, 5, 26)}
    assert "IMRT-S1-DURING-IMRT" in fired("drug", checks, drug="S-1", date=date(2026, 5, 27), **rt)
    assert "IMRT-S1-DURING-IMRT" not in fired("drug", checks, drug="S-1", date=date(2026, 5, 26), **rt)
    assert "IMRT-S1-STUDY-DRUG" in fired("drug", checks, drug="nimotuzumab", date=date(2026, 4, 20), **rt)
    assert "IMRT-S1-TECHNIQUE" in fired("radiotherapy", checks, technique="VMAT", start_date=date(2026, 4, 10))


def test_a_protocol_check_replaces_the_generic_one_with_its_id() -> None:
    data = _yaml("imrt-s1")
    data["edit_checks"] = [{"id": "RT-BEFORE-ENROLMENT", "form": "radiotherapy", "field": "start_date",
                            "when": "start_date < enrolment_date", "severity": "hard", "message": "refused"}]
    checks = edit_checks_for(parse_protocol(data))
    assert [c.severity for c in checks if c.id == "RT-BEFORE-ENROLMENT"] == ["hard"]
    assert len(checks) == len(generic_edit_checks())


@pytest.mark.parametrize(("check", "text"), [
    ({"id": "X-1", "form": "ae", "field": "grade", "when": "grade ==", "severity": "soft", "message": "m"},
     "not a valid expression"),
    ({"id": "X-1", "form": "ae", "field": "grade", "when": "grade.x", "severity": "soft", "message": "m"},
     "not allowed"),
    ({"id": "X-1", "form": "ae", "field": "grade", "when": "grade > 1", "severity": "warn", "message": "m"},
     "severity"),
    ({"id": "x1", "form": "ae", "field": "grade", "when": "grade > 1", "severity": "soft", "message": "m"}, "id"),
])
def test_bad_checks_are_protocol_errors_with_their_path(check: dict, text: str) -> None:
    data = {**_yaml("imrt-s1"), "edit_checks": [check]}
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    assert "edit_checks[0]" in str(info.value) and text in str(info.value)


def test_duplicate_check_ids_are_refused() -> None:
    check = {"id": "X-1", "form": "ae", "field": "grade", "when": "grade > 1", "severity": "soft", "message": "m"}
    with pytest.raises(ProtocolError) as info:
        parse_protocol({**_yaml("imrt-s1"), "edit_checks": [check, check]})
    assert "duplicate edit check id 'X-1'" in str(info.value)


def test_message_names_values_and_prints_missing_as_dash() -> None:
    found = evaluate_edit_checks(generic_edit_checks(), "event",
                                 {**BASE, "kind": "death", "event_date": date(2026, 3, 1)})
    assert found[0].message == "death on 2026-03-01 is before consent on 2026-04-02"
    lab = evaluate_edit_checks(generic_edit_checks(), "lab", {**BASE, "week": 9})
    assert "1-7" in lab[0].message


def test_context_names_cover_what_generic_checks_read_besides_record_fields() -> None:
    record_fields = {"assessment_date", "start_date", "end_date", "date", "sample_date", "stop_date", "aware_at",
                     "sae_reported_at", "visit_date", "event_date", "kind", "status", "grade", "scale",
                     "days_after_rt_end", "week", "drug", "term", "technique"}
    for check in generic_edit_checks():
        assert set(check.reads) <= CONTEXT_NAMES | record_fields, check.id


def test_presence_and_date_functions_of_the_rule_language() -> None:
    rule = parse_rule("missing(death_date) and present(grade)")
    assert rule.evaluate({"grade": 5}) is True and rule.evaluate({"grade": 5, "death_date": TODAY}) is False
    assert parse_rule("days_between(a, b) == 30").evaluate({"a": date(2026, 4, 1), "b": date(2026, 5, 1)}) is True
    assert parse_rule("week_of(a, b) == 2").evaluate({"a": date(2026, 4, 1), "b": date(2026, 4, 8)}) is True
    with pytest.raises(ValidationError):
        parse_rule("missing(1)")
    with pytest.raises(ValidationError):
        parse_rule("days_between(a, b) > 1").evaluate({"a": "2026-04-01", "b": date(2026, 4, 2)})
    with pytest.raises(ValidationError):
        parse_rule("start_date < 3").evaluate({"start_date": TODAY})


# --------------------------------------------------------------- messages in the reader's language
def test_every_bundled_check_has_a_chinese_message_naming_the_same_values() -> None:
    from npctrial.domain import load_protocol
    from npctrial.domain.edit_checks import edit_checks_for
    from npctrial.domain.localised_text import parse_localised_text

    for name in ("imrt-s1", "ccrt-nimotuzumab"):
        for check in edit_checks_for(load_protocol(name)):
            assert parse_localised_text(check.message).has("zh"), (name, check.id)


def test_a_stored_english_message_is_read_back_into_chinese() -> None:
    import datetime as dt

    from npctrial.domain.edit_checks import (
        evaluate_edit_checks,
        generic_edit_checks,
        message_in_language,
    )

    check = next(c for c in generic_edit_checks() if c.id == "EVENT-AFTER-DEATH")
    values = {"kind": "distant_metastasis", "event_date": dt.date(2026, 5, 2), "death_date": dt.date(2026, 4, 30)}
    (finding,) = evaluate_edit_checks([check], "event", values)
    english = "distant_metastasis on 2026-05-02 is after the death on 2026-04-30"
    assert str(finding.message) == english
    assert message_in_language(check, english, "zh-hans") == "2026-05-02 的 distant_metastasis 晚于死亡日期 2026-04-30"
    assert message_in_language(check, english, "en") == english
    assert message_in_language(check, "a text the template no longer matches", "zh") == \
        "a text the template no longer matches"


def test_a_translation_that_drops_a_value_is_refused() -> None:
    from npctrial.domain.edit_checks import EditCheck

    with pytest.raises(PydanticValidationError, match="the zh message names nothing, the English grade"):
        EditCheck(id="X-1", form="ae", field="grade", when="grade > 3", severity="soft",
                  message={"en": "grade {grade} needs review", "zh": "需复核"})


def test_a_refused_dose_change_lists_the_protocols_reasons_in_chinese() -> None:
    from npctrial.domain.treatment_rules import check_dose, rules_of

    with pytest.raises(ValidationError) as info:
        check_dose(rules_of(load_protocol("imrt-s1")), 50, 60, basis="planned", reason="unknown")
    assert info.value.message is not None
    zh = info.value.message.render("zh")
    assert "progression（疾病进展）、grade4_toxicity（4级毒性）、refusal（患者拒绝）" in zh
    assert "progression (Disease progression), grade4_toxicity (Grade 4 toxicity)" in str(info.value)
