"""Data import: validated as data entry, every problem by row and field, all or nothing (or --partial),
audited with the import's reason; pages, API and CLI; export -> import into a new study -> identical."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from npctrial.web.clinical.exports import form_columns, read_odm
from npctrial.web.clinical.imports import import_kinds, run_import
from npctrial.web.clinical.models import AdverseEvent, Baseline, ImportRun
from npctrial.web.core.models import Membership, ScreeningRecord, Subject
from npctrial.web.core.models_audit import AuditEvent
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.studies import create_study
from tests.web.clinical.conftest import RT, save
from tests.web.conftest import IMRT_ELIGIBLE, login

AE = {"week": "3", "term": "mucositis_oral", "grade": "2", "attribution": "probable", "serious": "False",
      "start_date": "2026-01-20", "stop_date": "", "aware_at": "", "sae_reported_at": ""}


def _csv(rows: list[dict], columns: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def _ae_rows(world, n: int, bad: dict[int, dict]) -> bytes:
    sid = world.subjects[("imrt", "A")].subject_id
    rows = [{"subject_id": sid, "site": "GZ", **AE, "week": str(1 + k % 7), **bad.get(k + 1, {})} for k in range(n)]
    return _csv(rows, form_columns("ae"))


BAD = {7: {"grade": "7"}, 23: {"term": "sore mouth"}, 41: {"start_date": "31/02/2026"}}


def test_fifty_records_with_three_bad_rows_are_refused_with_the_three_problems(world):
    report = run_import(world.studies["imrt"], world.users["coordinator"], kind="ae", data=_ae_rows(world, 50, BAD),
                        reason="migration from the paper CRFs", filename="ae.csv")
    assert not report.applied and report.rows == 50 and report.created == 0
    assert [(p.row, p.field) for p in report.problems] == [(7, "grade"), (23, "term"), (41, "start_date")]
    assert not AdverseEvent.objects.exists()  # nothing written
    run = ImportRun.objects.get()
    assert run.applied is False and len(run.problems) == 3 and run.import_reason == "migration from the paper CRFs"


def test_partial_import_keeps_the_good_rows_and_lists_the_others(world):
    report = run_import(world.studies["imrt"], world.users["coordinator"], kind="ae", data=_ae_rows(world, 50, BAD),
                        reason="migration", partial=True)
    assert report.applied and report.created == 47 and len(report.problems) == 3
    assert AdverseEvent.objects.count() == 47
    ae = AdverseEvent.objects.first()
    assert ae.history.earliest().history_change_reason == "migration"  # each record carries the reason
    event = AuditEvent.objects.get(action="import")
    assert event.details["created"] == 47 and event.details["problems"] == 3


def test_every_field_problem_of_a_row_is_listed_and_booleans_are_strict(world):
    bad = {1: {"grade": "0", "attribution": "maybe", "start_date": ""}, 2: {"serious": "perhaps"}}
    report = run_import(world.studies["imrt"], world.users["coordinator"], kind="ae", data=_ae_rows(world, 3, bad),
                        reason="x")
    assert {(p.row, p.field) for p in report.problems} == {(1, "grade"), (1, "attribution"), (1, "start_date"),
                                                           (2, "serious")}


def test_file_level_problems_refuse_before_any_row(world):
    imrt, coordinator = world.studies["imrt"], world.users["coordinator"]
    unknown = _csv([{"subject_id": "x", "weight": "60"}], ["subject_id", "weight"])
    report = run_import(imrt, coordinator, kind="baseline", data=unknown, reason="x")
    assert [(p.row, p.field) for p in report.problems] == [(0, "weight")]
    latin = "subject_id,notes\nNPC-GZ-001,vu à l'hôpital\n".encode("latin-1")
    assert run_import(imrt, coordinator, kind="followup", data=latin, reason="x").problems[0].field == "file"
    with pytest.raises(Exception, match="reason"):
        run_import(imrt, coordinator, kind="ae", data=_ae_rows(world, 1, {}), reason=" ")


def test_rows_are_checked_against_the_subject_the_site_and_the_importer_rights(world):
    imrt = world.studies["imrt"]
    b = world.subjects[("imrt", "B")].subject_id
    rows = [{"subject_id": b, "site": "HK", **AE}, {"subject_id": "NPC-XX-999", **AE},
            {"subject_id": world.subjects[("imrt", "A")].subject_id, "site": "HK", **AE}]
    report = run_import(imrt, world.users["coordinator"], kind="ae", data=_csv(rows, form_columns("ae")), reason="x")
    assert [(p.row, p.field) for p in report.problems] == [(1, "subject_id"), (2, "subject_id"), (3, "site")]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_import(imrt, world.users["monitor"], kind="ae", data=_ae_rows(world, 1, {}), reason="x")


def test_update_mode_changes_the_named_record_with_the_optimistic_lock(world):
    record = save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
                                      "t_category": "T3", "n_category": "N1", "m_category": "M0"})
    dm = login(Client(), "data_manager")
    exported = dm.get(f"/studies/{world.studies['imrt'].pk}/clinical/exports/baseline.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert len(rows) == 1 and rows[0]["weight_kg"] == "60.0"
    rows[0]["weight_kg"] = "58.5"
    data = _csv(rows, list(rows[0]))
    report = run_import(world.studies["imrt"], world.users["coordinator"], kind="baseline", data=data,
                        reason="weights re-measured", mode="update")
    assert report.applied and report.updated == 1, report.problems
    record.refresh_from_db()
    assert record.weight_kg == 58.5 and record.bsa_m2 != 0 and record.version == 2
    assert "derived columns recomputed" in report.notes[0]
    stale = run_import(world.studies["imrt"], world.users["coordinator"], kind="baseline", data=data,
                       reason="again", mode="update")  # the file still says version 1
    assert not stale.applied and stale.problems[0].field == "version"


def test_screening_rows_are_screened_and_enrolled_as_on_the_pages(world):
    imrt = world.studies["imrt"]
    cols = ["site", "screening_date", "outcome", "subject_id", "consent_date", "consent_version", "enrolment_date",
            *IMRT_ELIGIBLE]
    good = {"site": "GZ", "screening_date": "2026-01-02", "outcome": "eligible", "consent_date": "2026-01-04",
            "consent_version": "1.0", "enrolment_date": "2026-01-05", **{k: str(v) for k, v in IMRT_ELIGIBLE.items()}}
    rows = [good, {**good, "hb": "lots", "ecog": "7"}, {**good, "outcome": "ineligible"},
            {**good, "subject_id": "NPC-GZ-077"}]
    report = run_import(imrt, world.users["coordinator"], kind="screening", data=_csv(rows, cols), reason="x")
    assert [(p.row, p.field) for p in report.problems] == [(2, "ecog"), (2, "hb"), (3, "outcome"), (4, "subject_id")]
    assert not report.applied
    ok = run_import(imrt, world.users["coordinator"], kind="screening", data=_csv([good], cols), reason="paper log")
    assert ok.applied and ok.created == 1
    subject = Subject.objects.filter(study=imrt).order_by("-pk").first()
    assert subject.enrolment_date == date(2026, 1, 5) and subject.screening.screening_date == date(2026, 1, 2)
    assert subject.history.earliest().history_change_reason == "paper log"


def test_import_page_and_api_report_the_problems(world):
    imrt = world.studies["imrt"]
    c = login(Client(), "coordinator")
    page = c.post(f"/studies/{imrt.pk}/clinical/import/", {
        "kind": "ae", "mode": "create", "reason": "paper CRFs",
        "file": SimpleUploadedFile("ae.csv", _ae_rows(world, 50, BAD), content_type="text/csv")})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'data-applied="false"' in html and 'data-problems="3"' in html
    assert 'data-row="7" data-field="grade"' in html and 'data-row="41" data-field="start_date"' in html
    api = c.post(f"/api/v1/studies/{imrt.pk}/imports", {"kind": "ae", "reason": "paper CRFs",
                                                        "file": SimpleUploadedFile("ae.csv", _ae_rows(world, 5, {}))})
    assert api.status_code == 201 and api.json()["created"] == 5
    refused = c.post(f"/api/v1/studies/{imrt.pk}/imports", {"kind": "ae", "reason": "x",
                                                            "file": SimpleUploadedFile("a.csv", _ae_rows(world, 4, {
                                                                2: {"grade": "9"}}))})
    assert refused.status_code == 422 and refused.json()["errors"] == [
        {"field": "grade", "row": 2, "message": refused.json()["problems"][0]["message"]}]
    assert c.post(f"/api/v1/studies/{imrt.pk}/imports", {"kind": "ae", "reason": "x"}).status_code == 422
    assert login(Client(), "monitor").get(f"/studies/{imrt.pk}/clinical/import/").status_code == 403
    assert 'id="import-link"' in c.get(f"/studies/{imrt.pk}/clinical/").content.decode()


def _export(client, study, name, fmt="csv"):
    response = client.get(f"/studies/{study.pk}/clinical/exports/{name}.{fmt}")
    assert response.status_code == 200, (name, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def _records(data: bytes, drop=("record_id", "version")) -> list[dict]:
    rows = [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(io.StringIO(data.decode()))]
    return sorted(rows, key=lambda r: sorted(r.items()))


FORMS = ("baseline", "radiotherapy", "drug", "interruption", "lab", "ae", "rtog", "followup", "event")


def _rekey(data: bytes) -> bytes:
    """Subject IDs are unique across studies: the copy's protocol numbers its subjects COPY-... where
    the original has IMRT-...; everything else of the files must be identical."""
    return data.replace(b"IMRT-", b"COPY-")


def test_export_then_import_into_a_new_study_gives_identical_data(world):
    imrt = world.studies["imrt"]
    save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62,
                             "t_category": "T3", "n_category": "N1", "m_category": "M0", "ecog": 1, "hb": 130})
    save("radiotherapy", world, dict(RT))
    save("drug", world, {"drug": "S-1", "date": date(2026, 1, 12), "planned_dose_mg": 50.0, "dose_mg": 50.0,
                         "doses_planned": 14, "doses_taken": 13})
    save("interruption", world, {"treatment": "radiotherapy", "start_date": date(2026, 1, 20),
                                 "end_date": date(2026, 1, 22), "reason": "machine service"})
    save("lab", world, {"week": 2, "sample_date": date(2026, 1, 19), "term": "platelet_count_decreased", "value": 90,
                        "unit": "10^9/L", "lln": 150, "lln_unit": "10^9/L", "grade": None})
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable", "serious": False,
                       "start_date": date(2026, 1, 26)})
    save("rtog", world, {"assessment_date": date(2026, 1, 26), "scale": "acute", "organ": "mucous_membrane",
                         "grade": 2})
    save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned", "notes": "well"})
    save("event", world, {"kind": "last_contact", "event_date": date(2026, 6, 1)}, site="B")
    from npctrial.web.clinical.declared import save_declared  # a protocol-declared form travels too

    save_declared("nutrition", world.subjects[("imrt", "A")], {
        "assessment_date": "2026-01-14", "weight_kg": "58.9", "oral_intake": "reduced", "supplements": "yes",
        "feeding_tube": "yes", "tube_type": "nasogastric", "tube_date": "2026-01-13"}, world.users["coordinator"])
    dm = login(Client(), "data_manager")
    screening_csv = _rekey(_export(dm, imrt, "screening"))
    odm = _rekey(_export(dm, imrt, "odm", "xml"))
    before = {form: _records(_rekey(_export(dm, imrt, form))) for form in FORMS}
    assert sum(len(v) for v in before.values()) == 9

    text = load_bundled_protocol_text("imrt-s1")
    assert 'subject_id_pattern: "IMRT-{site}-{seq:03d}"' in text
    copy = create_study(code="imrt-copy", yaml_text=text.replace('"IMRT-{site}', '"COPY-{site}'),
                        sites=list(world.sites.values()))
    importer = world.users["coordinator"]
    Membership.objects.create(user=importer, study=copy, role="coordinator")  # every site
    Membership.objects.create(user=world.users["data_manager"], study=copy, role="data_manager")
    first = run_import(copy, importer, kind="screening", data=screening_csv, reason="copy of imrt-s1")
    assert first.applied and first.created == 4, first.problems
    second = run_import(copy, importer, kind="odm", data=odm, reason="copy of imrt-s1")
    assert second.applied and second.created == 10, second.problems

    assert _records(_export(dm, copy, "screening")) == _records(screening_csv)  # labels, IDs, dates, values
    assert ScreeningRecord.objects.filter(study=copy).count() == 4
    for form in FORMS:
        assert _records(_export(dm, copy, form)) == before[form], form
    strip = {sid: {form: [dict(sorted(r.items())) for r in recs] for form, recs in forms.items()}
             for sid, forms in read_odm(odm).items()}
    again = {sid: {form: [dict(sorted(r.items())) for r in recs] for form, recs in forms.items()}
             for sid, forms in read_odm(_export(dm, copy, "odm", "xml")).items()}
    assert again == strip
    nutrition = [r["nutrition"] for r in read_odm(odm).values() if "nutrition" in r]
    assert nutrition == [[{"assessment_date": "2026-01-14", "weight_kg": "58.9", "oral_intake": "reduced",
                           "supplements": "true", "feeding_tube": "true", "tube_type": "nasogastric",
                           "tube_date": "2026-01-13", "weight_change_pct": "-5.0", "weight_loss_5pct": "true",
                           "bmi": "20.4"}]]  # baseline 62 kg, 170 cm: (58.9 - 62) / 62 = -5.0 %; 58.9 / 1.7^2
    assert Baseline.objects.get(subject__study=copy).history.earliest().history_change_reason == "copy of imrt-s1"


def test_the_cli_imports_and_exits_1_with_the_problems_when_refused(world, tmp_path, capsys):
    from typer.testing import CliRunner

    from npctrial.cli import app

    path = tmp_path / "ae.csv"
    path.write_bytes(_ae_rows(world, 50, BAD))
    runner = CliRunner()
    refused = runner.invoke(app, ["import", "imrt-s1", str(path), "--kind", "ae", "--reason", "paper CRFs",
                                  "--user", "coordinator"])
    assert refused.exit_code == 1, refused.output
    assert "3 problem(s)" in refused.output and "refused" in refused.output and "grade" in refused.output
    assert not AdverseEvent.objects.exists()
    done = runner.invoke(app, ["import", "imrt-s1", str(path), "--kind", "ae", "--reason", "paper CRFs",
                               "--user", "coordinator", "--partial"])
    assert done.exit_code == 1 and AdverseEvent.objects.count() == 47  # applied, problems still listed
    from npctrial.cli import main

    capsys.readouterr()
    assert main(["import", "imrt-s1", str(path), "--kind", "ae", "--reason", "x", "--user", "nobody"]) == 2
    assert "no active user 'nobody'" in capsys.readouterr().err


def test_import_route_never_answers_500(client, world):
    imrt = world.studies["imrt"]
    login(client, "coordinator")
    sent = 0
    for kind in ("ae", "screening", "odm", "nonsense", ""):
        for payload in (b"", b"\xff\xfe", b"subject_id\n" + b"x" * 3000, b"<ODM/>", b"a,a\n1,2",
                        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
                        _ae_rows(world, 2, {1: {"week": "-1", "aware_at": "yesterday"}})):
            for mode in ("create", "update", "delete"):
                response = client.post(f"/api/v1/studies/{imrt.pk}/imports", {
                    "kind": kind, "reason": "fuzz", "mode": mode, "file": SimpleUploadedFile("f", payload)})
                sent += 1
                assert response.status_code in (201, 403, 404, 422), (kind, payload[:30], mode, response.content[:200])
    assert sent == 5 * 7 * 3


def test_a_declared_forms_csv_is_imported_as_its_page_checks_it(world):
    """kind=<declared form id>: the columns of that form's export; every refused field of a row listed;
    calculated columns recomputed, not read; an unknown column refused."""
    from npctrial.web.clinical.models import DeclaredRecord

    imrt, coordinator = world.studies["imrt"], world.users["coordinator"]
    save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62,
                             "t_category": "T3", "n_category": "N1", "m_category": "M0", "ecog": 1, "hb": 130})
    sid = world.subjects[("imrt", "A")].subject_id
    good = {"subject_id": sid, "assessment_date": "2026-01-14", "weight_kg": "58.9", "oral_intake": "reduced",
            "supplements": "no", "feeding_tube": "yes", "tube_type": "nasogastric", "bmi": "99"}
    bad = {**good, "weight_kg": "400", "tube_type": ""}  # above 250 kg; a tube needs its type
    report = run_import(imrt, coordinator, kind="nutrition", data=_csv([good, bad], list(good)), reason="paper CRFs")
    assert not report.applied and report.created == 0
    assert [(p.row, p.field) for p in report.problems] == [(2, "weight_kg"), (2, "tube_type")]
    assert any("bmi" in n for n in report.notes)  # recomputed, not read
    ok = run_import(imrt, coordinator, kind="nutrition", data=_csv([good], list(good)), reason="paper CRFs")
    assert ok.applied and ok.created == 1, ok.problems
    (record,) = DeclaredRecord.objects.filter(subject__subject_id=sid)
    assert record.values["weight_kg"] == 58.9 and record.calculated["bmi"] == 20.4  # 58.9 / 1.70^2, not 99
    unknown = run_import(imrt, coordinator, kind="nutrition", data=_csv([{**good, "wieght": "1"}], [*good, "wieght"]),
                         reason="x")
    assert not unknown.applied and [p.field for p in unknown.problems] == ["wieght"]
    assert "nutrition" in import_kinds(imrt) and "nutrition" not in import_kinds(world.studies["ccrt"])
