"""The lab panel and reference-range API: validated exactly like the pages (422 naming row and field, never 500)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from npctrial.web.clinical.models import LabReferenceRange, LabResult
from tests.web.clinical.test_lab_panel import TEN, D, panel_data, panel_url, ranges
from tests.web.conftest import World, login


def api(world: World, study: str = "imrt", site: str = "A") -> str:
    s = world.subjects[(study, site)]
    return f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/lab-panel"


def body(values: dict[str, tuple[Any, str]], **extra: Any) -> dict[str, Any]:
    return {"panel": "weekly", "sample_date": D.isoformat(), "week": 2,
            "rows": [{"analyte": k, "value": v, "unit": u} for k, (v, u) in values.items()], **extra}


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def numeric(values: dict[str, tuple[str, str]]) -> dict[str, tuple[Any, str]]:
    return {k: (float(v), u) for k, (v, u) in values.items()}


def test_api_saves_the_same_records_as_the_page(world):
    ranges(world)
    ranges(world, site="B")
    client = login(Client(), "coordinator")
    response = post(client, api(world), body(numeric(TEN)))
    assert response.status_code == 201, response.content
    by_api = {r["term"]: (r["value"], r["unit"], r["lln"], r["uln"], r["grade"]) for r in response.json()["records"]}
    assert len(by_api) == 10
    page = login(Client(), "coordinator_b").post(panel_url(world, site="B"), panel_data(TEN))
    assert page.status_code == 302
    by_page = {r.term: (r.value, r.unit, r.lln, r.uln, r.grade)
               for r in LabResult.objects.filter(subject=world.subjects[("imrt", "B")])}
    assert by_api == by_page


def test_api_refusal_names_every_row_and_field_and_saves_nothing(world):
    ranges(world)
    values = {**numeric(TEN), "platelets": ("lots", "10^9/L"), "hemoglobin": (9.5, "g/L"), "alt": (60.0, "mg/dL")}
    response = post(login(Client(), "coordinator"), api(world), body(values))
    assert response.status_code == 422
    errors = {(e["row"], e["analyte"], e["field"]) for e in response.json()["errors"]}
    order = list(values)
    assert errors == {(order.index("platelets"), "platelets", f"rows.{order.index('platelets')}.value"),
                      (order.index("hemoglobin"), "hemoglobin", f"rows.{order.index('hemoglobin')}.value"),
                      (order.index("alt"), "alt", f"rows.{order.index('alt')}.unit")}
    assert LabResult.objects.count() == 0
    # the page refuses the same rows on the same fields
    page = login(Client(), "coordinator").post(panel_url(world), panel_data(
        {**TEN, "platelets": ("lots", "10^9/L"), "hemoglobin": ("9.5", "g/L"), "alt": ("60", "mg/dL")}))
    html = page.content.decode()
    for key, field in (("platelets", "value"), ("hemoglobin", "value"), ("alt", "unit")):
        assert f'data-error="{field}"' in html.split(f'data-row="{key}"')[1].split("</tr>")[0], key


def test_api_header_and_shape_problems_are_422(world):
    ranges(world)
    client = login(Client(), "coordinator")
    cases = [body({"alt": (50, "U/L")}, sample_date="20/01/2026"), body({"alt": (50, "U/L")}, week="two"),
             body({"alt": (50, "U/L")}, panel="monthly"), body({}), {"rows": "x"}, {"rows": [5]},
             body({"alt": (50, "U/L")}, event="no-such-event"),
             {**body({}), "rows": [{"analyte": "alt", "value": 50, "unit": "U/L"}] * 2},
             {**body({}), "rows": [{"analyte": "alt", "value": 50, "unit": "U/L", "override_reason": "x\x00"}]}]
    fields = []
    for case in cases:
        response = post(client, api(world), case)
        assert response.status_code == 422, (case, response.content)
        fields.append(response.json()["errors"][0]["field"])
    assert fields[:4] == ["sample_date", "week", "panel", "rows"]
    assert fields[6] == "event" and fields[7] == "rows.1.analyte" and fields[8] == "rows.0.override_reason"
    assert LabResult.objects.count() == 0


def test_api_panel_rows_show_the_range_in_force(world):
    ranges(world, rows=[("alt", "U/L", None, 40)])
    s = world.subjects[("imrt", "A")]
    response = login(Client(), "coordinator").get(api(world), {"sample_date": D.isoformat()})
    assert response.status_code == 200
    rows = {r["analyte"]: r for r in response.json()["rows"]}
    assert rows["alt"]["range"]["uln"] == 40 and rows["alt"]["unit"] == "U/L"
    assert rows["hemoglobin"]["range"] is None and "g/dL" in rows["hemoglobin"]["units"]
    assert s


def test_range_api_validates_like_the_page(world):
    study = world.studies["imrt"]
    url = f"/api/v1/studies/{study.pk}/lab-ranges"
    client = login(Client(), "data_manager")
    good = {"site": "GZ", "analyte": "bilirubin", "unit": "umol/L", "uln": 21, "effective_from": "2026-01-01"}
    assert post(client, url, good).status_code == 201
    bad = [({**good, "unit": "U/L"}, "unit"), ({**good, "uln": 20, "unit": "mg/dL"}, "uln"),
           ({**good, "analyte": "hemoglobin", "unit": "g/L", "lln": 180, "uln": 160}, "lln"),
           ({**good, "analyte": "hemoglobin", "unit": "g/L", "uln": 160}, "lln"),
           ({**good, "site": "XX"}, "site"), ({**good, "effective_from": "01/01/2026"}, "effective_from"),
           (good, "note")]  # the same date again needs a note saying why it replaces the first
    page = reverse("lab-ranges", kwargs={"study_pk": study.pk})
    for data, field in bad:
        response = post(client, url, data)
        assert response.status_code == 422, data
        assert response.json()["errors"][0]["field"] == field, (data, response.json())
        form = {k: ("" if v is None else v) for k, v in data.items()}
        html = client.post(page, form)
        assert html.status_code == 400, data
        assert "errorlist" in html.content.decode().split(f'data-field="{field}"')[1].split("</p>")[0], (field, data)
    assert post(client, url, {**good, "uln": 22, "note": "lab recalibrated"}).status_code == 201
    listed = client.get(url).json()["ranges"]
    assert [r["uln"] for r in listed] == [22, 21]  # newest first, the old version kept
    assert LabReferenceRange.objects.count() == 2
