"""Per-form access from the protocol's ``access:`` section, and de-identified exports.

The study is amended with an ``access`` section: coordinators only read baseline, monitors do not
see adverse events, statisticians export de-identified data. Expected values come from the rules
(narrow only; same shift for every date of a subject; free text dropped), not from the code.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import yaml
from django.db import models
from django.test import Client

from npctrial.domain.access import ACCESS_ROLES
from npctrial.web.clinical import crfs
from npctrial.web.clinical.export_fields import CODED_TEXT, FREE_TEXT
from npctrial.web.core.amendments import approve_amendment, propose_amendment
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.roles import ROLES
from tests.web.clinical.conftest import RT, save
from tests.web.conftest import login

ACCESS = {
    "forms": {"baseline": {"coordinator": "read"}, "ae": {"monitor": "none", "statistician": "none"}},
    "export": {"statistician": "deidentified"},
}
BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60, "t_category": "T3",
            "n_category": "N1", "m_category": "M0"}


def _amend(world, access=ACCESS):
    study = world.studies["imrt"]
    data = yaml.safe_load(load_bundled_protocol_text("imrt-s1"))
    data["version"] = "1.1"
    data["access"] = access
    version = propose_amendment(study, yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                user=world.users["study_admin"], reason="access per role")
    approve_amendment(version, user=world.users["data_manager"])
    return study


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def _url(study, name, fmt, level=""):
    return f"/studies/{study.pk}/clinical/exports/{name}.{fmt}" + (f"?level={level}" if level else "")


def test_the_protocol_roles_are_the_web_roles():
    assert set(ACCESS_ROLES) == set(ROLES)


def test_every_text_input_of_every_form_is_classified_free_text_or_coded():
    for slug, spec in crfs.CRFS.items():
        for name in spec.fields:
            field = spec.model._meta.get_field(name)
            if isinstance(field, models.CharField | models.TextField) and not field.choices:
                assert name in FREE_TEXT.get(slug, ()) or name in CODED_TEXT.get(slug, ()), (slug, name)


def test_read_access_refuses_edits_on_pages_and_api_and_hides_edit_links(world):
    study = _amend(world)
    subject = world.subjects[("imrt", "A")]
    c = login(Client(), "coordinator")
    api = f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/crf/baseline"
    refused = c.post(api, {"values": {"assessment_date": "2026-01-06", "height_cm": 170, "weight_kg": 60,
                                      "t_category": "T3", "n_category": "N1", "m_category": "M0"}},
                     content_type="application/json")
    assert refused.status_code == 403 and "read" in refused.json()["detail"]
    assert c.get(f"/studies/{study.pk}/clinical/subjects/{subject.pk}/baseline/new/").status_code == 403
    page = c.get(f"/studies/{study.pk}/clinical/subjects/{subject.pk}/").content.decode()
    assert 'id="crf-baseline"' in page and 'id="add-baseline"' not in page
    assert 'id="add-radiotherapy"' in page  # other forms are still editable
    rt = c.post(f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/crf/radiotherapy",
                {"values": {"technique": "IMRT", "total_dose_gy": 70, "fractions": 33, "start_date": "2026-01-12"}},
                content_type="application/json")
    assert rt.status_code == 201


def test_no_access_hides_the_form_from_casebook_page_and_api(world):
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 2, "attribution": "probable",
                       "start_date": date(2026, 1, 20)})
    study = _amend(world)
    subject = world.subjects[("imrt", "A")]
    monitor = login(Client(), "monitor")
    book = monitor.get(f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/casebook").json()
    assert "ae" not in book["forms"] and "baseline" in book["forms"]
    page = monitor.get(f"/studies/{study.pk}/clinical/subjects/{subject.pk}/").content.decode()
    assert 'id="crf-ae"' not in page and 'id="crf-baseline"' in page
    assert 'data-form="ae"' not in page  # not in the event x form grid either
    coordinator = login(Client(), "coordinator")
    assert "ae" in coordinator.get(f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/casebook").json()["forms"]
    assert 'data-form="ae"' in coordinator.get(f"/studies/{study.pk}/clinical/subjects/{subject.pk}/").content.decode()


def test_statistician_exports_are_de_identified_dates_shifted_per_subject_free_text_dropped(world):
    save("baseline", world, dict(BASELINE))
    save("radiotherapy", world, dict(RT))
    save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned", "notes": "Dr Li saw him"})
    save("baseline", world, {**BASELINE, "assessment_date": date(2026, 1, 9)}, site="B")
    study = _amend(world)
    stat = login(Client(), "statistician")
    response = stat.get(_url(study, "radiotherapy", "csv"))
    assert response.status_code == 200 and "-deid" in response["Content-Disposition"]
    (rt,) = _csv(response)
    shift = (date.fromisoformat(rt["start_date"]) - RT["start_date"]).days
    assert 1 <= abs(shift) <= 183
    assert (date.fromisoformat(rt["end_date"]) - RT["end_date"]).days == shift  # intervals kept
    (fu,) = _csv(stat.get(_url(study, "followup", "csv")))
    assert "notes" not in fu and (date.fromisoformat(fu["visit_date"]) - date(2026, 6, 1)).days == shift
    rows = {r["subject_id"]: r for r in _csv(stat.get(_url(study, "baseline", "csv")))}
    a, b = world.subjects[("imrt", "A")].subject_id, world.subjects[("imrt", "B")].subject_id
    assert (date.fromisoformat(rows[a]["assessment_date"]) - date(2026, 1, 6)).days == shift
    assert rows[b]["assessment_date"] != "2026-01-09"  # every subject shifted, by its own days
    long_rows = _csv(stat.get(_url(study, "followup", "long.csv")))
    assert "notes" not in {r["field"] for r in long_rows}
    odm = stat.get(_url(study, "odm", "xml"))
    assert odm.status_code == 403  # the AE form is hidden from statisticians, and ODM holds every form
    adsl = {r["usubjid"]: r for r in _csv(stat.get(_url(study, "adsl", "csv")))}
    enrolled = world.subjects[("imrt", "A")].enrolled_at.date()
    assert (date.fromisoformat(adsl[a]["enrldt"]) - enrolled).days == shift
    assert stat.get(_url(study, "adae", "csv")).status_code == 403
    # a second export gives the same shift (reproducible, nothing stored)
    (again,) = _csv(stat.get(_url(study, "radiotherapy", "csv")))
    assert again["start_date"] == rt["start_date"]


def test_full_exporters_get_the_real_data_unless_they_ask_for_de_identified(world):
    save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned", "notes": "seen in clinic"})
    study = _amend(world)
    dm = login(Client(), "data_manager")
    (full,) = _csv(dm.get(_url(study, "followup", "csv")))
    assert full["visit_date"] == "2026-06-01" and full["notes"] == "seen in clinic"
    (deid,) = _csv(dm.get(_url(study, "followup", "csv", "deidentified")))
    assert deid["visit_date"] != "2026-06-01" and "notes" not in deid
    odm = dm.get(_url(study, "odm", "xml", "deidentified"))
    body = b"".join(odm.streaming_content).decode()
    assert "2026-06-01" not in body and "seen in clinic" not in body and 'IT.followup.notes"' not in body
    screening = _csv(dm.get(f"/studies/{study.pk}/export/screening.csv?level=deidentified"))
    real = _csv(dm.get(f"/studies/{study.pk}/export/screening.csv"))
    assert [r["screening"] for r in screening] == [r["screening"] for r in real]
    assert all(s["screened_at"] != r["screened_at"] for s, r in zip(screening, real, strict=True))
    assert login(Client(), "coordinator").get(_url(study, "followup", "csv")).status_code == 403


def test_dates_removed_when_the_protocol_says_so(world):
    save("radiotherapy", world, dict(RT))
    study = _amend(world, {"export": {"statistician": "deidentified"}, "deidentification": {"dates": "remove"}})
    (rt,) = _csv(login(Client(), "statistician").get(_url(study, "radiotherapy", "csv")))
    assert "start_date" not in rt and "end_date" not in rt
    assert float(rt["total_dose_gy"]) == 70.0 and rt["bed_gy10"]  # derived values stay


@pytest.mark.parametrize("form", ["baseline", "ae"])
def test_export_page_lists_only_readable_forms(world, form):
    study = _amend(world)
    page = login(Client(), "statistician").get(f"/studies/{study.pk}/clinical/exports/").content.decode()
    listed = f"/exports/{form}.csv" in page
    assert listed is (form == "baseline")
    assert 'id="deid-only"' in page and 'id="hidden-forms"' in page
