"""Audit trail (user, time, old/new value, reason; reason mandatory after first save) and
optimistic locking (the second of two concurrent edits gets a conflict showing both versions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from npctrial.errors import ValidationError
from npctrial.web.core.audit import audit_entries
from npctrial.web.core.locking import EditConflict, save_with_version
from npctrial.web.core.models import ScreeningRecord, Site
from tests.web.conftest import IMRT_ELIGIBLE, login


def _edit_post(record, version, hb, reason):
    data = {k: ("true" if v is True else "false" if v is False else v) for k, v in IMRT_ELIGIBLE.items()}
    data.update({"hb": hb, "version": version, "reason": reason})
    return data


def test_change_without_reason_is_refused_and_nothing_is_written(world):
    site = Site.objects.get(code="GZ")
    count = site.history.count()
    site.name = "Renamed"
    with pytest.raises(ValidationError) as info:
        site.save()
    assert info.value.field == "reason"
    assert Site.objects.get(pk=site.pk).name == "Site A" and site.history.count() == count
    with pytest.raises(ValidationError):
        Site.objects.get(pk=site.pk).delete()


def test_edit_through_the_page_is_audited_with_user_time_old_new_and_reason(client, world):
    record = world.screenings[("imrt", "A")]
    login(client, "investigator")
    url = reverse("screening-edit", kwargs={"study_pk": record.study_id, "pk": record.pk})
    start = timezone.now()
    response = client.post(url, _edit_post(record, record.version, 101, "transcription error in Hb"))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.values["hb"] == 101 and record.version == 2
    entries = audit_entries([record])
    assert [e.action for e in entries] == ["changed", "created"]
    change = entries[0]
    assert change.user == "investigator"
    assert change.reason == "transcription error in Hb"
    assert start - timedelta(seconds=1) <= change.at <= timezone.now()
    values = next(c for c in change.changes if c.field == "values")
    assert values.old["hb"] == 132 and values.new["hb"] == 101
    assert entries[1].user == "coordinator" and entries[1].reason == ""


def test_subject_history_page_shows_the_randomisation_and_query_entries(client, world):
    subject = world.subjects[("ccrt", "A")]
    login(client, "monitor")
    page = client.get(reverse("subject-history", kwargs={"study_pk": subject.study_id, "pk": subject.pk}))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Randomisation #1" in text and "Data query #" in text and subject.subject_id in text
    api = client.get(f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/history").json()
    records = {e["record"].split(" ")[0].lower() for e in api}
    assert {"screening", "consent", "subject", "randomisation", "data"} <= records


def test_query_lifecycle_is_audited(client, world):
    query = world.queries[("imrt", "A")]
    study_pk = query.study_id
    login(client, "coordinator")
    client.post(reverse("query-answer", kwargs={"study_pk": study_pk, "pk": query.pk}), {"answer": "T3 confirmed"})
    client.logout()
    login(client, "data_manager")
    client.post(reverse("query-close", kwargs={"study_pk": study_pk, "pk": query.pk}), {"note": "thanks"})
    query.refresh_from_db()
    assert query.status == "closed" and query.answer == "T3 confirmed"
    entries = audit_entries([query])
    assert [(e.user, e.action, e.reason) for e in entries] == [
        ("data_manager", "changed", "query closed: thanks"),
        ("coordinator", "changed", "query answered"),
        ("data_manager", "created", ""),
    ]
    status = next(c for c in entries[0].changes if c.field == "status")
    assert (status.old, status.new) == ("answered", "closed")


def test_two_users_edit_the_same_form_second_gets_conflict_with_both_versions(client, world):
    from django.test import Client

    record = world.screenings[("imrt", "A")]
    url = reverse("screening-edit", kwargs={"study_pk": record.study_id, "pk": record.pk})
    first, second = login(Client(), "coordinator"), login(Client(), "investigator")
    # both open the form at version 1
    assert b'name="version" value="1"' in first.get(url).content
    assert b'name="version" value="1"' in second.get(url).content
    assert first.post(url, _edit_post(record, 1, 111, "first correction")).status_code == 302
    response = second.post(url, _edit_post(record, 1, 122, "second correction"))
    assert response.status_code == 409
    text = response.content.decode()
    assert "Conflict: nothing was saved" in text
    assert "version 1" in text and "version 2" in text
    conflict = text[text.index('id="conflict"'):text.index("</table>", text.index('id="conflict"'))]
    assert "<td>hb</td>" in conflict  # the field that differs, with both values
    assert "<code>122" in conflict and "<code>111" in conflict
    assert "<td>ecog</td>" not in conflict  # unchanged fields are not listed
    record.refresh_from_db()
    assert record.values["hb"] == 111 and record.version == 2


def test_api_patch_with_stale_version_is_409_with_both_versions(client, world):
    record = world.screenings[("imrt", "A")]
    login(client, "coordinator")
    url = f"/api/v1/studies/{record.study_id}/screenings/{record.pk}"
    ok = client.patch(url, data={"values": {**IMRT_ELIGIBLE, "hb": 140}, "version": 1, "reason": "re-read"},
                      content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(url, data={"values": {**IMRT_ELIGIBLE, "hb": 150}, "version": 1, "reason": "mine"},
                         content_type="application/json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["your_version"] == 1 and body["current_version"] == 2
    values = next(f for f in body["fields"] if f["field"] == "values")
    assert values["submitted"]["hb"] == 150 and values["current"]["hb"] == 140
    assert ScreeningRecord.objects.get(pk=record.pk).values["hb"] == 140


def test_save_with_version_helper(world):
    site = Site.objects.get(code="HK")
    updated = save_with_version(site, expected_version=1, changes={"name": "B2"}, reason="rename")
    assert updated.version == 2 and updated.name == "B2"
    with pytest.raises(EditConflict) as info:
        save_with_version(site, expected_version=1, changes={"name": "B3"}, reason="rename again")
    assert info.value.rows[0].submitted == "B3" and info.value.rows[0].current == "B2"
    assert Site.objects.get(pk=site.pk).name == "B2"


def test_reason_is_required_on_the_edit_form(client, world):
    record = world.screenings[("imrt", "A")]
    login(client, "coordinator")
    url = reverse("screening-edit", kwargs={"study_pk": record.study_id, "pk": record.pk})
    data = _edit_post(record, 1, 101, "")
    response = client.post(url, data)
    assert response.status_code == 400
    record.refresh_from_db()
    assert record.values["hb"] == 132 and record.version == 1


def test_update_fields_saves_also_the_version(world):
    site = Site.objects.get(code="GZ")
    site.name = "Site A renamed"
    site.save(update_fields=["name"], reason="official name")
    stored = Site.objects.get(pk=site.pk)
    assert (stored.name, stored.version) == ("Site A renamed", 2)
    assert stored.history.first().history_change_reason == "official name"
