"""Study status (development/UAT vs production), wiping test records, randomisation corrections and
automatic randomisation at enrolment."""

from __future__ import annotations

from datetime import date

import yaml
from django.test import Client

from npctrial.web.clinical.models import Baseline
from npctrial.web.core.allocation import randomise, verify_sequence
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import (
    AllocationSequence,
    DataQuery,
    Membership,
    ProtocolVersion,
    Randomisation,
    RandomisationCorrection,
    ScreeningRecord,
    StudySite,
    Subject,
)
from npctrial.web.core.models_audit import AuditEvent
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.screening import create_screening
from npctrial.web.core.studies import create_study
from tests.web.clinical.conftest import save
from tests.web.conftest import CCRT_ELIGIBLE, login

BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60, "t_category": "T3",
            "n_category": "N1", "m_category": "M0"}


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def _sequence(study):
    return AllocationSequence.objects.get(study=study)


def test_a_new_study_is_in_development_and_every_study_page_says_so(world):
    ccrt = world.studies["ccrt"]
    assert ccrt.status == "development"
    c = login(Client(), "coordinator")
    subject = world.subjects[("ccrt", "A")]
    for url in (f"/studies/{ccrt.pk}/", f"/studies/{ccrt.pk}/screening/", f"/studies/{ccrt.pk}/subjects/{subject.pk}/",
                f"/studies/{ccrt.pk}/clinical/subjects/{subject.pk}/", f"/studies/{ccrt.pk}/queries/"):
        assert 'id="uat-banner"' in c.get(url).content.decode(), url
    ccrt.status = "production"
    ccrt.save(reason="test")
    assert 'id="uat-banner"' not in c.get(f"/studies/{ccrt.pk}/").content.decode()
    assert login(Client(), "statistician").get(f"/api/v1/studies/{ccrt.pk}").json()["status"] == "production"


