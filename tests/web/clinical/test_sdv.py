"""Source-data verification by the monitor: per record and per critical field (declared in the
protocol's ``schedule.critical_fields``), tied to the record version; SDV status in the grid."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from npctrial.errors import ValidationError
from npctrial.web.clinical import sdv, voiding
from npctrial.web.clinical.crfs import save_crf
from npctrial.web.clinical.models import SourceVerification
from npctrial.web.clinical.views.grid import subject_grid
from tests.web.clinical.conftest import save, url
from tests.web.conftest import login

TODAY = timezone.localdate()
BASELINE = {"assessment_date": TODAY, "height_cm": 170, "weight_kg": 62, "t_category": "T3",
            "n_category": "N1", "m_category": "M0", "ecog": 1, "wbc": 6.0, "hb": 130, "platelets": 220, "alt": 20,
            "ast": 22, "creatinine": 70, "bilirubin": 9}
#: imrt-s1.yaml, schedule.critical_fields.baseline
CRITICAL = ("assessment_date", "t_category", "n_category", "m_category", "height_cm", "weight_kg")



@pytest.fixture(autouse=True)
def _english():
    """Service messages in English whatever language an earlier test of the worker activated."""
    with translation.override("en"):
        yield

def _cell(world, event="baseline", form="baseline"):
    g = subject_grid(world.subjects[("imrt", "A")])
    return next(c for c in g.row(event).cells if c.form == form)


def test_critical_fields_come_from_the_protocol(world):
    version = world.subjects[("imrt", "A")].protocol_version
    assert sdv.critical_fields(version, "baseline") == CRITICAL
    assert sdv.critical_fields(version, "rtog") == ()


def test_whole_record_needs_every_critical_field_checked(world):
    record, subject, mon = save("baseline", world, BASELINE), world.subjects[("imrt", "A")], world.users["monitor"]
    with pytest.raises(ValidationError) as err:
        sdv.verify_source(subject, "baseline", record, user=mon, version=1, fields=CRITICAL[:4], whole_record=True)
    assert err.value.field == "fields" and "height_cm, weight_kg" in str(err.value)
    assert not SourceVerification.objects.exists()  # nothing half-saved
    state = sdv.verify_source(subject, "baseline", record, user=mon, version=1, fields=CRITICAL[:2])
    assert state.status == "partial" and sorted(state.fields) == ["assessment_date", "t_category"]
    assert _cell(world).sdv == "partial" and _cell(world).status == "complete"
    state = sdv.verify_source(subject, "baseline", record, user=mon, version=1, fields=CRITICAL[2:],
                              whole_record=True, note="checked against the clinic notes")
    assert state.status == "verified" and state.record.verified_by == mon
    cell = _cell(world)
    assert (cell.sdv, cell.status) == ("verified", "verified")
    assert SourceVerification.objects.count() == len(CRITICAL) + 1


def test_a_change_after_verification_makes_it_stale(world):
    record, subject, mon = save("baseline", world, BASELINE), world.subjects[("imrt", "A")], world.users["monitor"]
    sdv.verify_source(subject, "baseline", record, user=mon, version=1, fields=CRITICAL, whole_record=True)
    save_crf("baseline", subject, {"weight_kg": 63}, world.users["coordinator"], instance=record,
             expected_version=1, reason="re-weighed")
    record.refresh_from_db()
    assert record.version == 2 and sdv.sdv_state(subject, "baseline", record).status == ""
    assert _cell(world).sdv == "" and _cell(world).status == "complete"
    with pytest.raises(ValidationError) as err:  # the monitor read version 1
        sdv.verify_source(subject, "baseline", record, user=mon, version=1, whole_record=True, fields=CRITICAL)
    assert err.value.field == "version"


@pytest.mark.parametrize("fields, whole, message", [
    (["hb"], False, "not critical"),
    (["no_such"], True, "not critical"),
    ([], False, "nothing to verify"),
])
def test_bad_verifications_are_refused(world, fields, whole, message):
    record, subject = save("baseline", world, BASELINE), world.subjects[("imrt", "A")]
    with pytest.raises(ValidationError) as err:
        sdv.verify_source(subject, "baseline", record, user=world.users["monitor"], version=1, fields=fields,
                          whole_record=whole)
    assert message in str(err.value)


def test_a_form_without_critical_fields_is_verified_whole_and_not_twice(world):
    record, subject, mon = save("rtog", world, {"assessment_date": TODAY, "organ": "mucous_membrane", "scale": "acute",
                                                "grade": 1}), world.subjects[("imrt", "A")], world.users["monitor"]
    assert sdv.verify_source(subject, "rtog", record, user=mon, version=1, whole_record=True).status == "verified"
    with pytest.raises(ValidationError, match="already verified"):
        sdv.verify_source(subject, "rtog", record, user=mon, version=1, whole_record=True)


def test_voided_records_are_not_verified(world):
    record, subject = save("baseline", world, BASELINE), world.subjects[("imrt", "A")]
    voiding.void_record("baseline", record, world.users["coordinator"], "wrong patient", expected_version=1)
    record.refresh_from_db()
    with pytest.raises(ValidationError):
        sdv.verify_source(subject, "baseline", record, user=world.users["monitor"], version=record.version,
                          whole_record=True, fields=CRITICAL)


def test_monitor_verifies_on_the_record_page_and_others_may_not(world):
    record = save("baseline", world, BASELINE)
    page_url = url("crf-view", world, form="baseline", record_pk=record.pk)
    verify_url = url("crf-verify", world, form="baseline", record_pk=record.pk)
    mon = login(Client(), "monitor")
    page = mon.get(page_url).content.decode()
    assert 'id="sdv-form"' in page and 'name="fields" value="t_category"' in page
    assert 'name="fields" value="hb"' not in page  # not a critical field
    assert "Not verified at this version." in page
    for role in ("coordinator", "data_manager", "investigator"):
        client = login(Client(), role)
        assert 'id="sdv-form"' not in client.get(page_url).content.decode()
        assert client.post(verify_url, {"version": 1, "whole_record": "1", "fields": CRITICAL}).status_code == 403
    partial = mon.post(verify_url, {"version": 1, "whole_record": "1", "fields": ["t_category"]}, follow=True)
    assert "check every critical field" in partial.content.decode()
    done = mon.post(verify_url, {"version": 1, "whole_record": "1", "fields": CRITICAL}, follow=True)
    text = done.content.decode()
    assert "Version 1 verified by monitor" in text and 'id="sdv-form"' not in text
    bad = mon.post(verify_url, {"version": "x"}, follow=True)
    assert bad.status_code == 200 and "version" in bad.content.decode()
    grid = mon.get(url("casebook", world)).content.decode()
    assert "source data verified" in grid
    other = save("baseline", world, BASELINE, site="B")
    other_url = reverse("crf-verify", kwargs={"study_pk": world.studies["imrt"].pk,
                                              "pk": world.subjects[("imrt", "B")].pk, "form": "baseline",
                                              "record_pk": other.pk})
    assert login(Client(), "coordinator").post(other_url, {"version": 1}).status_code == 404


def test_sdv_through_the_api(world):
    record = save("baseline", world, BASELINE)
    base = (f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}"
            f"/crf/baseline/{record.pk}/sdv")
    mon = login(Client(), "monitor")
    assert mon.get(base).json() == {"status": "", "version": 1, "critical_fields": list(CRITICAL),
                                    "fields_verified": [], "history": []}
    partial = mon.post(base, {"version": 1, "fields": ["weight_kg"]}, content_type="application/json")
    assert partial.status_code == 201 and partial.json()["status"] == "partial"
    refused = mon.post(base, {"version": 1, "whole_record": True}, content_type="application/json")
    assert refused.status_code == 422 and "fields" in refused.content.decode()
    ok = mon.post(base, {"version": 1, "whole_record": True, "fields": list(CRITICAL)},
                  content_type="application/json")
    assert ok.status_code == 201 and ok.json()["status"] == "verified" and len(ok.json()["history"]) == 7
    for payload in ({"version": "one"}, {"fields": "t_category"}, {"version": 1, "note": "x" * 301}, {}):
        assert mon.post(base, payload, content_type="application/json").status_code == 422, payload
    coordinator = login(Client(), "coordinator")
    assert coordinator.get(base).json()["status"] == "verified"
    assert coordinator.post(base, {"version": 1, "whole_record": True}, content_type="application/json"
                            ).status_code == 403
