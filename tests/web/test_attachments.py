"""Attachments: signed consent forms and source documents, type sniffed from the content, size checked,
stored with a SHA-256, visible per role and site, audited, never served to another site."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from npctrial.web.core.attachments import attachment_dir
from npctrial.web.core.models_attachments import Attachment
from npctrial.web.core.models_audit import AuditEvent
from tests.web.conftest import login

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _own_attachment_dir(settings, tmp_path):
    settings.NPCTRIAL_ATTACHMENT_DIR = tmp_path / "attachments"


def _url(world, site="A", tail=""):
    s = world.studies["ccrt"]
    return f"/api/v1/studies/{s.pk}/subjects/{world.subjects[('ccrt', site)].pk}/attachments{tail}"


def _upload(client, world, data=PDF, name="consent.pdf", site="A", **fields):
    body = {"kind": "signed_consent", **fields, "file": SimpleUploadedFile(name, data)}
    return client.post(_url(world, site), body)


def test_upload_is_checksummed_stored_outside_the_web_root_and_audited(world):
    c = login(Client(), "coordinator")
    response = _upload(c, world, record="consent", description="signed 2026-01-05")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF) and body["record"] == "consent"
    stored = Attachment.objects.get()
    path = attachment_dir() / stored.storage_name
    assert path.read_bytes() == PDF and "static" not in path.parts and stored.filename == "consent.pdf"
    assert stored.history.count() == 1
    event = AuditEvent.objects.get(action="attachment_uploaded")
    assert event.subject_id == world.subjects[("ccrt", "A")].pk and event.details["sha256"] == body["sha256"]


def test_download_only_by_the_roles_and_sites_allowed(world):
    _upload(login(Client(), "coordinator"), world)
    attachment = Attachment.objects.get()
    study = world.studies["ccrt"]
    api = f"/api/v1/studies/{study.pk}/attachments/{attachment.pk}"
    page = f"/studies/{study.pk}/attachments/{attachment.pk}/"
    monitor = login(Client(), "monitor")
    got = monitor.get(api)
    assert got.status_code == 200 and got.content == PDF
    assert got["X-Content-Type-Options"] == "nosniff" and got["Content-Disposition"].startswith("attachment")
    assert "sandbox" in got["Content-Security-Policy"]
    assert monitor.get(page).content == PDF
    other_site = login(Client(), "coordinator_b")
    assert other_site.get(api).status_code == 404 and other_site.get(page).status_code == 404
    assert other_site.get(_url(world)).status_code == 404  # the list of site A's subject
    statistician = login(Client(), "statistician")  # no right to identifiable documents
    assert statistician.get(api).status_code == 403 and statistician.get(_url(world)).status_code == 403
    outsider = login(Client(), "outsider")
    assert outsider.get(api).status_code == 404
    assert AuditEvent.objects.filter(action="attachment_downloaded").count() == 2


@pytest.mark.parametrize(("data", "name", "message"), [
    (PNG, "consent.pdf", "content is image/png"),
    (b"MZ\x90\x00 executable", "consent.pdf", "only PDF, PNG, JPEG or TIFF"),
    (b"", "consent.pdf", "empty"),
    (PDF + b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", "consent.pdf", "scripts"),
    (b"<html><script>alert(1)</script>", "scan.png", "only PDF, PNG, JPEG or TIFF"),
])
def test_the_type_comes_from_the_content_and_must_match_the_name(world, data, name, message):
    response = _upload(login(Client(), "coordinator"), world, data=data, name=name)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"
    assert message in response.json()["detail"]
    assert not Attachment.objects.exists()
    assert [p for p in attachment_dir().rglob("*") if p.is_file()] == []  # nothing written for a refusal


def test_size_limit_and_records_are_checked(world, settings):
    c = login(Client(), "coordinator")
    settings.NPCTRIAL_ATTACHMENT_MAX_MB = 0.00005  # 50 bytes
    too_big = _upload(c, world)
    assert too_big.status_code == 422 and "at most" in too_big.json()["detail"]
    settings.NPCTRIAL_ATTACHMENT_MAX_MB = 20
    bad_record = _upload(c, world, record="baseline:999999")
    assert bad_record.status_code == 422 and bad_record.json()["errors"][0]["field"] == "record"
    assert _upload(c, world, kind="selfie").json()["errors"][0]["field"] == "kind"
    png = _upload(c, world, data=PNG, name="source.PNG", kind="source_document", record="screening")
    assert png.status_code == 201 and png.json()["content_type"] == "image/png"
    assert _upload(login(Client(), "monitor"), world).status_code == 403  # monitors read, sites upload


def test_a_tampered_or_voided_file_is_not_served(world):
    c = login(Client(), "coordinator")
    first = _upload(c, world).json()
    second = _upload(c, world, name="other.pdf").json()
    study = world.studies["ccrt"]
    stored = Attachment.objects.get(pk=first["id"])
    (attachment_dir() / stored.storage_name).write_bytes(PDF.replace(b"Catalog", b"Catalox"))
    tampered = c.get(f"/api/v1/studies/{study.pk}/attachments/{first['id']}")
    assert tampered.status_code == 422 and "SHA-256" in tampered.json()["detail"]
    assert c.get(f"/studies/{study.pk}/attachments/{first['id']}/").status_code == 410
    void = f"/api/v1/studies/{study.pk}/attachments/{second['id']}/void"
    assert c.post(void, {"reason": ""}, content_type="application/json").status_code == 422
    voided = c.post(void, {"reason": "consent of another patient"}, content_type="application/json")
    assert voided.status_code == 200 and voided.json()["voided"] is True
    assert c.get(f"/api/v1/studies/{study.pk}/attachments/{second['id']}").status_code == 422
    assert Attachment.objects.filter(pk=second["id"]).exists()  # kept, with its history
    listed = {a["id"]: a["voided"] for a in c.get(_url(world)).json()}
    assert listed == {first["id"]: False, second["id"]: True}


def test_subject_page_lists_and_uploads_attachments_for_the_right_people(world):
    study = world.studies["ccrt"]
    subject = world.subjects[("ccrt", "A")]
    c = login(Client(), "coordinator")
    page_url = f"/studies/{study.pk}/subjects/{subject.pk}/"
    posted = c.post(f"/studies/{study.pk}/subjects/{subject.pk}/attachments/",
                    {"kind": "signed_consent", "record": "consent", "file": SimpleUploadedFile("icf.pdf", PDF)})
    assert posted.status_code == 302
    page = c.get(page_url).content.decode()
    attachment = Attachment.objects.get()
    assert f'data-attachment="{attachment.pk}"' in page and 'id="attachment-form"' in page
    refused = c.post(f"/studies/{study.pk}/subjects/{subject.pk}/attachments/",
                     {"kind": "signed_consent", "file": SimpleUploadedFile("icf.pdf", PNG)})
    assert refused.status_code == 302 and Attachment.objects.count() == 1
    assert "data-attachment" not in login(Client(), "statistician").get(page_url).content.decode()
    assert 'id="attachment-form"' not in login(Client(), "monitor").get(page_url).content.decode()


def test_wiping_uat_records_removes_the_attachments_and_their_bytes(world):
    _upload(login(Client(), "coordinator"), world)
    path = attachment_dir() / Attachment.objects.get().storage_name
    assert path.exists()
    from django.db import transaction

    from npctrial.web.core.study_status import wipe_test_data

    with transaction.atomic():
        deleted = wipe_test_data(world.studies["ccrt"], user=world.users["study_admin"], confirm="ccrt-nimo",
                                 reason="UAT done")
    assert deleted["attachment"] == 1 and not Attachment.objects.exists()


def test_attachment_routes_never_answer_500(client, world):
    from tests.web.api_fuzz import fuzz_operations

    login(client, "coordinator")
    _upload(client, world)
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(m, p) for p, item in schema["paths"].items() for m, op in item.items()
                  if "attachments" in op.get("tags", [])]
    assert len(operations) == 4
    assert fuzz_operations(client, schema, operations, examples=20) == 4 * 20


def test_a_new_version_supersedes_the_old_one_with_a_reason(world):
    c = login(Client(), "coordinator")
    first = _upload(c, world, record="consent").json()
    resigned = PDF.replace(b"Catalog", b"Catalog /V2")
    no_reason = _upload(c, world, data=resigned, name="consent-v2.pdf", replaces=first["id"])
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert Attachment.objects.count() == 1 and [p for p in attachment_dir().rglob("*") if p.is_file()].__len__() == 1
    second = _upload(c, world, data=resigned, name="consent-v2.pdf", replaces=first["id"],
                     reason="re-consented on protocol v1.1")
    assert second.status_code == 201, second.content
    old = Attachment.objects.get(pk=first["id"])
    assert old.voided and old.superseded_by_id == second.json()["id"] and "v1.1" in old.void_reason
    assert old.history.first().history_change_reason.startswith(f"superseded by #{second.json()['id']}")
    event = AuditEvent.objects.get(action="attachment_superseded")
    assert event.details["superseded_by"] == second.json()["id"] and event.reason == "re-consented on protocol v1.1"
    study = world.studies["ccrt"]
    assert c.get(f"/api/v1/studies/{study.pk}/attachments/{first['id']}").status_code == 422  # not served
    again = _upload(c, world, data=resigned, name="consent-v3.pdf", replaces=first["id"], reason="x")
    assert again.status_code == 422 and "already voided" in again.json()["detail"]
    other = login(Client(), "coordinator_b")
    b_subject = world.subjects[("ccrt", "B")]
    foreign = other.post(f"/api/v1/studies/{study.pk}/subjects/{b_subject.pk}/attachments",
                         {"kind": "other", "replaces": second.json()["id"], "reason": "x",
                          "file": SimpleUploadedFile("x.pdf", PDF)})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "replaces"
    page = c.get(f"/studies/{study.pk}/subjects/{world.subjects[('ccrt', 'A')].pk}/").content.decode()
    assert f"superseded by #{second.json()['id']}" in page


def test_the_export_manifest_lists_every_attachment_with_its_status(world):
    import csv
    import io

    c = login(Client(), "coordinator")
    first = _upload(c, world, description="signed by the patient").json()
    _upload(c, world, data=PDF + b" ", name="v2.pdf", replaces=first["id"], reason="clearer scan")
    _upload(login(Client(), "coordinator_b"), world, site="B", name="b.pdf")
    study = world.studies["ccrt"]
    url = f"/studies/{study.pk}/clinical/exports/attachments.csv"
    statistician = login(Client(), "statistician")
    full = list(csv.DictReader(io.StringIO(b"".join(statistician.get(url).streaming_content).decode())))
    assert [(r["subject_id"], r["filename"], r["status"]) for r in full] == [
        (world.subjects[("ccrt", "A")].subject_id, "consent.pdf", "superseded"),
        (world.subjects[("ccrt", "A")].subject_id, "v2.pdf", "current"),
        (world.subjects[("ccrt", "B")].subject_id, "b.pdf", "current")]
    assert full[0]["sha256"] == hashlib.sha256(PDF).hexdigest() and full[0]["void_reason"] == "clearer scan"
    assert full[0]["superseded_by"] == str(full[1]["attachment"])
    deid = list(csv.DictReader(io.StringIO(
        b"".join(statistician.get(url + "?level=deidentified").streaming_content).decode())))
    assert len(deid) == 3 and "filename" not in deid[0] and "description" not in deid[0]
    assert deid[0]["sha256"] == full[0]["sha256"]
    assert login(Client(), "coordinator").get(url).status_code == 403  # no export right
    index = statistician.get(f"/studies/{study.pk}/clinical/exports/").content.decode()
    assert 'id="export-attachments"' in index and "3 attachments listed" in index


def test_nul_characters_and_over_long_text_are_refused_naming_the_field(world):
    c = login(Client(), "coordinator")
    assert _upload(c, world, description="a\x00b").json()["errors"][0]["field"] == "description"
    assert _upload(c, world, description="x" * 301).json()["errors"][0]["field"] == "description"
    assert _upload(c, world, name="x" * 197 + ".pdf").json()["errors"][0]["field"] == "file"  # not cut to .p
    assert _upload(c, world, record="consent\x00").json()["errors"][0]["field"] == "record"
    assert not Attachment.objects.exists()
    first = _upload(c, world).json()
    void = f"/api/v1/studies/{world.studies['ccrt'].pk}/attachments/{first['id']}/void"
    refused = c.post(void, {"reason": "typo\x00"}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    assert not Attachment.objects.get(pk=first["id"]).voided


def test_drawn_uploads_are_stored_whole_or_refused_with_a_field(world):
    from django.db import transaction
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    c = login(Client(), "coordinator")
    existing = _upload(c, world).json()["id"]
    def mostly(valid, edge):  # valid about three times in four: accepted uploads are checked too
        return st.one_of(valid, valid, valid, edge)

    files = mostly(st.sampled_from([(b"%PDF-1.7\n", "consent.pdf"), (b"\x89PNG\r\n\x1a\n", "scan.PNG"),
                                    (b"\xff\xd8\xff\xe0", "photo.jpeg"), (b"II*\x00", "ct.tif")]),
                   st.tuples(st.sampled_from([b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"PK\x03\x04", b"",
                                              b"%PDF", b"MM\x00*"]),
                             st.one_of(st.text(max_size=30), st.sampled_from(
                                 ["x.exe", ".pdf", "../../etc/passwd.pdf", "汉字.pdf", "a\x00.pdf",
                                  "x" * 300 + ".pdf", "", "scan.png"]))))
    fields = st.fixed_dictionaries({
        "kind": mostly(st.sampled_from(["signed_consent", "source_document", "other"]), st.sampled_from(["", "x"])),
        "record": mostly(st.sampled_from(["", "consent", "screening"]),
                         st.sampled_from(["baseline:1", "ae:x", "nothing", "a\x00", " consent "])),
        "description": mostly(st.text(max_size=10), st.just("x" * 400)),
        "replaces": mostly(st.just(""), st.sampled_from([str(existing), "0", "abc", "-1"])),
        "reason": mostly(st.just(""), st.sampled_from(["rescanned", " ", "a\x00"]))})
    outcomes = []

    class Rollback(Exception):
        pass

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(file=files, body=st.binary(max_size=64), form=fields)
    def check(file, body, form):
        head, name = file
        if os.path.basename(name or "") in {"", ".", ".."}:  # Django's test client cannot send such a name
            name = "f"
        try:
            with transaction.atomic():
                before = Attachment.objects.count()
                response = c.post(_url(world), {**form, "file": SimpleUploadedFile(name, head + body)})
                added = Attachment.objects.count() - before
                raise Rollback
        except Rollback:
            pass
        assert response.status_code in (201, 422), (response.status_code, response.content[:200])
        if response.status_code == 422:
            assert added == 0 and response.json()["errors"][0]["field"] in {
                "file", "kind", "record", "description", "replaces", "reason"}, response.json()
        else:
            assert added == 1
        outcomes.append(response.status_code)

    check()
    assert 201 in outcomes and 422 in outcomes
