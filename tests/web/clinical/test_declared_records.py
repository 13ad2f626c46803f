"""A declared record takes part like a typed CRF: audit trail, data queries on its fields, SDV of
the record, the investigator's signature, void with a reason, exports (voided: listed, not analysed)."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from django.test import Client

from npctrial.errors import ValidationError
from npctrial.web.clinical import declared, locks, sdv, voiding
from npctrial.web.clinical.models import DeclaredRecord
from npctrial.web.clinical.views.grid import subject_grid
from npctrial.web.core.queries import query_fields, raise_query
from tests.web.clinical.conftest import RT, save, url
from tests.web.clinical.test_declared_pages import BASELINE, NUTRITION
from tests.web.conftest import PASSWORD, login


@pytest.fixture
def record(world) -> DeclaredRecord:
    save("baseline", world, BASELINE)
    save("radiotherapy", world, RT)
    rec, _ = declared.save_declared("nutrition", world.subjects[("imrt", "A")], NUTRITION, world.users["coordinator"])
    return rec


def _void(client: Client, world, rec: DeclaredRecord, reason: str = "entered for the wrong patient") -> object:
    return client.post(url("crf-void", world, form="nutrition", record_pk=rec.pk),
                       {"confirm": "yes", "reason": reason, "version": rec.version})


def test_queries_name_the_declared_fields_and_flag_them_on_the_form(world, record, coordinator):
    subject = world.subjects[("imrt", "A")]
    assert "tube_type" in query_fields(subject, f"nutrition:{record.pk}")
    with pytest.raises(ValidationError):
        query_fields(subject, "nutrition:999999")  # not the subject's record
    other = world.subjects[("imrt", "B")]
    with pytest.raises(ValidationError):
        query_fields(other, f"nutrition:{record.pk}")
    q = raise_query(subject, record=f"nutrition:{record.pk}", field_name="weight_kg", text="58.9 or 59.8?",
                    user=world.users["monitor"])
    page = coordinator.get(url("crf-edit", world, form="nutrition", record_pk=record.pk)).content.decode()
    assert f'data-query="{q.pk}"' in page.split('data-field="weight_kg"', 1)[1].split("</p>", 1)[0]
    g = subject_grid(subject)
    assert next(c for c in g.row("ccrt_w1").cells if c.form == "nutrition").status == "query"
    monitor = login(Client(), "monitor")
    r = monitor.post(url("query-raise", world), {"record": f"nutrition:{record.pk}", "field_name": "bmi",
                                                 "text": "?", "next": "/"})
    assert r.status_code in (200, 302)


def test_sdv_of_critical_fields_then_the_record_and_a_change_undoes_it(world, record):
    subject = world.subjects[("imrt", "A")]
    monitor = world.users["monitor"]
    # imrt-s1.yaml, schedule.critical_fields.nutrition
    assert sdv.critical_fields(subject.protocol_version, "nutrition") == ("weight_kg", "feeding_tube")
    with pytest.raises(ValidationError, match="feeding_tube"):
        sdv.verify_source(subject, "nutrition", record, user=monitor, version=record.version, fields=["weight_kg"],
                          whole_record=True)
    state = sdv.verify_source(subject, "nutrition", record, user=monitor, version=record.version, fields=["weight_kg"])
    assert state.status == "partial"
    assert next(c for c in subject_grid(subject).row("ccrt_w1").cells if c.form == "nutrition").sdv == "partial"
    state = sdv.verify_source(subject, "nutrition", record, user=monitor, version=record.version,
                              fields=["feeding_tube"], whole_record=True)
    assert state.status == "verified"
    cell = next(c for c in subject_grid(subject).row("ccrt_w1").cells if c.form == "nutrition")
    assert cell.status == "verified" and cell.sdv == "verified"
    declared.save_declared("nutrition", subject, {**NUTRITION, "weight_kg": "59"}, world.users["coordinator"],
                           instance=record, expected_version=record.version, reason="re-weighed")
    cell = next(c for c in subject_grid(subject).row("ccrt_w1").cells if c.form == "nutrition")
    assert cell.sdv == "" and cell.status == "complete"
    mon = login(Client(), "monitor")
    view = mon.get(url("crf-view", world, form="nutrition", record_pk=record.pk)).content.decode()
    assert 'name="fields" value="weight_kg"' in view and 'name="fields" value="feeding_tube"' in view
    page = mon.post(url("crf-verify", world, form="nutrition", record_pk=record.pk),
                    {"version": 2, "whole_record": "1", "fields": ["weight_kg", "feeding_tube"]})
    assert page.status_code == 302 and sdv.sdv_state(subject, "nutrition", DeclaredRecord.objects.get()).status \
        == "verified"


def test_the_signature_covers_declared_records(world, record):
    subject = world.subjects[("imrt", "A")]
    locks.sign_casebook(subject, world.users["investigator"], PASSWORD)
    assert locks.signature_current(subject) is not None
    assert next(c for c in subject_grid(subject).row("ccrt_w1").cells if c.form == "nutrition").status == "signed"
    declared.save_declared("nutrition", subject, {**NUTRITION, "weight_kg": "59"}, world.users["coordinator"],
                           instance=record, expected_version=record.version, reason="re-weighed")
    assert locks.signature_current(subject) is None  # a changed record is no longer covered


def test_void_with_a_reason_keeps_it_audited_and_out_of_the_grid(world, record, coordinator):
    subject = world.subjects[("imrt", "A")]
    q = raise_query(subject, record=f"nutrition:{record.pk}", field_name="weight_kg", text="?",
                    user=world.users["monitor"])
    page = coordinator.get(url("crf-void", world, form="nutrition", record_pk=record.pk)).content.decode()
    assert 'id="consequences"' in page and "Weight and nutrition during CCRT" in page
    assert _void(coordinator, world, record, reason=" ").status_code == 200
    assert DeclaredRecord.objects.filter(pk=record.pk).exists()
    r = _void(coordinator, world, record)
    assert r.status_code == 302
    row = DeclaredRecord.all_objects.get(pk=record.pk)
    assert row.void_reason == "entered for the wrong patient" and not DeclaredRecord.objects.exists()
    last = row.history.order_by("-history_id").first()
    assert last.history_change_reason.startswith("voided (entered in error)") and last.values["weight_kg"] == 58.9
    q.refresh_from_db()
    assert q.status == "closed"
    assert next(c for c in subject_grid(subject).row("ccrt_w1").cells if c.form == "nutrition").status == \
        "not_started"
    assert [v.slug for v in voiding.voided_records(type(subject).objects.filter(pk=subject.pk))] == ["nutrition"]
    listing = coordinator.get(f"/studies/{world.studies['imrt'].pk}/clinical/voided/?format=csv").content.decode()
    assert f"nutrition,{record.pk}" in listing
    view = coordinator.get(url("crf-view", world, form="nutrition", record_pk=record.pk)).content.decode()
    assert 'id="voided-badge"' in view
    edit = coordinator.post(url("crf-edit", world, form="nutrition", record_pk=record.pk),
                            {**NUTRITION, "version": row.version, "reason": "x"})
    assert edit.status_code == 404  # a voided record is not edited


def _export(client: Client, world, fmt: str, level: str = "") -> bytes:
    path = f"/studies/{world.studies['imrt'].pk}/clinical/exports/nutrition.{fmt}"
    r = client.get(path + (f"?level={level}" if level else ""))
    return b"".join(r.streaming_content) if r.streaming else r.content


def test_the_export_holds_live_records_and_lists_voided_ones_apart(world, record, coordinator):
    second, _ = declared.save_declared("nutrition", world.subjects[("imrt", "A")],
                                       {**NUTRITION, "assessment_date": "2026-01-21", "notes": "Mr Chan said ok"},
                                       world.users["coordinator"])
    voiding.void_record("nutrition", second, world.users["coordinator"], "duplicate", expected_version=1)
    stats = login(Client(), "data_manager")
    rows = list(csv.DictReader(io.StringIO(_export(stats, world, "csv").decode())))
    assert [int(r["record_id"]) for r in rows] == [record.pk]
    row = rows[0]
    assert row["weight_kg"] == "58.9" and row["bmi"] == "20.4" and row["tube_type"] == "nasogastric"
    assert row["event"] == "ccrt_w1" and row["record_date"] == "2026-01-14" and row["feeding_tube"] == "True"
    book = openpyxl.load_workbook(io.BytesIO(_export(stats, world, "xlsx")))
    assert book.sheetnames == ["records", "voided"]
    voided = list(book["voided"].values)
    assert len(voided) == 2 and second.pk in voided[1] and "duplicate" in voided[1]
    assert [r[2] for r in list(book["records"].values)[1:]] == [record.pk]
    deid = list(csv.DictReader(io.StringIO(_export(stats, world, "csv", "deidentified").decode())))
    assert "notes" not in deid[0] and deid[0].get("record_date") != "2026-01-14"  # text dropped, dates moved
    index = stats.get(f"/studies/{world.studies['imrt'].pk}/clinical/exports/").content.decode()
    assert 'id="declared-exports"' in index and "Weight and nutrition during CCRT" in index
    assert stats.get(f"/studies/{world.studies['imrt'].pk}/clinical/exports/nutrition.sav").status_code == 404


def test_a_record_dated_outside_every_window_is_unscheduled(world):
    subject = world.subjects[("imrt", "A")]
    save("radiotherapy", world, RT)
    rec, _ = declared.save_declared("nutrition", subject, {**NUTRITION, "assessment_date": "2025-06-01"},
                                    world.users["coordinator"])
    assert rec.event == "" and rec.record_date == date(2025, 6, 1)
    with pytest.raises(ValidationError) as info:
        declared.save_declared("nutrition", subject, NUTRITION, world.users["coordinator"], event="baseline")
    assert info.value.field == "event"  # nutrition is not collected at baseline


def test_the_subjects_audit_history_shows_the_declared_record_and_its_change(world, record):
    subject = world.subjects[("imrt", "A")]
    declared.save_declared("nutrition", subject, {**NUTRITION, "weight_kg": "59.4"}, world.users["coordinator"],
                           instance=record, expected_version=record.version, reason="scale re-read")
    client = login(Client(), "data_manager")
    from django.urls import reverse

    page = client.get(reverse("subject-history", kwargs={"study_pk": subject.study_id, "pk": subject.pk}))
    text = page.content.decode()
    assert page.status_code == 200 and "scale re-read" in text and "59.4" in text


def test_the_odm_export_carries_the_live_declared_records_and_their_metadata(world, record):
    from npctrial.web.clinical.exports import read_odm

    second, _ = declared.save_declared("nutrition", world.subjects[("imrt", "A")],
                                       {**NUTRITION, "assessment_date": "2026-01-21", "notes": "Mr Chan said ok"},
                                       world.users["coordinator"])
    voiding.void_record("nutrition", second, world.users["coordinator"], "duplicate", expected_version=1)
    stats = login(Client(), "data_manager")
    path = f"/studies/{world.studies['imrt'].pk}/clinical/exports/odm.xml"
    full = b"".join(stats.get(path).streaming_content).decode()
    assert '<FormDef OID="F.nutrition"' in full and '<ItemDef OID="IT.nutrition.weight_kg" Name="weight_kg" ' \
        'DataType="float"/>' in full and 'DataType="boolean"' in full
    (subject,) = [forms["nutrition"] for forms in read_odm(full).values() if "nutrition" in forms]
    assert len(subject) == 1  # the voided one is not exported
    assert subject[0]["weight_kg"] == "58.9" and subject[0]["tube_type"] == "nasogastric" and subject[0]["bmi"] == "20.4"
    deid = b"".join(stats.get(path + "?level=deidentified").streaming_content).decode()
    (shifted,) = [forms["nutrition"] for forms in read_odm(deid).values() if "nutrition" in forms]
    assert "IT.nutrition.notes" not in deid and shifted[0]["assessment_date"] != "2026-01-14"
    assert shifted[0]["weight_kg"] == "58.9"


def test_voided_counts_per_form_in_the_readers_scope(world, record):
    """The report's "left out" counts: per CRF and declared form, another site's voided records
    only for a reader who sees that site, forms with none left out, CRFs before declared forms."""
    from npctrial.web.core.models import Subject
    from tests.web.clinical.test_void_and_confirm import AE

    user_a, user_b = world.users["coordinator"], world.users["coordinator_b"]
    mine = [save("ae", world, AE), save("ae", world, {**AE, "term": "dermatitis_radiation"})]
    theirs = save("ae", world, AE, site="B")
    for r, user in ((mine[0], user_a), (mine[1], user_a), (theirs, user_b)):
        voiding.void_record("ae", r, user, "entered for the wrong patient", expected_version=r.version)
    voiding.void_record("nutrition", record, user_a, "wrong patient", expected_version=record.version)
    study = world.studies["imrt"]
    site_a = Subject.objects.filter(study=study, site=world.sites["A"])
    assert voiding.voided_count(site_a) == {"ae": 2, "nutrition": 1}
    assert list(voiding.voided_count(Subject.objects.filter(study=study))) == ["ae", "nutrition"]
    assert voiding.voided_count(Subject.objects.filter(study=study)) == {"ae": 3, "nutrition": 1}
    assert voiding.voided_count(Subject.objects.filter(study=study, site=world.sites["B"])) == {"ae": 1}
    assert voiding.voided_count(Subject.objects.none()) == {}
