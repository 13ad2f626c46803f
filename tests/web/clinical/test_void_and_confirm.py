"""Records entered in error are voided with a reason (never deleted): kept in the audit trail, left
out of the grid, report, analysis datasets and exports, listed in the voided-records listing.
Irreversible actions (randomise, lock, sign, void) show what will happen and act only when confirmed."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.test import Client
from django.urls import reverse

from npctrial.web.clinical.models import AdverseEvent, Baseline, TumourAssessment
from npctrial.web.clinical.views.grid import subject_grid
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import DataQuery, Randomisation
from npctrial.web.core.queries import raise_query
from npctrial.web.core.screening import create_screening
from tests.web.clinical.conftest import save, url
from tests.web.conftest import CCRT_ELIGIBLE, login

AE = {"week": 2, "term": "mucositis_oral", "grade": 3, "attribution": "probable", "start_date": date(2026, 1, 20)}
BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62, "t_category": "T3",
            "n_category": "N1", "m_category": "M0"}


def _void(client, world, form, record, reason="entered for the wrong patient", version=None, **kw):
    return client.post(url("crf-void", world, form=form, record_pk=record.pk, **kw),
                       {"confirm": "yes", "reason": reason, "version": record.version if version is None else version})


def test_the_void_page_says_what_will_happen_and_a_bare_post_voids_nothing(world, coordinator):
    ae = save("ae", world, AE)
    page = coordinator.get(url("crf-void", world, form="ae", record_pk=ae.pk))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="consequences"' in html
    assert "leaves the casebook grid, the study report, the analysis datasets and the form exports" in html
    assert 'name="reason"' in html and 'name="confirm" value="yes"' in html
    coordinator.post(url("crf-void", world, form="ae", record_pk=ae.pk), {"reason": "x", "version": ae.version})
    ae.refresh_from_db()
    assert ae.voided_at is None  # not confirmed
    r = _void(coordinator, world, "ae", ae, reason="  ")
    ae.refresh_from_db()
    assert ae.voided_at is None and "reason is required" in r.content.decode()


def test_a_voided_record_is_kept_audited_and_left_out_everywhere(world, coordinator):
    ae = save("ae", world, AE)
    kept = save("ae", world, {**AE, "term": "dermatitis_radiation", "grade": 1})
    subject = world.subjects[("imrt", "A")]
    query = raise_query(subject, record=f"ae:{ae.pk}", field_name="grade", text="grade 3?",
                        user=world.users["data_manager"])
    r = _void(coordinator, world, "ae", ae)
    assert r.status_code == 302
    row = AdverseEvent.all_objects.get(pk=ae.pk)  # still in the database
    assert row.voided_by.username == "coordinator" and row.void_reason == "entered for the wrong patient"
    last = row.history.order_by("-history_id").first()
    assert last.history_change_reason == "voided (entered in error): entered for the wrong patient"
    assert last.grade == 3 and last.term == "mucositis_oral"  # every value kept in the trail
    query.refresh_from_db()
    assert query.status == "closed"
    assert list(AdverseEvent.objects.all()) == [kept]  # the default manager: live records only
    casebook = coordinator.get(url("casebook", world)).content.decode()
    assert f'data-record="{ae.pk}"' not in casebook.split('id="crf-ae"')[1].split("</section>")[0]
    assert not any(ae.pk == r.pk for row_ in subject_grid(subject).rows for c in row_.cells for r in c.records
                   if c.form == "ae")
    assert coordinator.get(url("crf-edit", world, form="ae", record_pk=ae.pk)).status_code == 404
    view = coordinator.get(url("crf-view", world, form="ae", record_pk=ae.pk)).content.decode()
    assert 'id="voided-badge"' in view and 'id="edit-record"' not in view and 'id="void-record"' not in view
    stat = login(Client(), "statistician")
    adae = stat.get(url("export-file", world, name="adae", fmt="csv"))
    terms = [row["aeterm"] for row in csv.DictReader(io.StringIO(b"".join(adae.streaming_content).decode()))]
    assert terms == ["dermatitis_radiation"]
    form_csv = b"".join(stat.get(url("export-file", world, name="ae", fmt="csv")).streaming_content).decode()
    assert "mucositis_oral" not in form_csv and "dermatitis_radiation" in form_csv
    assert "Left out of every file below" in stat.get(url("export-index", world)).content.decode()
    report = coordinator.get(url("study-report", world)).content.decode()
    assert "Left out: 1 records voided as entered in error (ae 1)" in report


def test_the_voided_records_listing_and_its_csv(world, coordinator):
    ae = save("ae", world, AE)
    _void(coordinator, world, "ae", ae)
    b = save("ae", world, AE, site="B")
    _void(login(Client(), "coordinator_b"), world, "ae", b, reason="duplicate entry", site="B")
    listing = reverse("voided-records", kwargs={"study_pk": world.studies["imrt"].pk})
    html = coordinator.get(listing).content.decode()
    assert f'data-record="ae:{ae.pk}"' in html and "entered for the wrong patient" in html
    assert "duplicate entry" not in html  # the other site's record stays invisible
    rows = list(csv.DictReader(io.StringIO(login(Client(), "data_manager").get(listing + "?format=csv")
                                           .content.decode())))
    assert {(r["site"], r["form"], r["reason"], r["voided_by"]) for r in rows} == {
        ("GZ", "ae", "entered for the wrong patient", "coordinator"), ("HK", "ae", "duplicate entry", "coordinator_b")}


def test_a_voided_baseline_can_be_entered_again(world, coordinator):
    first = save("baseline", world, BASELINE)
    _void(coordinator, world, "baseline", first, reason="another patient's baseline")
    second = save("baseline", world, {**BASELINE, "weight_kg": 70})
    assert Baseline.objects.get() == second and Baseline.all_objects.count() == 2


def test_voiding_needs_the_version_read_an_unlocked_subject_and_the_right(world, coordinator):
    ae = save("ae", world, AE)
    _void(coordinator, world, "ae", ae, version=ae.version + 1)
    ae.refresh_from_db()
    assert ae.voided_at is None  # a stale version: nothing voided
    monitor = login(Client(), "monitor")
    assert _void(monitor, world, "ae", ae).status_code == 403
    from npctrial.web.clinical import locks

    locks.lock(world.studies["imrt"], world.users["data_manager"], world.subjects[("imrt", "A")])
    page = coordinator.get(url("crf-void", world, form="ae", record_pk=ae.pk)).content.decode()
    assert 'id="confirm-problems"' in page and 'id="confirm-form"' not in page
    _void(coordinator, world, "ae", ae)
    ae.refresh_from_db()
    assert ae.voided_at is None


def test_voiding_a_tumour_assessment_recomputes_recist(world, coordinator):
    lesion = {"lesion_id": "T1", "location": "nasopharynx", "target": True, "nodal": False}
    wrong = save("assessment", world, {"assessment_date": date(2026, 1, 2), "new_lesions": "no"},
                 lesions=[{**lesion, "diameter_mm": 100}])
    save("assessment", world, {"assessment_date": date(2026, 1, 4), "new_lesions": "no"},
         lesions=[{**lesion, "diameter_mm": 50}])
    later = save("assessment", world, {"assessment_date": date(2026, 4, 1), "new_lesions": "no"},
                 lesions=[{**lesion, "diameter_mm": 30}])
    later.refresh_from_db()
    assert later.overall_response == "PR"  # 30 vs 100: -70 %
    _void(coordinator, world, "assessment", wrong, reason="scan of another patient")
    later.refresh_from_db()
    assert later.change_from_baseline_pct == -40.0 and later.overall_response == "PR"  # now 30 vs 50
    assert TumourAssessment.objects.count() == 2


def test_api_voids_and_lists_voided_records(world):
    ae = save("ae", world, AE)
    api = f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}"
    c = login(Client(), "coordinator")
    r = c.post(f"{api}/crf/ae/{ae.pk}/void", {"version": ae.version, "reason": ""}, content_type="application/json")
    assert r.status_code == 422
    r = c.post(f"{api}/crf/ae/{ae.pk}/void", {"version": ae.version, "reason": "wrong patient"},
               content_type="application/json")
    assert r.status_code == 200 and r.json()["void_reason"] == "wrong patient"
    body = c.get(f"{api}/casebook").json()
    assert body["forms"]["ae"] == [] and [v["id"] for v in body["voided"]] == [ae.pk]
    again = c.post(f"{api}/crf/ae/{ae.pk}/void", {"version": ae.version + 1, "reason": "x"},
                   content_type="application/json")
    assert again.status_code == 422 and "already voided" in again.content.decode()


def test_randomise_confirmation_states_arms_strata_and_finality(world):
    study = world.studies["ccrt"]
    record = create_screening(study, world.sites["A"], {**CCRT_ELIGIBLE, "induction_response": "SD"},
                              world.users["coordinator"])
    subject = enrol(record, consent_date=date(2026, 1, 1), consent_version="1.0", user=None)
    c = login(Client(), "coordinator")
    route = reverse("subject-randomise", kwargs={"study_pk": study.pk, "pk": subject.pk})
    html = c.get(route).content.decode()
    assert "CCRT+NIMO (Concurrent chemoradiotherapy with nimotuzumab)" in html and "ratio 1:1" in html
    assert "induction_response = SD" in html and "cannot be undone or repeated" in html
    assert not Randomisation.objects.filter(subject=subject).exists()
    done = world.subjects[("ccrt", "A")]
    html = c.get(reverse("subject-randomise", kwargs={"study_pk": study.pk, "pk": done.pk})).content.decode()
    assert "already randomised" in html and 'id="confirm-form"' not in html
    single = world.subjects[("imrt", "A")]
    html = c.get(reverse("subject-randomise", kwargs={"study_pk": world.studies["imrt"].pk, "pk": single.pk}))
    assert "single-arm study" in html.content.decode()


def test_lock_and_sign_confirmations_state_what_they_cover(world):
    save("ae", world, AE)
    raise_query(world.subjects[("imrt", "A")], record="screening", field_name="hb", text="?",
                user=world.users["data_manager"])
    html = login(Client(), "data_manager").get(url("subject-lock", world)).content.decode()
    assert "every edit is refused" in html and "2 data queries are still open" in html
    assert "not signed" in html and "Unlocking needs" in html
    html = login(Client(), "study_admin").get(url("study-lock", world)).content.decode()
    assert "of the 2 subjects of study imrt-s1" in html
    html = login(Client(), "investigator").get(url("casebook-sign", world)).content.decode()
    assert "covers the 1 records" in html and 'type="password"' in html
    assert DataQuery.objects.filter(status="open").count() >= 2
