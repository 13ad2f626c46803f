"""Clinical-workflow fixtures on top of the core two-site world (tests/web/conftest.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import World, login, make_world  # noqa: F401


def url(route: str, world: World, study: str = "imrt", site: str = "A", **kw: Any) -> str:
    s = world.studies[study].pk
    if route in ("clinical-home", "study-lock", "study-report", "study-report-pdf", "export-index", "export-file"):
        return reverse(route, kwargs={"study_pk": s, **kw})
    return reverse(route, kwargs={"study_pk": s, "pk": world.subjects[(study, site)].pk, **kw})


def post_crf(client: Client, world: World, form: str, data: dict[str, Any], study: str = "imrt", site: str = "A",
             record_pk: int | None = None) -> Any:
    if record_pk is None:
        return client.post(url("crf-new", world, study, site, form=form), data)
    return client.post(url("crf-edit", world, study, site, form=form, record_pk=record_pk), data)


def save(form: str, world: World, values: dict[str, Any], study: str = "imrt", site: str = "A",
         lesions: list[dict[str, Any]] | None = None) -> Any:
    """Create a record through the service (as the site's coordinator)."""
    from npctrial.web.clinical.crfs import save_crf

    user = world.users["coordinator" if site == "A" else "coordinator_b"]
    record, _ = save_crf(form, world.subjects[(study, site)], values, user, lesions=lesions)
    return record


RT = {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33, "start_date": date(2026, 1, 12),
      "end_date": date(2026, 2, 27), "delivered_fractions": 33}


@pytest.fixture
def coordinator(world: World) -> Client:
    return login(Client(), "coordinator")
