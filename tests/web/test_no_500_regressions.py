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
