"""Inputs the page and API fuzz tests found answering HTTP 500, each pinned at its smallest form."""

from __future__ import annotations

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