def test_wiping_deletes_every_test_record_keeps_their_history_and_restarts_randomisation(world):
    ccrt = world.studies["ccrt"]
    save("baseline", world, dict(BASELINE), study="ccrt")
    seed_before = _sequence(ccrt).seed
    subjects = list(Subject.objects.filter(study=ccrt))
    admin = login(Client(), "study_admin")
    wrong = _post(admin, f"/api/v1/studies/{ccrt.pk}/wipe", {"confirm": "ccrt", "reason": "UAT round 1 done"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "confirm"
    coordinator = login(Client(), "coordinator")
    assert _post(coordinator, f"/api/v1/studies/{ccrt.pk}/wipe", {"confirm": "ccrt-nimo", "reason": "x"}
                 ).status_code == 403
    done = _post(admin, f"/api/v1/studies/{ccrt.pk}/wipe", {"confirm": "ccrt-nimo", "reason": "UAT round 1 done"})
    assert done.status_code == 200, done.content
    deleted = done.json()["deleted"]
    assert deleted["screeningrecord"] == 4 and deleted["subject"] == 2 and deleted["randomisation"] == 2
    assert deleted["baseline"] == 1 and deleted["dataquery"] == 2 and deleted["consent"] == 2
    assert not ScreeningRecord.objects.filter(study=ccrt).exists() and not Subject.objects.filter(study=ccrt).exists()
    assert not Baseline.objects.filter(subject__study=ccrt).exists()
    assert not DataQuery.objects.filter(study=ccrt).exists()
    # the audit trail of the test records is kept, with the reason
    gone = Subject.history.filter(id__in=[s.pk for s in subjects], history_type="-")
    assert gone.count() == 2 and all("UAT round 1 done" in h.history_change_reason for h in gone)
    # the configuration stays
    assert StudySite.objects.filter(study=ccrt).count() == 2 and Membership.objects.filter(study=ccrt).exists()
    assert ProtocolVersion.objects.filter(study=ccrt).count() == 1
    # the imrt study is untouched
    assert Subject.objects.filter(study=world.studies["imrt"]).count() == 2
    sequence = _sequence(ccrt)
    assert sequence.count == 0 and sequence.seed != seed_before and verify_sequence(sequence).intact
    record = create_screening(ccrt, world.sites["A"], CCRT_ELIGIBLE, world.users["coordinator"])
    subject = enrol(record, consent_date=date(2026, 1, 5), consent_version="1.0", user=world.users["coordinator"])
    assert randomise(subject, world.users["coordinator"]).number == 1
    event = AuditEvent.objects.get(study=ccrt, action="test_data_wiped")
    assert event.reason == "UAT round 1 done" and event.details["deleted"]["subject"] == 2


def test_moving_to_production_wipes_test_records_and_nothing_can_be_wiped_after(world):
    imrt = world.studies["imrt"]
    admin = login(Client(), "study_admin")
    before = admin.get(f"/studies/{imrt.pk}/export/screening.csv")
    assert "-uat-" in before["Content-Disposition"]
    page = admin.post(f"/studies/{imrt.pk}/admin/status/", {"action": "production", "confirm": "imrt-s1",
                                                            "reason": "UAT signed off 2026-02-01"})
    assert page.status_code == 302
    imrt.refresh_from_db()
    assert imrt.status == "production" and imrt.production_since is not None
    assert not ScreeningRecord.objects.filter(study=imrt).exists()
    assert 'id="uat-banner"' not in admin.get(f"/studies/{imrt.pk}/").content.decode()
    assert "-uat-" not in admin.get(f"/studies/{imrt.pk}/export/screening.csv")["Content-Disposition"]
    refused = _post(admin, f"/api/v1/studies/{imrt.pk}/wipe", {"confirm": "imrt-s1", "reason": "oops"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    again = _post(admin, f"/api/v1/studies/{imrt.pk}/status", {"status": "production", "confirm": "imrt-s1",
                                                               "reason": "x"})
    assert again.status_code == 422
    event = AuditEvent.objects.get(study=imrt, action="study_status")
    assert event.username == "study_admin" and event.reason == "UAT signed off 2026-02-01"


def test_a_mis_randomisation_is_recorded_and_the_allocation_stays(world):
    ccrt = world.studies["ccrt"]
    subject = world.subjects[("ccrt", "A")]
    allocation = Randomisation.objects.get(subject=subject)
    assert allocation.strata == {"induction_response": "PR"}
    url = f"/api/v1/studies/{ccrt.pk}/subjects/{subject.pk}/randomisation/corrections"
    dm = login(Client(), "data_manager")
    for body, field in (({"kind": "wrong_stratum", "reason": "x", "correct_strata": {"induction_response": "PR"}},
                         "correct_strata"),
                        ({"kind": "wrong_stratum", "reason": "x", "correct_strata": {"induction_response": "XX"}},
                         "correct_strata"),
                        ({"kind": "wrong_stratum", "reason": "x"}, "correct_strata"),
                        ({"kind": "randomised_in_error", "reason": "x", "correct_strata": {"induction_response":
                                                                                          "SD"}}, "correct_strata"),
                        ({"kind": "mistake", "reason": "x"}, "kind"),
                        ({"kind": "other", "reason": " "}, "reason")):
        response = _post(dm, url, body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, (body, response.json())
    ok = _post(dm, url, {"kind": "wrong_stratum", "reason": "response was SD on central review",
                         "correct_strata": {"induction_response": "SD"}})
    assert ok.status_code == 201 and ok.json()["allocation_number"] == allocation.number
    assert _post(dm, url, {"kind": "wrong_stratum", "reason": "again", "correct_strata": {"induction_response": "CR"}}
                 ).status_code == 422  # recorded once
    stat = login(Client(), "statistician")
    assert _post(stat, url, {"kind": "randomised_in_error", "reason": "consent withdrawn before"}).status_code == 201
    assert _post(login(Client(), "coordinator"), url, {"kind": "other", "reason": "x"}).status_code == 403
    after = Randomisation.objects.get(subject=subject)
    assert (after.arm, after.number, after.strata, after.version) == (allocation.arm, allocation.number,
                                                                      allocation.strata, allocation.version)
    assert verify_sequence(_sequence(ccrt)).intact
    assert [c["kind"] for c in dm.get(url).json()] == ["wrong_stratum", "randomised_in_error"]
    page = dm.get(f"/studies/{ccrt.pk}/subjects/{subject.pk}/").content.decode()
    assert 'id="corrections"' in page and 'data-kind="wrong_stratum"' in page
    assert AuditEvent.objects.filter(action="randomisation_correction", subject=subject).count() == 2
    assert RandomisationCorrection.objects.count() == 2
    form = dm.post(f"/studies/{ccrt.pk}/subjects/{subject.pk}/randomisation/correct/",
                   {"kind": "other", "reason": "allocated by the wrong site account"})
    assert form.status_code == 302 and RandomisationCorrection.objects.count() == 3


def _auto_protocol() -> str:
    data = yaml.safe_load(load_bundled_protocol_text("ccrt-nimotuzumab"))
    data["randomisation"]["at_enrolment"] = True
    data["subject_id_pattern"] = "AUTO-{site}-{seq:03d}"  # its own subject IDs (unique across studies)
    data["randomisation"]["stratification"] = ["induction_response", "sex"]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_protocol_can_randomise_at_enrolment_and_then_both_happen_or_neither(world):
    study = create_study(code="ccrt-auto", yaml_text=_auto_protocol(), sites=[world.sites["A"]])
    actor = world.users["coordinator"]
    Membership.objects.create(user=actor, study=study, role="coordinator", site=world.sites["A"])
    record = create_screening(study, world.sites["A"], CCRT_ELIGIBLE, actor)
    subject = enrol(record, consent_date=date(2026, 1, 5), consent_version="1.0", user=actor)
    assert subject.randomisation.number == 1 and subject.randomisation.strata == {"induction_response": "PR",
                                                                                   "sex": "female"}
    no_sex = {k: v for k, v in CCRT_ELIGIBLE.items() if k != "sex"}
    record = create_screening(study, world.sites["A"], no_sex, actor)
    assert record.outcome == "eligible"  # sex is a stratification factor, not a criterion
    c = login(Client(), "coordinator")
    response = _post(c, f"/api/v1/studies/{study.pk}/screenings/{record.pk}/enrol",
                     {"consent_date": "2026-01-05", "consent_version": "1.0"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "sex"
    assert not Subject.objects.filter(screening=record).exists()  # not enrolled without its allocation
    assert _sequence(study).count == 1


def test_status_and_correction_routes_never_answer_500(client, world):
    from tests.web.api_fuzz import fuzz_operations

    login(client, "data_manager")
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(m, p) for p, item in schema["paths"].items() for m, op in item.items()
                  if "corrections" in op.get("tags", []) or p.endswith(("/status", "/wipe"))]
    assert len(operations) == 4
    assert fuzz_operations(client, schema, operations, examples=20) == 4 * 20
