"""Nothing silently dropped: the follow-up calendar after death or withdrawal, the report and the
analysis exports listing every subject they leave out (and why), the data-quality page, and the
CRF API answering 422 naming the field for the inputs that used to give HTTP 500.

Cases from issue 12 (each through the page and through the API where both exist).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from npctrial.web.clinical.calendar import calendar_for, overdue_list
from npctrial.web.clinical.crfs import CRFS
from npctrial.web.clinical.models import ClinicalEvent, Lesion, TumourAssessment
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import DataQuery, Subject
from tests.web.clinical.conftest import RT, post_crf, save, url
from tests.web.conftest import login

API = "/api/v1/studies/{study}/subjects/{subject}/crf/{form}"


def _api(client, world, form, body, study="imrt", site="A"):
    s = world.subjects[(study, site)]
    return client.post(API.format(study=s.study_id, subject=s.pk, form=form), body, content_type="application/json")


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- follow-up calendar


def test_visits_after_death_are_no_longer_expected(world):
    s = world.subjects[("imrt", "A")]
    save("radiotherapy", world, dict(RT))  # ends 2026-02-27
    save("event", world, {"kind": "death", "event_date": date(2026, 7, 1), "cause": "stroke"})
    rows = calendar_for(s, date(2031, 1, 1))
    by_label = {r.visit.label: r.status for r in rows}
    assert by_label["M3"] == "overdue"  # window closed 2026-06-12, before the death: missed
    assert {by_label[k] for k in ("M6", "M12", "M60", "M120")} == {"stopped"}
    assert [r.visit.label for r in overdue_list([s], date(2031, 1, 1))] == ["M3"]
    page = login(Client(), "coordinator").get(url("casebook", world)).content.decode()
    assert page.count('class="cal-stopped"') == len(rows) - 1


def test_withdrawal_through_page_and_api_stops_the_calendar_and_queries_later_visits(world):
    coordinator = login(Client(), "coordinator")
    save("radiotherapy", world, dict(RT))
    assert post_crf(coordinator, world, "event", {"kind": "withdrawal", "event_date": "2026-05-01"}).status_code == 302
    rows = calendar_for(world.subjects[("imrt", "A")], date(2026, 12, 1))
    assert {r.status for r in rows if r.visit.window_end >= date(2026, 5, 1)} == {"stopped"}
    # a second withdrawal is refused (hard) through the API, naming the field
    r = _api(coordinator, world, "event", {"values": {"kind": "withdrawal", "event_date": "2026-06-01"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert ClinicalEvent.objects.filter(kind="withdrawal").count() == 1
    # a visit after the withdrawal is stored, with an automatic query
    r = _api(coordinator, world, "followup", {"values": {"visit_date": "2026-08-01", "status": "alive_ned"}})
    assert r.status_code == 201, r.content
    q = DataQuery.objects.get(edit_check="VISIT-AFTER-WITHDRAWAL")
    assert q.record == f"followup:{r.json()['id']}" and q.status == "open"


def test_the_calendar_continues_annually_after_month_60(world):
    save("radiotherapy", world, dict(RT))
    labels = [r.visit.label for r in calendar_for(world.subjects[("imrt", "A")], date(2026, 3, 1))]
    assert labels[-6:] == ["M60", "M72", "M84", "M96", "M108", "M120"]


# ---------------------------------------------------------------- report and exports


def _same_day_assessments(world):
    """Two RECIST assessments of one subject on one date, written as a legacy import would (no form)."""
    s = world.subjects[("imrt", "A")]
    save("assessment", world, {"assessment_date": date(2026, 1, 4), "new_lesions": "no"},
         lesions=[{"lesion_id": "L1", "location": "nasopharynx", "target": True, "nodal": False, "diameter_mm": 40}])
    for response in ("PR", "SD"):
        a = TumourAssessment.objects.create(subject=s, protocol_version=s.protocol_version,
                                            created_by=world.users["coordinator"],
                                            assessment_date=date(2026, 3, 30), new_lesions="no",
                                            overall_response=response)
        Lesion.objects.create(assessment=a, lesion_id="L1", location="nasopharynx", target=True, diameter_mm=25)
    return s


def test_two_assessments_on_one_date_do_not_take_the_report_down(world):
    s = _same_day_assessments(world)
    client = login(Client(), "data_manager")
    page = client.get(url("study-report", world))
    assert page.status_code == 200
    assert f'data-endpoint="BOR" data-subject="{s.subject_id}"' in page.content.decode()
    assert client.get(url("study-report-pdf", world)).status_code == 200
    api = client.get(f"/api/v1/studies/{s.study_id}/report")
    assert api.status_code == 200
    bor = [n for n in api.json()["not_evaluable"] if n["endpoint"] == "BOR" and n["subject"] == s.subject_id]
    assert len(bor) == 1 and "2026-03-30" in bor[0]["reason"]
    casebook = client.get(url("casebook", world))
    assert casebook.status_code == 200 and 'id="bor-note"' in casebook.content.decode()


def test_a_subject_never_randomised_has_no_arm_and_is_listed(world):
    ccrt = world.studies["ccrt"]
    unrandomised = enrol(world.screenings[("ccrt", "A")], consent_date=date(2026, 1, 5), consent_version="1.0",
                         user=world.users["coordinator"])
    client = login(Client(), "statistician")  # sees the arms (a blinded data manager sees "concealed")
    report = client.get(f"/api/v1/studies/{ccrt.pk}/report").json()
    arm = [n for n in report["not_evaluable"] if n["endpoint"] == "arm"]
    assert [n["subject"] for n in arm] == [unrandomised.subject_id]
    assert "never randomised" in arm[0]["reason"]
    adsl = {r["usubjid"]: r for r in _csv(client.get(url("export-file", world, "ccrt", name="adsl", fmt="csv")))}
    assert adsl[unrandomised.subject_id]["arm"] == "Not Assigned"
    assert adsl[unrandomised.subject_id]["randfl"] == "N"
    assert {r["arm"] for k, r in adsl.items() if k != unrandomised.subject_id} <= {"CCRT", "CCRT+NIMO"}
    adtte = [r for r in _csv(client.get(url("export-file", world, "ccrt", name="adtte", fmt="csv")))
             if r["usubjid"] == unrandomised.subject_id]
    assert {r["evalfl"] for r in adtte} == {"N"} and all("never randomised" in r["evalrsn"] for r in adtte)


def test_adtte_and_adsl_keep_a_not_evaluable_subject_with_the_reason(world):
    s = world.subjects[("imrt", "A")]
    save("radiotherapy", world, dict(RT))
    # a progression dated before enrolment (legacy import): PFS cannot be derived
    ClinicalEvent.objects.create(subject=s, protocol_version=s.protocol_version, created_by=world.users["coordinator"],
                                 kind="locoregional_relapse", event_date=s.enrolment_date - timedelta(days=30))
    client = login(Client(), "data_manager")
    adtte = [r for r in _csv(client.get(url("export-file", world, name="adtte", fmt="csv")))
             if r["usubjid"] == s.subject_id]
    pfs = next(r for r in adtte if r["paramcd"] == "PFS")
    assert pfs["evalfl"] == "N" and pfs["aval"] == "" and pfs["evalrsn"]
    adsl = next(r for r in _csv(client.get(url("export-file", world, name="adsl", fmt="csv")))
                if r["usubjid"] == s.subject_id)
    assert adsl["pfs_months"] == "" and adsl["pfs_evalrsn"] == pfs["evalrsn"]
    report = client.get(f"/api/v1/studies/{s.study_id}/report").json()
    assert {"endpoint": "PFS", "subject": s.subject_id, "site": "GZ", "reason": pfs["evalrsn"]} in \
        report["not_evaluable"]


def test_adae_counts_lab_derived_grades_as_the_report_does(world):
    save("radiotherapy", world, dict(RT))
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable",
                       "start_date": date(2026, 1, 26)})
    save("lab", world, {"week": 2, "sample_date": date(2026, 1, 20), "term": "anemia", "value": 75, "unit": "g/L",
                        "lln": 120, "lln_unit": "g/L", "grade": None})  # Hb < 80 g/L: grade 3
    client = login(Client(), "data_manager")
    adae = _csv(client.get(url("export-file", world, name="adae", fmt="csv")))
    assert sorted((r["aeterm"], r["aetoxgr"], r["aesrc"]) for r in adae) == [
        ("anemia", "3", "LAB"), ("mucositis_oral", "3", "AE")]
    report = client.get(f"/api/v1/studies/{world.studies['imrt'].pk}/report").json()
    terms = {t["term"]: t for t in report["ae_terms"]}
    assert set(terms) == {r["aeterm"] for r in adae}
    assert terms["anemia"]["g3"] == 1 and terms["mucositis_oral"]["g3"] == 1


# ---------------------------------------------------------------- data quality page


def test_the_messy_site_is_listed_on_the_data_quality_page_with_its_queries(world):
    from npctrial.web.clinical.demo_messy import SITE, load_messy_site
    from tests.web.conftest import IMRT_ELIGIBLE

    study = world.studies["imrt"]
    messy = load_messy_site(study, "pw-messy-9", IMRT_ELIGIBLE)
    client = login(Client(), "data_manager")
    q = client.get(f"/api/v1/studies/{study.pk}/data-quality").json()
    site = q["sites"][SITE[0]]
    fired = {f["check"] for f in site["findings"]}
    assert {"DEATH-BEFORE-CONSENT", "DEATH-BEFORE-ALIVE", "FORM-RULES", "RT-BEFORE-CONSENT"} <= fired
    assert all(f["query_open"] for f in site["findings"])  # the loader opened a query for each
    assert {n["subject"] for n in site["not_evaluable"] if n["endpoint"] == "BOR"} >= {messy[1].subject_id}
    page = client.get(reverse("data-quality", kwargs={"study_pk": study.pk}))
    assert page.status_code == 200 and f'data-site="{SITE[0]}"' in page.content.decode()
    # a coordinator of site A sees only site A
    mine = login(Client(), "coordinator").get(f"/api/v1/studies/{study.pk}/data-quality").json()
    assert SITE[0] not in mine["sites"]


# ---------------------------------------------------------------- CRF API: 422 naming the field, never 500


def test_a_number_in_a_date_field_is_a_422_naming_it(world):
    client = login(Client(), "coordinator")
    r = _api(client, world, "followup", {"values": {"visit_date": 20260601, "status": "alive_ned"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visit_date"


@pytest.mark.parametrize("form", sorted(CRFS))
def test_a_missing_required_field_is_a_422_naming_it(world, form):
    from npctrial.web.clinical.crfs import form_class

    required = [n for n, f in form_class(form).base_fields.items() if f.required]
    assert required, form
    client = login(Client(), "coordinator")
    r = _api(client, world, form, {"values": {}})
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] in required


def test_a_non_numeric_lesion_diameter_is_a_422_naming_the_row(world):
    client = login(Client(), "coordinator")
    lesions = [{"lesion_id": "L1", "location": "nasopharynx", "target": True, "diameter_mm": 30},
               {"lesion_id": "N1", "location": "node", "target": True, "diameter_mm": "big"}]
    r = _api(client, world, "assessment", {"values": {"assessment_date": "2026-01-04", "new_lesions": "no"},
                                           "lesions": lesions})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lesions[1].diameter_mm"
    assert not TumourAssessment.objects.exists()
    assert Subject.objects.filter(pk=world.subjects[("imrt", "A")].pk).exists()


def test_a_page_edit_with_a_version_that_is_not_a_number_is_a_form_error(world):
    """Found by the fuzz test: the hidden version field was parsed with int() (HTTP 500)."""
    record = save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned"})
    client = login(Client(), "coordinator")
    r = post_crf(client, world, "followup", {"visit_date": "2026-06-02", "status": "alive_ned", "version": "x",
                                            "reason": "typo"}, record_pk=record.pk)
    assert r.status_code == 200 and "version must be a whole number" in r.content.decode()
    record.refresh_from_db()
    assert record.visit_date == date(2026, 6, 1)
