"""Who may use the lab panel and the reference ranges: site scope (404) and role (403), pages and API alike."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from npctrial.web.clinical.models import LabReferenceRange, LabResult
from tests.web.clinical.test_lab_panel import D, panel_data, panel_url, ranges
from tests.web.clinical.test_lab_panel_api import api, body
from tests.web.conftest import World, login

RANGE = {"site": "GZ", "analyte": "alt", "unit": "U/L", "uln": 40, "effective_from": "2026-01-01"}


def _post_json(client: Client, url: str, data: dict) -> int:
    return client.post(url, json.dumps(data), content_type="application/json").status_code


def _grade_url(world: World, site: str = "A") -> str:
    return reverse("lab-panel-grade", kwargs={"study_pk": world.studies["imrt"].pk,
                                              "pk": world.subjects[("imrt", site)].pk})


def test_a_site_b_coordinator_cannot_reach_a_site_a_subject(world):
    ranges(world)
    b = login(Client(), "coordinator_b")
    assert b.get(panel_url(world, site="A")).status_code == 404
    assert b.post(panel_url(world, site="A"), panel_data({"alt": ("50", "U/L")})).status_code == 404
    assert b.post(_grade_url(world, "A"), {"analyte": "alt", "alt-value": "50", "alt-unit": "U/L",
                                           "sample_date": D.isoformat()}).status_code == 404
    assert _post_json(b, api(world, site="A"), body({"alt": (50, "U/L")})) == 404
    assert b.get(api(world, site="A")).status_code == 404
    assert LabResult.objects.count() == 0


def test_a_site_b_coordinator_sees_only_site_b_ranges_and_cannot_add_any(world):
    ranges(world, site="A", rows=[("alt", "U/L", None, 40)])
    ranges(world, site="B", rows=[("alt", "U/L", None, 45)])
    study = world.studies["imrt"]
    b = login(Client(), "coordinator_b")
    listed = b.get(f"/api/v1/studies/{study.pk}/lab-ranges").json()["ranges"]
    assert [(r["site"], r["uln"]) for r in listed] == [("HK", 45)]
    assert b.get(f"/api/v1/studies/{study.pk}/lab-ranges", {"site": "GZ"}).json()["ranges"] == []
    page = b.get(reverse("lab-ranges", kwargs={"study_pk": study.pk})).content.decode()
    assert 'data-site="HK"' in page and 'data-site="GZ"' not in page and 'id="range-form"' not in page
    assert _post_json(b, f"/api/v1/studies/{study.pk}/lab-ranges", RANGE) == 404  # site A is not in B's scope
    assert _post_json(b, f"/api/v1/studies/{study.pk}/lab-ranges", {**RANGE, "site": "HK"}) == 403
    assert b.post(reverse("lab-ranges", kwargs={"study_pk": study.pk}), {**RANGE, "site": "HK"}).status_code == 403
    assert LabReferenceRange.objects.count() == 2


def test_a_monitor_reads_but_cannot_write(world):
    ranges(world)
    study = world.studies["imrt"]
    monitor = login(Client(), "monitor")
    assert monitor.get(panel_url(world)).status_code == 403
    assert monitor.post(panel_url(world), panel_data({"alt": ("50", "U/L")})).status_code == 403
    assert _post_json(monitor, api(world), body({"alt": (50, "U/L")})) == 403
    assert _post_json(monitor, f"/api/v1/studies/{study.pk}/lab-ranges", {**RANGE, "effective_from": "2026-02-01"}) \
        == 403
    assert monitor.post(reverse("lab-ranges", kwargs={"study_pk": study.pk}), RANGE).status_code == 403
    assert monitor.get(reverse("lab-ranges", kwargs={"study_pk": study.pk})).status_code == 200
    assert monitor.get(api(world), {"sample_date": D.isoformat()}).status_code == 200
    assert LabResult.objects.count() == 0


def test_the_study_admin_and_the_data_manager_add_ranges_at_every_site(world):
    study = world.studies["imrt"]
    for user, when in (("data_manager", "2026-01-01"), ("study_admin", "2026-02-01")):
        client = login(Client(), user)
        for site in ("GZ", "HK"):
            assert _post_json(client, f"/api/v1/studies/{study.pk}/lab-ranges",
                              {**RANGE, "site": site, "effective_from": when}) == 201, (user, site)
    assert LabReferenceRange.objects.count() == 4
    r = LabReferenceRange.objects.filter(site__code="GZ").latest("pk")
    assert r.history.get().history_user.username == "study_admin"  # audited like every record


def test_an_investigator_enters_a_panel_but_cannot_add_ranges(world):
    ranges(world)
    inv = login(Client(), "investigator")
    assert inv.post(panel_url(world), panel_data({"alt": ("50", "U/L")})).status_code == 302
    assert _post_json(inv, f"/api/v1/studies/{world.studies['imrt'].pk}/lab-ranges",
                      {**RANGE, "effective_from": "2026-03-01"}) == 403
