"""Clinical validation of CRFs through the form AND the API (same rules, same fields).

Cases are written from the published rules: CTCAE v4.03 grade availability (NCI spreadsheet:
dry mouth 1-3, febrile neutropenia 3-5, fatigue 1-3, neutrophil count decreased 1-4, hyponatremia
without grade 2), "Other, specify" per system organ class; lab units with conversions; and the
generic and trial edit checks (npctrial/domain/data/edit_checks.yaml and the protocol YAMLs).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from npctrial.web.clinical.models import (
    AdverseEvent,
    ClinicalEvent,
    FollowUpVisit,
    LabResult,
    RtogScore,
)
from npctrial.web.core.models import DataQuery, Randomisation, Subject
from tests.web.clinical.conftest import RT, post_crf, save
from tests.web.conftest import login

TODAY = timezone.localdate()


@pytest.fixture
def site(world):
    """Subjects enrolled on 2026-01-05 (consent that day) with the standard RT course."""
    for key in (("imrt", "A"), ("ccrt", "A")):
        Subject.objects.filter(pk=world.subjects[key].pk).update(enrolment_date=date(2026, 1, 5))
        world.subjects[key].refresh_from_db()
    Randomisation.objects.filter(subject=world.subjects[("ccrt", "A")]).update(randomisation_date=date(2026, 1, 6))
    world.subjects[("ccrt", "A")].refresh_from_db()
    return world


def api(client, world, form, values, study="imrt"):
    s = world.subjects[(study, "A")]
    return client.post(f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/crf/{form}", {"values": values},
                       content_type="application/json")


def page_error(response) -> str:
    assert response.status_code == 200, response.status_code  # re-shown with errors, nothing saved
    return response.content.decode()


def assert_both_refuse(client, world, form, page_data, api_values, field, text, study="imrt"):
    """The page shows the error, the API answers 422 naming the field; nothing is stored."""
    model_count = _count(form)
    body = page_error(post_crf(client, world, form, page_data, study=study))
    assert text in body, body[:3000]
    r = api(client, world, form, api_values, study)
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] == field
    assert text in r.json()["errors"][0]["message"]
    assert _count(form) == model_count


def _count(form):
    from npctrial.web.clinical.crfs import spec_of

    return spec_of(form).model.objects.count()


def _ae(term, grade, **kw):
    return {"week": 3, "term": term, "grade": grade, "attribution": "probable", "start_date": "2026-01-26", **kw}


@pytest.mark.parametrize(("term", "grade", "allowed"), [
    ("dry_mouth", 4, "1, 2, 3"), ("febrile_neutropenia", 1, "3, 4, 5"), ("fatigue", 5, "1, 2, 3"),
    ("neutrophil_count_decreased", 5, "1, 2, 3, 4"),
])
def test_ae_grades_ctcae_does_not_define_are_refused(coordinator, site, term, grade, allowed):
    save("radiotherapy", site, dict(RT))
    assert_both_refuse(coordinator, site, "ae", _ae(term, str(grade)), _ae(term, grade), "grade",
                f"allowed grades: {allowed}")


def test_other_specify_needs_verbatim_term_and_soc(coordinator, site):
    save("radiotherapy", site, dict(RT))
    assert_both_refuse(coordinator, site, "ae", _ae("other", "2", soc="skin"), _ae("other", 2, soc="skin"),
                "term_other", "term_other is required")
    assert_both_refuse(coordinator, site, "ae", _ae("other", "2", term_other="hiccups"), _ae("other", 2, term_other="hiccups"),
                "soc", "soc (system organ class) is required")
    assert_both_refuse(coordinator, site, "ae", _ae("other", "5", term_other="vitreous haemorrhage", soc="eye"),
                _ae("other", 5, term_other="vitreous haemorrhage", soc="eye"), "grade", "allowed grades: 1, 2, 3, 4")
    assert post_crf(coordinator, site, "ae", _ae("other", "2", term_other="hiccups", soc="gastrointestinal")
                    ).status_code == 302
    r = api(coordinator, site, "ae", _ae("mucositis_oral", 2))
    assert r.status_code == 201 and r.json()["soc"] == "gastrointestinal"  # SOC from CTCAE for a listed term
    assert AdverseEvent.objects.get(term="other").term_other == "hiccups"


def test_grade_5_without_death_opens_a_query_closed_when_the_death_is_recorded(coordinator, site):
    save("radiotherapy", site, dict(RT))
    r = api(coordinator, site, "ae", _ae("mucositis_oral", 5, start_date="2026-02-10"))
    assert r.status_code == 201 and any("AE-G5-NO-DEATH" in n for n in r.json()["notes"])
    q = DataQuery.objects.get(edit_check="AE-G5-NO-DEATH")
    assert q.status == "open" and q.field_name == "grade" and q.raised_by is None
    assert q.record == f"ae:{r.json()['id']}"
    assert api(coordinator, site, "event", {"kind": "death", "event_date": "2026-02-20", "cause": "aspiration"}
               ).status_code == 201
    q.refresh_from_db()
    assert q.status == "closed"


def test_death_before_consent_or_before_alive_visits_is_refused(coordinator, site):
    assert_both_refuse(coordinator, site, "event", {"kind": "death", "event_date": "2026-01-02"},
                {"kind": "death", "event_date": "2026-01-02"}, "event_date", "before consent")
    save("radiotherapy", site, dict(RT))
    for d in ("2026-05-01", "2026-08-01"):
        save("followup", site, {"visit_date": date.fromisoformat(d), "status": "alive_ned"})
    assert_both_refuse(coordinator, site, "event", {"kind": "death", "event_date": "2026-04-01"},
                {"kind": "death", "event_date": "2026-04-01"}, "event_date", "found the patient alive")
    assert post_crf(coordinator, site, "event", {"kind": "death", "event_date": "2026-09-01"}).status_code == 302
    assert_both_refuse(coordinator, site, "followup", {"visit_date": "2026-10-01", "status": "alive_ned"},
                {"visit_date": "2026-10-01", "status": "alive_ned"}, "status", "cannot find them alive")
    assert ClinicalEvent.objects.filter(kind="death").count() == 1


def test_future_dates_are_refused(coordinator, site):
    future = (TODAY + timedelta(days=1)).isoformat()
    rt = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in RT.items()}
    assert_both_refuse(coordinator, site, "radiotherapy", {**rt, "end_date": future}, {**rt, "end_date": future},
                "end_date", "in the future")
    assert_both_refuse(coordinator, site, "followup", {"visit_date": future, "status": "alive_ned"},
                {"visit_date": future, "status": "alive_ned"}, "visit_date", "in the future")


def test_rt_before_consent_and_treatment_before_enrolment_open_queries(coordinator, site):
    r = api(coordinator, site, "radiotherapy", {**{k: (v.isoformat() if isinstance(v, date) else v)
                                                   for k, v in RT.items()}, "start_date": "2026-01-02"})
    assert r.status_code == 201
    checks = set(DataQuery.objects.filter(record=f"radiotherapy:{r.json()['id']}").values_list("edit_check", flat=True))
    assert checks == {"RT-BEFORE-CONSENT", "RT-BEFORE-ENROLMENT"}


def test_acute_rtog_at_day_104_is_refused(coordinator, site):
    save("radiotherapy", site, dict(RT))  # ends 2026-02-27
    day104 = (RT["end_date"] + timedelta(days=104)).isoformat()
    assert_both_refuse(coordinator, site, "rtog", {"assessment_date": day104, "scale": "acute", "organ": "mucous_membrane",
                                            "grade": "5"},
                {"assessment_date": day104, "scale": "acute", "organ": "mucous_membrane", "grade": 5}, "scale",
                "acute morbidity is scored up to day 90")
    assert not RtogScore.objects.exists()


def test_nimotuzumab_for_the_control_arm_or_before_randomisation_opens_queries(coordinator, site):
    Randomisation.objects.filter(subject=site.subjects[("ccrt", "A")]).update(arm="CCRT")
    r = api(coordinator, site, "drug", {"drug": "nimotuzumab", "date": "2026-01-05", "planned_dose_mg": 200.0,
                                        "dose_mg": 200.0}, study="ccrt")
    assert r.status_code == 201, r.content
    checks = set(DataQuery.objects.filter(record=f"drug:{r.json()['id']}").values_list("edit_check", flat=True))
    assert {"CCRT-NIMO-CONTROL-ARM", "CCRT-NIMO-BEFORE-RANDOMISATION"} <= checks


def _lab(term, value, unit, **kw):
    return {"week": 2, "sample_date": "2026-01-20", "term": term, "value": value, "unit": unit, **kw}


@pytest.mark.parametrize(("term", "value", "unit", "ref", "grade"), [
    ("blood_bilirubin_increased", 3, "mg/dL", {"uln": 20, "uln_unit": "umol/L"}, 2),
    ("creatinine_increased", 2.0, "mg/dL", {"uln": 110, "uln_unit": "umol/L"}, 2),
    ("anemia", 7.5, "g/dL", {"lln": 120, "lln_unit": "g/L"}, 3),
])
def test_lab_grading_converts_the_reference_units(coordinator, site, term, value, unit, ref, grade):
    save("radiotherapy", site, dict(RT))
    r = post_crf(coordinator, site, "lab", {k: str(v) for k, v in _lab(term, value, unit, **ref).items()})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert LabResult.objects.get().suggested_grade == grade
    LabResult.objects.all().delete()
    r = api(coordinator, site, "lab", _lab(term, value, unit, **ref))
    assert r.status_code == 201 and r.json()["suggested_grade"] == grade


def test_lab_values_implausible_in_their_unit_or_without_a_unit_are_refused(coordinator, site):
    save("radiotherapy", site, dict(RT))
    assert_both_refuse(coordinator, site, "lab", {k: str(v) for k, v in _lab("anemia", 7.5, "g/L", lln=120, lln_unit="g/L").items()},
                _lab("anemia", 7.5, "g/L", lln=120, lln_unit="g/L"), "value", "7.5 g/dL = 75 g/L")
    assert_both_refuse(coordinator, site, "lab", {k: str(v) for k, v in _lab("anemia", 95, "g/L", lln=120).items()},
                _lab("anemia", 95, "g/L", lln=120), "lln_unit", "lln_unit is required")
    assert_both_refuse(coordinator, site, "lab",
                {k: str(v) for k, v in _lab("blood_bilirubin_increased", 3, "mg/dL", uln=20, uln_unit="mg/dL").items()},
                _lab("blood_bilirubin_increased", 3, "mg/dL", uln=20, uln_unit="mg/dL"), "uln",
                "not a plausible upper limit of normal")
    assert_both_refuse(coordinator, site, "lab", {k: str(v) for k, v in _lab("anemia", 95, "g/L", lln=120, lln_unit="g/L",
                                                                    week=9).items()},
                _lab("anemia", 95, "g/L", lln=120, lln_unit="g/L", week=9), "week", "not a treatment week")


def test_lab_grade_the_term_does_not_define_is_refused(coordinator, site):
    save("radiotherapy", site, dict(RT))
    values = _lab("hyponatremia", 131, "mmol/L", lln=135, lln_unit="mmol/L", grade=2, override_reason="symptomatic")
    assert_both_refuse(coordinator, site, "lab", {k: str(v) for k, v in values.items()}, values, "grade",
                "allowed grades: 1, 3, 4, 5")


def test_same_analyte_twice_on_one_date_and_unusual_values_open_queries(coordinator, site):
    save("radiotherapy", site, dict(RT))
    first = api(coordinator, site, "lab", _lab("anemia", 95, "g/L", lln=120, lln_unit="g/L"))
    second = api(coordinator, site, "lab", _lab("anemia", 45, "g/L", lln=120, lln_unit="g/L"))
    assert first.status_code == 201 and second.status_code == 201
    checks = set(DataQuery.objects.filter(record=f"lab:{second.json()['id']}").values_list("edit_check", flat=True))
    assert checks == {"LAB-DUPLICATE", "LAB-UNUSUAL-VALUE"}
    assert not DataQuery.objects.filter(record=f"lab:{first.json()['id']}").exists()


def test_correcting_the_data_closes_the_automatic_query(coordinator, site):
    save("radiotherapy", site, dict(RT))
    r = api(coordinator, site, "followup", {"visit_date": "2026-01-03", "status": "alive_ned"})
    q = DataQuery.objects.get(edit_check="FOLLOWUP-BEFORE-ENROLMENT")
    s = site.subjects[("imrt", "A")]
    fix = coordinator.patch(f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/crf/followup/{r.json()['id']}",
                            {"values": {"visit_date": "2026-04-03"}, "version": r.json()["version"],
                             "reason": "typo in the year"}, content_type="application/json")
    assert fix.status_code == 200
    q.refresh_from_db()
    assert q.status == "closed" and FollowUpVisit.objects.get().visit_date == date(2026, 4, 3)


def test_a_confirmed_and_closed_query_is_not_raised_again(site):
    from npctrial.web.clinical.checks import sync_queries
    from npctrial.web.core.queries import close_query

    save("radiotherapy", site, dict(RT))
    lab = save("lab", site, {**_lab("anemia", 45, "g/L", lln=120, lln_unit="g/L"), "sample_date": date(2026, 1, 20)})
    q = DataQuery.objects.get(edit_check="LAB-UNUSUAL-VALUE")
    close_query(q, user=site.users["data_manager"], note="confirmed with the laboratory")
    from npctrial.web.clinical.checks import evaluate_record

    subject = site.subjects[("imrt", "A")]
    assert sync_queries(subject, "lab", lab, evaluate_record("lab", lab, subject)) == []
    assert DataQuery.objects.filter(edit_check="LAB-UNUSUAL-VALUE").count() == 1


# ---------------------------------------------------------------- doses (seed 000 S-1 bands, no modification rule)

def _baseline(world, bsa):
    save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 150.0, "weight_kg": bsa * bsa * 24,
                             "t_category": "T3", "n_category": "N1", "m_category": "M0", "ecog": 1})


def _drug(dose, planned=40.0, **kw):
    return {"drug": "S-1", "date": "2026-01-12", "planned_dose_mg": planned, "dose_mg": dose, **kw}


def test_a_dose_other_than_the_band_dose_needs_a_reason(coordinator, site):
    from npctrial.web.clinical.models import DrugAdministration

    save("radiotherapy", site, dict(RT))
    _baseline(site, 1.50)  # 40 mg band (1.5 included in "1.25-1.5m2")
    assert_both_refuse(coordinator, site, "drug", {k: str(v) for k, v in _drug(50.0, planned=50.0).items()},
                _drug(50.0, planned=50.0), "deviation_reason", "differs from the protocol dose 40 mg")
    r = api(coordinator, site, "drug", _drug(50.0, planned=50.0, deviation_reason="refusal"))
    assert r.status_code == 201 and r.json()["deviation"] is True and r.json()["protocol_dose_mg"] == 40.0
    r = post_crf(coordinator, site, "drug", {k: str(v) for k, v in _drug(40.0, planned=50.0).items()})
    assert r.status_code == 302  # the band dose given: no deviation, whatever was planned
    assert list(DrugAdministration.objects.order_by("pk").values_list("deviation", flat=True)) == [True, False]


def test_bsa_1_60_gets_the_50_mg_band(coordinator, site):
    save("radiotherapy", site, dict(RT))
    _baseline(site, 1.60)
    assert api(coordinator, site, "drug", _drug(50.0)).json()["deviation"] is False
    assert_both_refuse(coordinator, site, "drug", {k: str(v) for k, v in _drug(40.0).items()}, _drug(40.0),
                "deviation_reason", "protocol dose 50 mg")


def test_the_rules_page_and_api_list_every_declared_check(site):
    from django.urls import reverse

    from npctrial.domain import load_protocol
    from npctrial.domain.edit_checks import edit_checks_for

    client = login(Client(), "monitor")
    declared = edit_checks_for(load_protocol("ccrt-nimotuzumab"))
    study = site.studies["ccrt"]
    html = client.get(reverse("study-documentation", kwargs={"study_pk": study.pk})).content.decode()
    for check in declared:
        assert f'data-check="{check.id}"' in html
    assert f'id="check-count">{len(declared)}<' in html and "Mosteller" in html and "24" in html
    data = client.get(f"/api/v1/studies/{study.pk}/edit-checks").json()
    assert [c["id"] for c in data["checks"]] == [c.id for c in declared]
    assert {c["origin"] for c in data["checks"] if c["id"].startswith("CCRT-")} == {"protocol"}


def test_the_live_lab_grade_escapes_what_was_typed(coordinator, site):
    s = site.subjects[("imrt", "A")]
    from django.urls import reverse

    r = coordinator.post(reverse("lab-grade", kwargs={"study_pk": s.study_id, "pk": s.pk}),
                         {"term": "<script>alert(1)</script>", "value": "3", "unit": "g/L"})
    assert r.status_code == 200
    body = r.content.decode()
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_an_automatic_query_reads_in_the_coordinators_language_and_is_stored_in_english(coordinator, site):
    rt = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in RT.items()}
    r = api(coordinator, site, "radiotherapy", {**rt, "start_date": "2026-01-02"})
    assert r.status_code == 201
    query = DataQuery.objects.get(record=f"radiotherapy:{r.json()['id']}", edit_check="RT-BEFORE-CONSENT")
    english = "radiotherapy started on 2026-01-02, before consent on 2026-01-05: please confirm [RT-BEFORE-CONSENT]"
    assert query.text == english  # the audit trail and exports keep the English
    zh = coordinator.get(f"/studies/{query.study_id}/queries/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "放疗于 2026-01-02 开始，早于 2026-01-05 签署知情同意：请核实 [RT-BEFORE-CONSENT]" in zh
    en = coordinator.get(f"/studies/{query.study_id}/queries/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert english in en


def test_a_hard_check_refuses_in_chinese_on_the_page(coordinator, site):
    future = (TODAY + timedelta(days=3)).isoformat()
    coordinator.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    body = page_error(post_crf(coordinator, site, "followup", {"visit_date": future, "status": "alive_ned"}))
    assert f"随访日期 {future} 晚于今天（{TODAY.isoformat()}）：请在随访完成后再录入 [FUT-FOLLOWUP]" in body


def test_an_unusual_lab_value_query_reads_in_chinese(coordinator, site):
    save("radiotherapy", site, dict(RT))
    save("lab", site, {**_lab("anemia", 45, "g/L", lln=120, lln_unit="g/L"), "sample_date": date(2026, 1, 20)})
    q = DataQuery.objects.get(edit_check="LAB-UNUSUAL-VALUE")
    assert q.text.startswith("Haemoglobin 45 g/L (45 g/L) is outside the usual range 50-200 g/L: please confirm")
    zh = coordinator.get(f"/studies/{q.study_id}/queries/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Haemoglobin 45 g/L（45 g/L）超出常见范围 50–200 g/L：请对照原始资料核实数值和单位 [LAB-UNUSUAL-VALUE]" in zh
