"""The study-wide audit log: page, API and downloads; filters; scope and blinding; ODM AuditRecords."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from npctrial.web.clinical.crfs import save_crf
from npctrial.web.core.audit_export import NPC_NS
from npctrial.web.core.events import record_event
from npctrial.web.core.models import AuditEvent
from tests.web.conftest import PASSWORD, login

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
            "t_category": "T3", "n_category": "N1", "m_category": "M0"}


def _api(client, study, **params):
    response = client.get(f"/api/v1/studies/{study.pk}/audit-log", params)
    assert response.status_code == 200, response.content
    return response.json()


def _setup(world):
    study = world.studies["ccrt"]
    subject = world.subjects[("ccrt", "A")]
    record, _ = save_crf("baseline", subject, dict(BASELINE), world.users["coordinator"])
    save_crf("baseline", subject, {"weight_kg": 64}, world.users["coordinator"], instance=record,
             expected_version=record.version, reason="scale recalibrated")
    login(Client(), "data_manager").get(reverse("export-file", kwargs={"study_pk": study.pk, "name": "adae",
                                                                       "fmt": "csv"}))
    Client().post(reverse("login"), {"username": "investigator", "password": PASSWORD})
    Client().post(reverse("login"), {"username": "investigator", "password": "wrong one"})
    return study, subject, record


def test_log_lists_record_changes_and_events_with_readable_names(world):
    study, subject, record = _setup(world)
    body = _api(login(Client(), "monitor"), study)
    entries = body["entries"]
    assert body["total"] == len(entries) < 100  # one page holds the small world
    change = next(e for e in entries if e["form"] == "baseline" and e["action"] == "changed")
    assert change["record"] == f"Baseline {subject.subject_id} 2026-01-06 #{record.pk}"
    assert change["reason"] == "scale recalibrated" and change["user"] == "coordinator"
    assert change["subject"] == subject.subject_id and change["site"] == "GZ"
    assert {c["field"]: (c["old"], c["new"]) for c in change["changes"]}["weight_kg"] == (60.0, 64.0)
    actions = {e["action"] for e in entries}
    assert {"created", "changed", "export", "login", "login_failed", "randomisation", "study_created"} <= actions
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)  # newest first


def _adae_name(study) -> str:
    return f"ccrt-nimo{'-uat' if study.in_development else ''}-adae.csv"  # UAT files are marked


def test_filters_by_user_subject_form_action_and_dates(world):
    study, subject, record = _setup(world)
    client = login(Client(), "data_manager")
    by_user = _api(client, study, user="data_manager")["entries"]
    assert by_user and all(e["user"] == "data_manager" for e in by_user)
    by_subject = _api(client, study, subject=subject.subject_id)["entries"]
    assert by_subject and all(e["subject"] == subject.subject_id for e in by_subject)
    assert {e["form"] for e in by_subject} >= {"baseline", "subject", "randomisation", "screeningrecord"}
    by_form = _api(client, study, form="baseline", action="changed")["entries"]
    assert [e["reason"] for e in by_form] == ["scale recalibrated"]
    exports = _api(client, study, action="export")["entries"]
    assert [e["record"] for e in exports] == [_adae_name(study)]
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert _api(client, study, since=tomorrow)["total"] == 0
    assert _api(client, study, until=tomorrow)["total"] == _api(client, study)["total"]
    assert _api(client, study, subject="NOBODY-999")["total"] == 0
    logins = _api(client, study, form="login")["entries"]
    assert {e["action"] for e in logins} == {"login", "login_failed"}


def test_bad_filters_are_field_errors_never_500(world):
    study = world.studies["ccrt"]
    client = login(Client(), "data_manager")
    bad = client.get(f"/api/v1/studies/{study.pk}/audit-log", {"since": "31/12/2026"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    assert client.get(f"/api/v1/studies/{study.pk}/audit-log", {"action": "explode"}).status_code == 422
    reversed_range = client.get(f"/api/v1/studies/{study.pk}/audit-log", {"since": "2026-02-01", "until": "2026-01-01"})
    assert reversed_range.status_code == 422 and reversed_range.json()["errors"][0]["field"] == "until"
    page = client.get(reverse("audit-log", kwargs={"study_pk": study.pk}), {"since": "yesterday"})
    assert page.status_code == 400
    assert client.get(reverse("audit-log-export", kwargs={"study_pk": study.pk, "fmt": "pdf"})).status_code == 404
    for value in ("0", "-1", "x", "99999999999"):
        assert client.get(f"/api/v1/studies/{study.pk}/audit-log", {"page": value}).status_code == 422


def test_only_audit_roles_see_the_log_and_logins_are_study_members_only(world):
    study = world.studies["ccrt"]
    for role, status in (("coordinator", 403), ("statistician", 403), ("monitor", 200), ("study_admin", 200)):
        assert login(Client(), role).get(reverse("audit-log", kwargs={"study_pk": study.pk})).status_code == status
    assert login(Client(), "outsider").get(f"/api/v1/studies/{study.pk}/audit-log").status_code == 404
    record_event("login", user=world.users["outsider"])  # not a member of the study
    names = {e["user"] for e in _api(login(Client(), "monitor"), study, form="login")["entries"]}
    assert "outsider" not in names


def test_randomisation_arm_is_masked_for_blind_viewers(world):
    study = world.studies["ccrt"]
    allocation = world.subjects[("ccrt", "A")].randomisation
    monitor = _api(login(Client(), "monitor"), study, action="randomisation")["entries"]
    event = next(e for e in monitor if e["subject"] == allocation.subject.subject_id)
    fields = {c["field"]: c["new"] for c in event["changes"]}
    assert fields["arm"] == "(concealed)" and fields["number"] == allocation.number
    text = login(Client(), "monitor").get(reverse("audit-log", kwargs={"study_pk": study.pk})).content.decode()
    assert allocation.hash_after not in text
    assert f'data-arm="{allocation.arm}"' not in text


def test_csv_download_is_filtered_formula_safe_and_audited(world):
    study, subject, record = _setup(world)
    save_crf("baseline", subject, {"weight_kg": 65}, world.users["coordinator"], instance=record,
             expected_version=record.version + 1, reason='=HYPERLINK("http://evil.example","x")')
    client = login(Client(), "monitor")
    response = client.get(reverse("audit-log-export", kwargs={"study_pk": study.pk, "fmt": "csv"}), {"form": "baseline"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and {r["form"] for r in rows} == {"baseline"}
    assert any(r["reason"] == "'=HYPERLINK(\"http://evil.example\",\"x\")" for r in rows)
    assert not any(v.startswith("=") for r in rows for v in r.values())
    assert AuditEvent.objects.filter(action="export", record="ccrt-nimo-audit-log.csv",
                                     user=world.users["monitor"]).exists()


def test_odm_download_carries_audit_records(world):
    study, subject, record = _setup(world)
    client = login(Client(), "data_manager")
    response = client.get(reverse("audit-log-export", kwargs={"study_pk": study.pk, "fmt": "xml"}))
    root = ET.fromstring(b"".join(response.streaming_content))
    assert root.get("ODMVersion") == "1.3.2"
    records = root.findall(f"{ODM}ClinicalData/{ODM}AuditRecords/{ODM}AuditRecord")
    users = {u.get("OID") for u in root.findall(f"{ODM}AdminData/{ODM}User")}
    locations = {loc.get("OID") for loc in root.findall(f"{ODM}AdminData/{ODM}Location")}
    assert len(records) == _api(client, study)["total"]  # every entry, this download's own event included
    for r in records:
        assert r.find(f"{ODM}UserRef").get("UserOID") in users
        assert r.find(f"{ODM}LocationRef").get("LocationOID") in locations
        assert r.find(f"{ODM}DateTimeStamp").text.endswith("Z")
    change = next(r for r in records if r.findtext(f"{ODM}ReasonForChange") == "scale recalibrated")
    entry = change.find(f"{{{NPC_NS}}}Entry")
    assert entry.get("Action") == "changed" and entry.get("Subject") == subject.subject_id
    weights = [c for c in entry.findall(f"{{{NPC_NS}}}Change") if c.get("Field") == "weight_kg"]
    assert (weights[0].get("Old"), weights[0].get("New")) == ("60.0", "64.0")
    assert change.find(f"{ODM}LocationRef").get("LocationOID") == "LOC.GZ"


def test_the_page_shows_entries_filters_and_download_links(world):
    study, subject, record = _setup(world)
    page = login(Client(), "study_admin").get(reverse("audit-log", kwargs={"study_pk": study.pk}),
                                              {"subject": subject.subject_id})
    text = page.content.decode()
    assert page.status_code == 200 and "scale recalibrated" in text
    assert 'id="export-csv"' in text and f"subject={subject.subject_id}" in text
    assert _adae_name(study) not in text  # the data manager's export names no subject
