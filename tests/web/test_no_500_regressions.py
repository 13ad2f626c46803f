"""Inputs the page and API fuzz tests found answering HTTP 500, each pinned at its smallest form."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from tests.web.conftest import World, login


def test_screening_post_without_a_site_shows_the_site_error_and_every_field_error(world: World):
    client = login(Client(), "coordinator")
    url = reverse("screening-new", kwargs={"study_pk": world.studies["imrt"].pk})
    for data in ({}, {"t_category": "T9"}, {"site": "XX", "height_cm": "NaN"}):
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert b"choose one of your sites" in response.content, data
    assert b"T9" in client.post(url, {"site": "XX", "t_category": "T9"}).content  # field errors shown too


def _fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_api_protocol_problems_name_the_protocol_yaml_field(world: World):
    from django.contrib.auth import get_user_model

    from npctrial.web.core.protocols import load_bundled_protocol_text

    admin = login(Client(), "study_admin")
    url = f"/api/v1/studies/{world.studies['imrt'].pk}/amendments"
    for text in ("2026-01-06T25:00", "id: [unclosed", "id: other-protocol\n"):
        response = admin.post(url, {"protocol_yaml": text, "reason": "typo"}, content_type="application/json")
        assert response.status_code == 422, text
        assert _fields(response) == {"protocol_yaml"}, (text, response.json())
    same = admin.post(url, {"protocol_yaml": load_bundled_protocol_text("imrt-s1"), "reason": "no change"},
                      content_type="application/json")
    assert same.status_code == 422 and _fields(same) == {"protocol_yaml"}
    get_user_model().objects.create_superuser("root", password="x-long-password-1")
    root = login(Client(), "root")
    created = root.post("/api/v1/studies", {"code": "NEW", "protocol_yaml": "- a list"}, content_type="application/json")
    assert created.status_code == 422 and _fields(created) == {"protocol_yaml"}, created.json()


def test_a_next_that_is_not_a_path_goes_back_to_the_subject(world: World):
    client = login(Client(), "data_manager")
    study, subject = world.studies["imrt"].pk, world.subjects[("imrt", "A")].pk
    url = reverse("query-raise", kwargs={"study_pk": study, "pk": subject})
    back = reverse("subject-detail", kwargs={"study_pk": study, "pk": subject})
    for nxt in ("-1000", "subject-detail", "汉字", "//evil.example/", "https://evil.example/"):
        response = client.post(url, {"field_name": "t_category", "text": "check", "next": nxt})
        assert (response.status_code, response["Location"]) == (302, back), nxt
    casebook = reverse("casebook", kwargs={"study_pk": study, "pk": subject})
    assert client.post(url, {"field_name": "t_category", "text": "c", "next": casebook})["Location"] == casebook


def test_an_edit_conflict_on_a_crf_record_answers_409_with_both_versions(world: World):
    from tests.web.clinical.conftest import save
    from tests.web.fuzz_world import CRF_VALUES

    record = save("baseline", world, dict(CRF_VALUES["baseline"]))
    client = login(Client(), "coordinator")
    url = (f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}"
           f"/crf/baseline/{record.pk}")
    response = client.patch(url, {"values": {"weight_kg": 61}, "version": record.version - 1, "reason": "typo"},
                            content_type="application/json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["current_version"] == record.version and body["your_version"] == record.version - 1
    weight = next(f for f in body["fields"] if f["field"] == "weight_kg")
    assert (weight["submitted"], weight["current"]) == (61, 62)
    assert all(isinstance(f["current"], str | int | float | bool | type(None)) for f in body["fields"])


def test_an_edit_conflict_answers_json_whatever_the_values_are(world: World):
    """Conflict rows may hold dates, users or decimals (derived and audit fields): the 409 is still JSON."""
    from datetime import date
    from decimal import Decimal

    from django.test import RequestFactory

    from npctrial.web.api import _on_conflict
    from npctrial.web.core.locking import ConflictRow, EditConflict

    record = world.screenings[("imrt", "A")]
    user = world.users["coordinator"]
    rows = [ConflictRow("created_by", None, user), ConflictRow("day", date(2026, 1, 5), date(2026, 1, 6)),
            ConflictRow("dose", Decimal("1.5"), {"a": [date(2026, 1, 1)]})]
    response = _on_conflict(RequestFactory().get("/"), EditConflict(record, record.version - 1, rows))
    assert response.status_code == 409
    fields = {f["field"]: (f["submitted"], f["current"]) for f in json.loads(response.content)["fields"]}
    assert fields == {"created_by": (None, "coordinator"), "day": ("2026-01-05", "2026-01-06"),
                      "dose": ("1.5", {"a": ["2026-01-01"]})}


def test_api_screening_with_a_nul_in_the_site_names_the_site_field(world: World):
    # PostgreSQL cannot compare text with NUL: the site lookup answered HTTP 500 (schemathesis on PostgreSQL)
    client = login(Client(), "coordinator")
    url = f"/api/v1/studies/{world.studies['imrt'].pk}/screenings"
    response = client.post(url, {"site": "G\x00Z", "values": {}}, content_type="application/json")
    assert response.status_code == 422
    assert _fields(response) == {"site"}
    assert "NUL" in response.json()["errors"][0]["message"]
