"""The protocol's blinding on pages, API, exports and audit trails (one rule: core.blinding).

The shipped CCRT protocol is open-label with allocations visible to investigator, coordinator,
statistician and DMC; data managers, monitors and study admins are blind. A double-blind variant
shows allocations to the statistician and the DMC only.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from npctrial.web.core.audit import audit_entries
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Membership
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.screening import create_screening
from npctrial.web.core.studies import create_study
from tests.web.conftest import CCRT_ELIGIBLE, ROLES, login

SEES = {"investigator", "coordinator", "statistician", "dmc"}


def _subjects_api(client, study):
    return client.get(f"/api/v1/studies/{study.pk}/subjects").json()


def test_subject_list_api_follows_the_declared_blinding(world):
    study = world.studies["ccrt"]
    arm = world.subjects[("ccrt", "A")].randomisation.arm
    for role in (*ROLES, "dmc"):
        rows = _subjects_api(login(Client(), role), study)
        mine = next(r for r in rows if r["subject_id"] == world.subjects[("ccrt", "A")].subject_id)
        assert mine["randomisation_number"] is not None
        assert mine["arm"] == (arm if role in SEES else "concealed"), role


def test_pages_conceal_the_arm_from_blind_roles(world):
    study = world.studies["ccrt"]
    subject = world.subjects[("ccrt", "A")]
    arm = subject.randomisation.arm
    for role, sees in (("data_manager", False), ("monitor", False), ("coordinator", True)):
        client = login(Client(), role)
        detail = client.get(reverse("subject-detail", kwargs={"study_pk": study.pk, "pk": subject.pk})).content.decode()
        listing = client.get(reverse("subject-list", kwargs={"study_pk": study.pk})).content.decode()
        assert (f'data-arm="{arm}"' in detail) is sees, role
        assert (f"#{subject.randomisation.number} {arm}" in listing) is sees, role
        if not sees:
            assert "arm and stratum concealed" in detail and "concealed" in listing


def test_audit_trails_conceal_arm_stratum_and_chain_hashes(world):
    subject = world.subjects[("ccrt", "A")]
    allocation = subject.randomisation
    monitor = login(Client(), "monitor")
    page = monitor.get(reverse("subject-history", kwargs={"study_pk": subject.study_id, "pk": subject.pk}))
    text = page.content.decode()
    assert allocation.hash_after not in text and "(concealed)" in text
    api = monitor.get(f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/history").json()
    rand = [c for e in api if e["record"].startswith("Randomisation") for c in e["changes"]]
    assert {c["field"]: c["new"] for c in rand}["arm"] == "(concealed)"
    coordinator = login(Client(), "coordinator")
    api = coordinator.get(f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/history").json()
    rand = [c for e in api if e["record"].startswith("Randomisation") for c in e["changes"]]
    assert {c["field"]: c["new"] for c in rand}["arm"] == allocation.arm


def test_no_seed_ever_appears_in_an_audit_trail(world):
    sequence = world.studies["ccrt"].allocation_sequence
    records = [sequence, *sequence.segments.all()]
    assert len(records) >= 2  # the sequence and its first segment both hold a seed
    entries = audit_entries(records, allocation_visible=True)
    values = [str(c.new) for e in entries for c in e.changes if c.field == "seed"]
    assert len(values) == len(records) and all(v == "(concealed)" for v in values)
    seeds = [str(r.seed) for r in records]
    assert not [e for e in entries for seed in seeds if seed in e.summary()]
    admin = login(Client(), "study_admin")
    log = admin.get(reverse("audit-log-export", kwargs={"study_pk": sequence.study_id, "fmt": "csv"}))
    text = b"".join(log.streaming_content).decode()
    assert "seed:  -> (concealed)" in text and not [s for s in seeds if s in text]


def test_exports_follow_the_blinding_of_the_downloading_user(world):
    study = world.studies["ccrt"]
    arm = world.subjects[("ccrt", "A")].randomisation.arm
    url = reverse("export-file", kwargs={"study_pk": study.pk, "name": "adsl", "fmt": "csv"})
    for role, expected in (("data_manager", "concealed"), ("statistician", arm)):
        response = login(Client(), role).get(url)
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        mine = next(r for r in rows if r["usubjid"] == world.subjects[("ccrt", "A")].subject_id)
        assert mine["arm"] == expected, role


def _double_blind_study(world):
    text = load_bundled_protocol_text("ccrt-nimotuzumab").replace(
        "masking: open-label\n  allocation_visible_to: [investigator, coordinator, statistician, dmc]",
        "masking: double-blind\n  allocation_visible_to: [statistician, dmc]")
    assert "double-blind" in text
    text = text.replace("\"NIMO-{site}", "\"BLIND-{site}")  # its own subject IDs (unique across studies)
    study = create_study(code="ccrt-blind", yaml_text=text, target_enrolment=10, sites=[world.sites["A"]])
    for role in ("coordinator", "statistician"):
        Membership.objects.create(user=world.users[role], study=study, role=role,
                                  site=world.sites["A"] if role == "coordinator" else None)
    record = create_screening(study, world.sites["A"], CCRT_ELIGIBLE, world.users["coordinator"])
    return study, enrol(record, consent_date=record.screened_at.date(), consent_version="1.0",
                        user=world.users["coordinator"])


def test_double_blind_randomisation_shows_the_coordinator_only_the_number(world):
    study, subject = _double_blind_study(world)
    coordinator = login(Client(), "coordinator")
    body = coordinator.post(f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/randomise", data={},
                            content_type="application/json").json()
    assert body["concealed"] is True and body["arm"] == "concealed" and body["strata"] == {}
    assert body["hash_after"] == "" and body["number"] == 1
    subject.refresh_from_db()
    real = subject.randomisation.arm
    statistician = login(Client(), "statistician")
    assert _subjects_api(statistician, study)[0]["arm"] == real
    assert _subjects_api(coordinator, study)[0]["arm"] == "concealed"


def test_a_protocol_naming_an_unknown_role_is_refused(world):
    from npctrial.errors import ProtocolError

    text = load_bundled_protocol_text("ccrt-nimotuzumab").replace(
        "allocation_visible_to: [investigator, coordinator, statistician, dmc]",
        "allocation_visible_to: [investigator, pharmacist]")
    with pytest.raises(ProtocolError, match="unknown role 'pharmacist'"):
        create_study(code="ccrt-x", yaml_text=text)
