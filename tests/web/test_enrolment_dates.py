"""Screening, enrolment and randomisation dates are entered (default today), through the pages and the API.

Never in the future, enrolment never before consent or screening, randomisation never before
enrolment (npctrial.domain.timeline). The recorded moment (``*_at``) is kept separately.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from npctrial.web.core.models import Randomisation, ScreeningRecord, Subject
from npctrial.web.core.screening import create_screening
from tests.web.conftest import CCRT_ELIGIBLE, IMRT_ELIGIBLE, login

TODAY = timezone.localdate()


def _screening(world, study="imrt", values=IMRT_ELIGIBLE, day=date(2026, 4, 1)):
    return create_screening(world.studies[study], world.sites["A"], values, world.users["coordinator"],
                            screening_date=day)


def _enrol_page(client, world, record, **data):
    url = reverse("screening-enrol", kwargs={"study_pk": record.study_id, "pk": record.pk})
    return client.post(url, {"consent_version": "1.0", **data}, follow=True)


def _enrol_api(client, record, **data):
    url = f"/api/v1/studies/{record.study_id}/screenings/{record.pk}/enrol"
    return client.post(url, {"consent_version": "1.0", **data}, content_type="application/json")


def test_back_dated_enrolment_through_the_page_keeps_the_entered_date(world):
    client = login(Client(), "coordinator")
    record = _screening(world)
    response = _enrol_page(client, world, record, consent_date="2026-04-02", enrolment_date="2026-04-03")
    subject = Subject.objects.get(screening=record)
    assert subject.enrolment_date == date(2026, 4, 3)
    assert subject.enrolled_at.date() == timezone.now().date()  # recorded today, enrolled in April
    assert b'id="enrolment-date">2026-04-03<' in response.content


def test_enrolment_date_defaults_to_today(world):
    client = login(Client(), "coordinator")
    record = _screening(world)
    _enrol_page(client, world, record, consent_date="2026-04-02")
    assert Subject.objects.get(screening=record).enrolment_date == TODAY
    record2 = _screening(world)
    assert _enrol_api(client, record2, consent_date="2026-04-02").json()["enrolment_date"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("consent", "enrolment", "field", "text"),
    [
        ("2026-04-02", (TODAY + timedelta(days=1)).isoformat(), "enrolment_date", "future"),
        ("2026-04-02", "2026-04-01", "enrolment_date", "before the consent date"),
        ("2026-03-01", "2026-03-31", "enrolment_date", "before the screening date"),
        ((TODAY + timedelta(days=1)).isoformat(), TODAY.isoformat(), "consent_date", "future"),
    ],
)
def test_impossible_enrolment_dates_are_refused_by_page_and_api(world, consent, enrolment, field, text):
    client = login(Client(), "coordinator")
    record = _screening(world)
    page = _enrol_page(client, world, record, consent_date=consent, enrolment_date=enrolment)
    assert not Subject.objects.filter(screening=record).exists()
    assert text in page.content.decode()
    api = _enrol_api(client, record, consent_date=consent, enrolment_date=enrolment)
    assert api.status_code == 422
    assert api.json()["errors"][0]["field"] == field
    assert not Subject.objects.filter(screening=record).exists()


def test_future_screening_date_is_refused_by_page_and_api(world):
    client = login(Client(), "coordinator")
    study = world.studies["imrt"]
    future = (TODAY + timedelta(days=3)).isoformat()
    before = ScreeningRecord.objects.count()
    page = client.post(reverse("screening-new", kwargs={"study_pk": study.pk}),
                       {"site": "GZ", "screening_date": future, **{k: _form_value(v) for k, v in IMRT_ELIGIBLE.items()}})
    assert page.status_code == 400 and "future" in page.content.decode()
    api = client.post(f"/api/v1/studies/{study.pk}/screenings", {"site": "GZ", "values": IMRT_ELIGIBLE,
                                                                 "screening_date": future},
                      content_type="application/json")
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "screening_date"
    ok = client.post(f"/api/v1/studies/{study.pk}/screenings", {"site": "GZ", "values": IMRT_ELIGIBLE,
                                                                "screening_date": "2026-03-30"},
                     content_type="application/json")
    assert ok.status_code == 201 and ok.json()["screening_date"] == "2026-03-30"
    assert ScreeningRecord.objects.count() == before + 1


def _form_value(v):
    return ("true" if v else "false") if isinstance(v, bool) else v


def _unrandomised(world):
    record = _screening(world, "ccrt", CCRT_ELIGIBLE)
    from npctrial.web.core.enrolment import enrol

    return enrol(record, consent_date=date(2026, 4, 2), consent_version="1.0", user=world.users["coordinator"],
                 enrolment_date=date(2026, 4, 3))


def test_randomisation_date_through_the_page(world):
    client = login(Client(), "coordinator")
    subject = _unrandomised(world)
    url = reverse("subject-randomise", kwargs={"study_pk": subject.study_id, "pk": subject.pk})
    client.post(url, {"randomisation_date": "2026-04-02", "confirm": "yes"})
    assert not Randomisation.objects.filter(subject=subject).exists()  # before enrolment
    client.post(url, {"randomisation_date": (TODAY + timedelta(days=1)).isoformat(), "confirm": "yes"})
    assert not Randomisation.objects.filter(subject=subject).exists()  # future
    page = client.post(url, {"randomisation_date": "2026-04-04"})  # the confirmation page first
    assert page.status_code == 200 and not Randomisation.objects.filter(subject=subject).exists()
    assert b"Randomisation date: 2026-04-04" in page.content
    response = client.post(url, {"randomisation_date": "2026-04-04", "confirm": "yes"}, follow=True)
    assert Randomisation.objects.get(subject=subject).randomisation_date == date(2026, 4, 4)
    assert b'id="randomisation-date">2026-04-04<' in response.content


def test_randomisation_date_through_the_api(world):
    client = login(Client(), "coordinator")
    subject = _unrandomised(world)
    url = f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/randomise"
    bad = client.post(url, {"randomisation_date": "2026-04-02"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "randomisation_date"
    good = client.post(url, {"randomisation_date": "2026-04-05"}, content_type="application/json")
    assert good.status_code == 201 and good.json()["randomisation_date"] == "2026-04-05"
    detail = client.get(f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}").json()
    assert detail["randomisation_date"] == "2026-04-05" and detail["enrolment_date"] == "2026-04-03"


def test_randomisation_without_a_body_defaults_to_today(world):
    client = login(Client(), "coordinator")
    subject = _unrandomised(world)
    url = f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/randomise"
    response = client.post(url, content_type="application/json")
    assert response.status_code == 201 and response.json()["randomisation_date"] == TODAY.isoformat()
