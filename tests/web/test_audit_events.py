"""Audit completeness: every non-record event is in the study-wide audit log, with who, what and when.

Logins (and failed logins of existing and unknown users), locks and unlocks, exports downloaded,
unblinding, randomisation (arm and stratum kept apart for unblinded roles), study creation and
amendments; initial values at creation and derived-value changes in the record trail.
"""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import reverse

from npctrial.web.clinical.crfs import save_crf
from npctrial.web.core.amendments import propose_amendment
from npctrial.web.core.audit import audit_entries, record_label
from npctrial.web.core.models import AuditEvent
from npctrial.web.core.protocols import load_bundled_protocol_text
from tests.web.conftest import PASSWORD, login


def _events(action, **kw):
    return list(AuditEvent.objects.filter(action=action, **kw).order_by("pk"))


def test_logins_failed_logins_and_logouts_are_audited(world):
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.post(reverse("login"), {"username": "coordinator", "password": "wrong password"})
    client.post(reverse("login"), {"username": "nobody-at-all", "password": "x"})
    client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    client.post(reverse("logout"))
    failed = _events("login_failed")
    assert [e.username for e in failed] == ["coordinator", "nobody-at-all"]
    assert all(e.ip_address == "10.1.2.3" and e.user is None for e in failed)
    assert _events("login")[0].user == world.users["coordinator"]
    assert _events("logout")[0].username == "coordinator"
    assert not any("wrong password" in str(e.details) + e.summary for e in failed)  # no password kept


def test_lockout_is_audited(world):
    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": "monitor", "password": "bad"})
    assert _events("login_locked", username="monitor")


def test_lock_unlock_and_exports_are_audited(world):
    study = world.studies["imrt"]
    subject = world.subjects[("imrt", "A")]
    client = login(Client(), "data_manager")
    client.post(reverse("subject-lock", kwargs={"study_pk": study.pk, "pk": subject.pk}))  # asks to confirm
    assert not AuditEvent.objects.filter(subject=subject, action="lock").exists()
    client.post(reverse("subject-lock", kwargs={"study_pk": study.pk, "pk": subject.pk}), {"confirm": "yes"})
    client.post(reverse("subject-lock", kwargs={"study_pk": study.pk, "pk": subject.pk}),
                {"action": "unlock", "reason": "late lab result to enter"})
    assert [e.action for e in AuditEvent.objects.filter(subject=subject).order_by("pk")] == ["lock", "unlock"]
    assert _events("unlock")[0].reason == "late lab result to enter"
    response = client.get(reverse("export-file", kwargs={"study_pk": study.pk, "name": "adsl", "fmt": "csv"}))
    b"".join(response.streaming_content)
    client.get(reverse("screening-export", kwargs={"study_pk": study.pk}))
    client.get(reverse("study-report-pdf", kwargs={"study_pk": study.pk}))
    exports = _events("export", study=study)
    uat = "-uat" if study.in_development else ""  # UAT files are marked as such
    assert [e.record for e in exports] == [f"imrt-s1{uat}-adsl.csv", f"imrt-s1{uat}-screening.csv",
                                           f"imrt-s1{uat}-report.pdf"]
    assert exports[0].user == world.users["data_manager"] and exports[0].details["subjects"] == 2
    assert exports[0].details["sites"] == ["GZ", "HK"]


def test_unblinding_randomisation_and_amendment_are_audited(world):
    study = world.studies["ccrt"]
    client = login(Client(), "study_admin")
    client.post(reverse("allocation-list", kwargs={"study_pk": study.pk}), {"reason": "SAE: treating physician asks"})
    unblinding = _events("unblinding", study=study)
    assert len(unblinding) == 1 and unblinding[0].reason == "SAE: treating physician asks"
    randomised = _events("randomisation", study=study)
    assert len(randomised) == 2  # one per subject of the world
    allocation = world.subjects[("ccrt", "A")].randomisation
    event = next(e for e in randomised if e.subject_id == allocation.subject_id)
    assert event.concealed == {"arm": allocation.arm, "stratum": allocation.strata}
    assert "arm" not in event.details and event.details["number"] == allocation.number
    text = load_bundled_protocol_text("ccrt-nimotuzumab").replace('version: "', 'version: "9', 1)
    version = propose_amendment(study, text, user=world.users["study_admin"], reason="typo in the version")
    amendment = _events("amendment", study=study)[0]
    assert amendment.details["number"] == version.number and amendment.reason == "typo in the version"


def test_initial_values_and_derived_value_changes_are_in_the_trail(world):
    subject = world.subjects[("imrt", "A")]
    coordinator = world.users["coordinator"]
    record, _ = save_crf("baseline", subject, {"assessment_date": date(2026, 1, 6), "height_cm": 170,
                                               "weight_kg": 60, "t_category": "T3", "n_category": "N1",
                                               "m_category": "M0"}, coordinator)
    created = audit_entries([record])[-1]
    initial = {c.field: c.new for c in created.changes}
    assert created.action == "created"
    assert initial["weight_kg"] == 60 and initial["bsa_m2"] == record.bsa_m2  # derived value at creation
    assert initial["created_by"] == "coordinator"  # related records by name, not id
    save_crf("baseline", subject, {"weight_kg": 75}, coordinator, instance=record, expected_version=record.version,
             reason="weighed again")
    changed = audit_entries([record])[0]
    fields = {c.field for c in changed.changes}
    assert {"weight_kg", "bsa_m2"} <= fields  # the derived BSA change is in the trail


def test_records_have_human_readable_names(world):
    subject = world.subjects[("imrt", "A")]
    record, _ = save_crf("baseline", subject, {"assessment_date": date(2026, 1, 6), "height_cm": 170,
                                               "weight_kg": 60, "t_category": "T3", "n_category": "N1",
                                               "m_category": "M0"}, world.users["coordinator"])
    label = record_label(record)
    assert "object (" not in label
    assert label == f"Baseline {subject.subject_id} 2026-01-06 #{record.pk}"
