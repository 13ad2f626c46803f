"""The screening log page and its CSV/XLSX downloads: date order, identity, outcome, site scoping, audit,
identifiers never in a de-identified file."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import AuditEvent
from npctrial.web.core.screening import create_screening
from tests.web.conftest import IMRT_ELIGIBLE, login

pytestmark = pytest.mark.django_db

INELIGIBLE = {**IMRT_ELIGIBLE, "hb": 80, "platelets": 50}


@pytest.fixture
def log(world):
    """At GZ: LM screened 2026-02-01 (ineligible), re-screened 2026-02-20 and enrolled; at HK: QX on 2026-01-15."""
    study, gz, hk = world.studies["imrt"], world.sites["A"], world.sites["B"]
    user, user_b = world.users["coordinator"], world.users["coordinator_b"]
    person = {"initials": "LM", "birth_date": "1960-02-29", "hospital_number": "GZ-998"}
    failed = create_screening(study, gz, INELIGIBLE, user, screening_date=date(2026, 2, 1), identity=person)
    again = create_screening(study, gz, IMRT_ELIGIBLE, user, screening_date=date(2026, 2, 20),
                             identity={**person, "rescreen_of": failed.pk, "rescreen_reason": "platelets recovered"})
    subject = enrol(again, consent_date=date(2026, 2, 21), consent_version="1.0", user=user,
                    enrolment_date=date(2026, 2, 21))
    other = create_screening(study, hk, IMRT_ELIGIBLE, user_b, screening_date=date(2026, 1, 15),
                             identity={"initials": "QX", "birth_date": "1980-07-01"})
    return {"study": study, "failed": failed, "again": again, "subject": subject, "other": other}


def _page(client, study, query=""):
    return client.get(reverse("screening-log", kwargs={"study_pk": study.pk}) + query).content.decode()


def _csv(client, study, query=""):
    response = client.get(reverse("screening-log-export", kwargs={"study_pk": study.pk, "fmt": "csv"}) + query)
    assert response.status_code == 200, response.content[:300]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_page_shows_every_screening_in_date_order_with_identity_and_outcome(client, world, log):
    login(client, "data_manager")
    html = _page(client, log["study"])
    positions = [html.index(f'data-screening="{r.pk}"') for r in (log["other"], log["failed"], log["again"])]
    assert positions == sorted(positions)  # 2026-01-15 (HK), 2026-02-01, 2026-02-20
    assert "LM" in html and "1960-02-29 (65)" in html  # 29 Feb birthday: 66 only from 1 March 2026
    assert f"enrolled as {log['subject'].subject_id}" in html
    assert f"re-screening of {log['failed']} (#{log['failed'].pk})" in html
    row = html[html.index(f'data-screening="{log["failed"].pk}"'):]
    row = row[:row.index("</tr>")]
    assert "not eligible" in row and "I5" in row and "I6" in row
    legacy = html[html.index(f'data-screening="{world.screenings[("imrt", "A")].pk}"'):]
    assert legacy[:legacy.index("</tr>")].count("not recorded") == 2  # initials and birth date, never invented


def test_site_role_sees_only_its_site_and_the_filter_narrows(client, world, log):
    login(client, "coordinator_b")
    html = _page(client, log["study"])
    assert f'data-screening="{log["other"].pk}"' in html and f'data-screening="{log["failed"].pk}"' not in html
    assert f'data-screening="{log["failed"].pk}"' not in _page(client, log["study"], "?site=GZ")  # not its site
    login(client, "data_manager")
    html = _page(client, log["study"], "?site=HK")
    assert f'data-screening="{log["other"].pk}"' in html and f'data-screening="{log["failed"].pk}"' not in html


def test_csv_has_the_log_columns_in_date_order_and_is_audited(client, world, log):
    login(client, "data_manager")
    rows = [r for r in _csv(client, log["study"]) if r["initials"]]
    assert [r["screening"] for r in rows] == [str(log["other"]), str(log["failed"]), str(log["again"])]
    failed, again = rows[1], rows[2]
    assert (failed["initials"], failed["birth_date"], failed["age"], failed["hospital_number"]) == \
        ("LM", "1960-02-29", "65", "GZ-998")
    assert failed["status"] == "ineligible" and failed["failed_criteria"] == "I5;I6"
    assert again["status"] == "enrolled" and again["subject_id"] == log["subject"].subject_id
    assert again["rescreen_of"] == str(log["failed"]) and again["rescreen_reason"] == "platelets recovered"
    event = AuditEvent.objects.filter(action="export", form="screening_log").get()
    assert event.details["format"] == "csv" and event.details["sites"] == ["GZ", "HK"]
    assert event.user == world.users["data_manager"]


def test_csv_of_one_site(client, world, log):
    login(client, "data_manager")
    rows = _csv(client, log["study"], "?site=HK")
    assert {r["site"] for r in rows} == {"HK"} and str(log["other"]) in {r["screening"] for r in rows}


def test_deidentified_csv_has_no_identifiers_and_shifted_dates(client, world, log):
    login(client, "data_manager")
    rows = _csv(client, log["study"], "?level=deidentified")
    assert rows and not {"initials", "birth_date", "hospital_number", "rescreen_reason"} & set(rows[0])
    assert "age" in rows[0]
    shifted = next(r for r in rows if r["screening"] == str(log["other"]))
    assert shifted["screening_date"] != "2026-01-15"


def test_xlsx_opens_with_the_same_rows(client, world, log):
    from openpyxl import load_workbook

    login(client, "statistician")
    response = client.get(reverse("screening-log-export", kwargs={"study_pk": log["study"].pk, "fmt": "xlsx"}))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["screening", "site", "screening_date", "initials"]
    assert sheet.max_row == 1 + log["study"].screenings.count()


def test_export_needs_the_export_right_and_a_known_format(client, world, log):
    login(client, "coordinator")
    url = reverse("screening-log-export", kwargs={"study_pk": log["study"].pk, "fmt": "csv"})
    assert client.get(url).status_code == 403
    login(client, "data_manager")
    assert client.get(reverse("screening-log-export", kwargs={"study_pk": log["study"].pk, "fmt": "pdf"})).status_code \
        == 404
    assert not AuditEvent.objects.filter(action="export").exists()
