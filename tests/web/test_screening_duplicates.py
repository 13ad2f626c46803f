"""Duplicate screenings: the page and the API refuse the same person with the same field-level error,
accept a confirmed re-screening, and never enrol one person twice (rule: domain.screening_identity)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from npctrial.errors import ValidationError
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import ScreeningRecord
from npctrial.web.core.screening import create_screening
from tests.web.conftest import IMRT_ELIGIBLE, login

pytestmark = pytest.mark.django_db

PERSON = {"initials": "zw", "birth_date": "1970-03-04"}
INELIGIBLE = {**IMRT_ELIGIBLE, "hb": 80}


def _form(values: dict, **extra: str) -> dict:
    data = {k: ("true" if v is True else "false" if v is False else v) for k, v in values.items()}
    return {**data, "site": "GZ", **extra}


def _page(client, study, data) -> tuple[int, dict]:
    """(status, {field: [errors]}) of a new screening posted through the page."""
    response = client.post(reverse("screening-new", kwargs={"study_pk": study.pk}), data)
    form = response.context["form"] if response.status_code != 302 else None
    return response.status_code, (dict(form.errors) if form is not None else {})


def _api(client, study, body) -> tuple[int, dict]:
    response = client.post(f"/api/v1/studies/{study.pk}/screenings", json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def _api_fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


@pytest.fixture
def earlier(world):
    """ZW born 1970-03-04, screened ineligible at GZ on 2026-01-10."""
    return create_screening(world.studies["imrt"], world.sites["A"], INELIGIBLE, world.users["coordinator"],
                            screening_date=date(2026, 1, 10), identity={**PERSON, "hospital_number": "ZY-77"})


def test_identity_is_stored_upper_cased(world, earlier):
    assert (earlier.initials, earlier.birth_date, earlier.hospital_number) == ("ZW", date(1970, 3, 4), "ZY-77")
    assert earlier.rescreen_of is None


def test_same_person_refused_on_the_page_and_the_api_with_the_same_field(client, world, earlier):
    login(client, "coordinator")
    study = world.studies["imrt"]
    status, errors = _page(client, study, _form(IMRT_ELIGIBLE, initials="ZW", birth_date="1970-03-04"))
    assert status == 400 and set(errors) == {"initials"}
    assert "S-GZ-" in errors["initials"][0] and "2026-01-10" in errors["initials"][0]
    assert f"ID {earlier.pk}" in errors["initials"][0] and "GZ" in errors["initials"][0]
    status, body = _api(client, study, {"site": "GZ", "values": IMRT_ELIGIBLE, "initials": "Zw",
                                        "birth_date": "1970-03-04"})
    assert status == 422 and _api_fields(body) == {"initials"} and str(earlier) in body["detail"]
    assert ScreeningRecord.objects.filter(study=study, initials="ZW").count() == 1  # nothing was stored


def test_same_person_at_another_site_is_detected(client, world, earlier):
    login(client, "coordinator_b")
    status, body = _api(client, world.studies["imrt"], {"site": "HK", "values": IMRT_ELIGIBLE, **PERSON})
    assert status == 422 and _api_fields(body) == {"initials"} and "site GZ" in body["detail"]


def test_same_hospital_number_at_the_same_site_is_detected_on_its_field(client, world, earlier):
    login(client, "coordinator")
    other = {"initials": "LM", "birth_date": "1981-01-01", "hospital_number": " zy-77 "}
    status, errors = _page(client, world.studies["imrt"], _form(IMRT_ELIGIBLE, **other))
    assert status == 400 and set(errors) == {"hospital_number"}
    status, body = _api(client, world.studies["imrt"], {"site": "GZ", "values": IMRT_ELIGIBLE, **other})
    assert status == 422 and _api_fields(body) == {"hospital_number"}


def test_a_day_apart_or_another_study_is_not_a_duplicate(client, world, earlier):
    login(client, "coordinator")
    status, body = _api(client, world.studies["imrt"], {"site": "GZ", "values": IMRT_ELIGIBLE, "initials": "ZW",
                                                        "birth_date": "1970-03-05"})
    assert status == 201, body
    status, body = _api(client, world.studies["ccrt"], {"site": "GZ", "values": {}, **PERSON})
    assert status == 201, body  # the rule is per study


def test_confirmed_rescreening_is_stored_with_its_link(client, world, earlier):
    login(client, "coordinator")
    study = world.studies["imrt"]
    status, errors = _page(client, study, _form(IMRT_ELIGIBLE, **PERSON, rescreen_of=str(earlier.pk)))
    assert status == 400 and set(errors) == {"rescreen_reason"}  # a re-screening needs its reason
    status, body = _api(client, study, {"site": "GZ", "values": IMRT_ELIGIBLE, **PERSON, "rescreen_of": earlier.pk})
    assert status == 422 and _api_fields(body) == {"rescreen_reason"}
    status, _errors = _page(client, study, _form(IMRT_ELIGIBLE, **PERSON, rescreen_of=str(earlier.pk),
                                                 rescreen_reason="Hb recovered after transfusion"))
    assert status == 302
    again = ScreeningRecord.objects.get(study=study, rescreen_of=earlier)
    assert again.rescreen_reason == "Hb recovered after transfusion" and again.outcome == "eligible"
    status, body = _api(client, study, {"site": "GZ", "values": IMRT_ELIGIBLE, **PERSON, "rescreen_of": again.pk,
                                        "rescreen_reason": "third screening"})
    assert status == 201 and body["rescreen_of"] == again.pk and body["initials"] == "ZW"


@pytest.mark.parametrize("bad", [0, -1, 2**40, "abc"])
def test_unknown_rescreen_link_is_a_field_error_in_both(client, world, earlier, bad):
    login(client, "coordinator")
    study = world.studies["imrt"]
    status, errors = _page(client, study, _form(IMRT_ELIGIBLE, **PERSON, rescreen_of=str(bad), rescreen_reason="x"))
    assert status == 400 and "rescreen_of" in errors
    status, body = _api(client, study, {"site": "GZ", "values": IMRT_ELIGIBLE, **PERSON, "rescreen_of": bad,
                                        "rescreen_reason": "x"})
    assert status == 422 and _api_fields(body) == {"rescreen_of"}


def test_rescreen_link_to_another_person_is_refused(client, world, earlier):
    login(client, "coordinator")
    status, body = _api(client, world.studies["imrt"], {"site": "GZ", "values": IMRT_ELIGIBLE, "initials": "AB",
                                                        "birth_date": "1990-01-01", "rescreen_of": earlier.pk,
                                                        "rescreen_reason": "x"})
    assert status == 422 and _api_fields(body) == {"rescreen_of"}


@pytest.mark.parametrize(("field", "value"), [("initials", "Z"), ("initials", "张伟"), ("initials", "ABCDE"),
                                              ("birth_date", "1899-12-31"), ("birth_date", "2999-01-01"),
                                              ("hospital_number", "x" * 41)])
def test_bad_identity_refused_with_the_same_field_in_both(client, world, field, value):
    login(client, "coordinator")
    study = world.studies["imrt"]
    status, errors = _page(client, study, _form(IMRT_ELIGIBLE, **{**PERSON, field: value}))
    assert status == 400 and set(errors) == {field}
    status, body = _api(client, study, {"site": "GZ", "values": IMRT_ELIGIBLE, **PERSON, field: value})
    assert status == 422 and _api_fields(body) == {field}


def test_birth_date_after_the_screening_date_is_refused(client, world):
    login(client, "coordinator")
    status, body = _api(client, world.studies["imrt"], {"site": "GZ", "values": IMRT_ELIGIBLE, **PERSON,
                                                        "birth_date": "2026-01-02", "screening_date": "2026-01-01"})
    assert status == 422 and _api_fields(body) == {"birth_date"}


def test_an_enrolled_person_is_never_screened_or_enrolled_again(client, world):
    study, site, user = world.studies["imrt"], world.sites["A"], world.users["coordinator"]
    first = create_screening(study, site, IMRT_ELIGIBLE, user, identity=PERSON)
    subject = enrol(first, consent_date=date.today(), consent_version="1.0", user=user)
    login(client, "coordinator")
    status, body = _api(client, study, {"site": "GZ", "values": IMRT_ELIGIBLE, **PERSON, "rescreen_of": first.pk,
                                        "rescreen_reason": "again"})
    assert status == 422 and _api_fields(body) == {"initials"} and subject.subject_id in body["detail"]


def test_two_eligible_screenings_of_one_person_enrol_once(world):
    study, site, user = world.studies["imrt"], world.sites["A"], world.users["coordinator"]
    first = create_screening(study, site, IMRT_ELIGIBLE, user, identity=PERSON)
    second = create_screening(study, site, IMRT_ELIGIBLE, user, identity={**PERSON, "rescreen_of": first.pk,
                                                                           "rescreen_reason": "repeat labs"})
    enrol(second, consent_date=date.today(), consent_version="1.0", user=user)
    with pytest.raises(ValidationError) as err:
        enrol(first, consent_date=date.today(), consent_version="1.0", user=user)
    assert err.value.field == "screening"
    assert not hasattr(ScreeningRecord.objects.get(pk=first.pk), "subject")


def test_a_legacy_screening_without_identity_can_be_linked(world):
    legacy = world.screenings[("imrt", "A")]  # recorded without initials or birth date
    again = create_screening(world.studies["imrt"], world.sites["A"], IMRT_ELIGIBLE, world.users["coordinator"],
                             identity={**PERSON, "rescreen_of": legacy.pk, "rescreen_reason": "identity now kept"})
    assert again.rescreen_of == legacy
