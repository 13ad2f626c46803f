"""Sign-off by password re-entry, subject and study lock (edits refused), and the clinical API."""

from __future__ import annotations

from datetime import date

from django.test import Client

from npctrial.web.clinical.models import CasebookSignature, FollowUpVisit, LabResult
from tests.web.clinical.conftest import RT, post_crf, save, url
from tests.web.conftest import PASSWORD, login

VISIT = {"visit_date": "2026-06-01", "status": "alive_ned", "disease_assessed": "on"}


def test_signature_needs_the_password_and_tracks_changes(world):
    save("radiotherapy", world, dict(RT))
    inv = login(Client(), "investigator")
    page = inv.post(url("casebook-sign", world), {"password": PASSWORD})  # unconfirmed: what the signature covers
    assert page.status_code == 200 and "covers the 1 records" in page.content.decode()
    assert not CasebookSignature.objects.exists()
    inv.post(url("casebook-sign", world), {"password": "not-my-password", "confirm": "yes"})
    assert not CasebookSignature.objects.exists()
    inv.post(url("casebook-sign", world), {"password": PASSWORD, "confirm": "yes"})
    assert CasebookSignature.objects.count() == 1
    assert 'id="signed"' in inv.get(url("casebook", world)).content.decode()
    save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned"})  # data changed after signing
    page = inv.get(url("casebook", world)).content.decode()
    assert 'id="signed"' not in page and "no longer covers" in page


def test_subject_lock_refuses_edits_until_unlocked_with_reason(world):
    dm, coord = login(Client(), "data_manager"), login(Client(), "coordinator")
    page = dm.get(url("subject-lock", world))  # what locking does, nothing locked yet
    assert "every edit is refused" in page.content.decode()
    assert post_crf(coord, world, "followup", {**VISIT, "visit_date": "2026-05-01"}).status_code == 302
    dm.post(url("subject-lock", world), {"confirm": "yes"})
    r = post_crf(coord, world, "followup", VISIT)
    assert r.status_code == 200 and "locked" in r.content.decode()
    api = coord.post(f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}"
                     "/crf/followup", {"values": {"visit_date": "2026-06-01", "status": "alive_ned"}},
                     content_type="application/json")
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "lock"
    assert FollowUpVisit.objects.count() == 1  # only the visit entered before the lock
    # the other site's subject is not locked
    b = login(Client(), "coordinator_b")
    assert post_crf(b, world, "followup", VISIT, site="B").status_code == 302
    dm.post(url("subject-lock", world), {"action": "unlock", "reason": ""})
    assert post_crf(coord, world, "followup", VISIT).status_code == 200  # still locked: no reason given
    dm.post(url("subject-lock", world), {"action": "unlock", "reason": "query resolved after freeze"})
    assert post_crf(coord, world, "followup", VISIT).status_code == 302


def test_study_lock_refuses_edits_everywhere(world):
    admin = login(Client(), "study_admin")
    admin.post(url("study-lock", world), {})  # unconfirmed: nothing locked
    assert post_crf(login(Client(), "coordinator"), world, "followup", VISIT).status_code == 302
    FollowUpVisit.objects.get().delete(reason="test: start without visits")
    admin.post(url("study-lock", world), {"confirm": "yes"})
    for user, site in (("coordinator", "A"), ("coordinator_b", "B")):
        r = post_crf(login(Client(), user), world, "followup", VISIT, site=site)
        assert r.status_code == 200
    assert not FollowUpVisit.objects.exists()
    assert 'id="study-locked"' in admin.get(url("clinical-home", world)).content.decode()


def _api(world, site="A"):
    return f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', site)].pk}"


def test_api_lab_with_suggested_grade_and_conflict(world):
    c = login(Client(), "coordinator")
    r = c.post(_api(world) + "/crf/lab", {"values": {"week": 1, "sample_date": "2026-01-13", "term": "platelets",
                                                     "value": 40, "unit": "10^9/L", "lln": 150}},
               content_type="application/json")
    assert r.status_code == 422  # 'platelets' is not a CTCAE term key of the form
    r = c.post(_api(world) + "/crf/lab", {"values": {"week": 1, "sample_date": "2026-01-13",
                                                     "term": "platelet_count_decreased", "value": 40,
                                                     "unit": "10^9/L", "lln": 150, "lln_unit": "10^9/L"}},
               content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["suggested_grade"] == 3 and body["grade"] == 3
    lab = LabResult.objects.get()
    patch = {"values": {"value": 60}, "version": lab.version, "reason": "re-measured"}
    r = c.patch(_api(world) + f"/crf/lab/{lab.pk}", patch, content_type="application/json")
    assert r.status_code == 200 and r.json()["suggested_grade"] == 2  # 60: grade 2 (<75,000 - 50,000/mm3)
    r = c.patch(_api(world) + f"/crf/lab/{lab.pk}", patch, content_type="application/json")  # stale version
    assert r.status_code == 409
    assert c.post(_api(world) + "/lab-grade", {"term": "anemia", "value": 75, "unit": "g/L", "lln": 120},
                  content_type="application/json").json()["suggested_grade"] == 3


def test_api_casebook_and_unknown_form(world):
    save("radiotherapy", world, dict(RT))
    c = login(Client(), "monitor")
    data = c.get(_api(world) + "/casebook").json()
    assert data["forms"]["radiotherapy"][0]["fractions"] == 33 and data["locked"] is False
    coord = login(Client(), "coordinator")
    assert coord.post(_api(world) + "/crf/nonsense", {"values": {}}, content_type="application/json").status_code == 404


def test_subject_page_links_casebook_and_openapi_lists_clinical_routes(world):
    c = login(Client(), "coordinator")
    subject = world.subjects[("imrt", "A")]
    page = c.get(f"/studies/{world.studies['imrt'].pk}/subjects/{subject.pk}/").content.decode()
    assert url("casebook", world) in page
    schema = c.get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    for p in ("/api/v1/studies/{study_id}/subjects/{subject_pk}/casebook",
              "/api/v1/studies/{study_id}/subjects/{subject_pk}/crf/{form}",
              "/api/v1/studies/{study_id}/report", "/api/v1/studies/{study_id}/exports/{name}.{fmt}"):
        assert p in paths, p
