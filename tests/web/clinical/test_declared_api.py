"""Protocol-declared forms through /api/v1: the same check as the page (same inputs, same field
errors), 422 naming the field, never a 500 for junk; edits need the version and a reason; void."""

from __future__ import annotations

import html
import json
import random

import pytest
from django.test import Client

from npctrial.web.clinical.locks import lock
from npctrial.web.clinical.models import DeclaredRecord
from tests.web.clinical.conftest import RT, save, url
from tests.web.clinical.test_declared_pages import BASELINE, NUTRITION
from tests.web.conftest import login


def _api(world, study: str = "imrt", site: str = "A", form: str = "nutrition", record: int | None = None,
         tail: str = "") -> str:
    s = world.studies[study].pk
    base = f"/api/v1/studies/{s}/subjects/{world.subjects[(study, site)].pk}/forms/{form}/records"
    return base + (f"/{record}" if record is not None else "") + tail


def _post(client: Client, path: str, body: object) -> object:
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def ready(world):
    save("baseline", world, BASELINE)
    save("radiotherapy", world, RT)
    return world


def test_create_list_and_calculated_values(ready, coordinator):
    r = _post(coordinator, _api(ready), {"values": {**NUTRITION, "weight_kg": 58.9, "feeding_tube": True}})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["calculated"] == {"weight_change_pct": -5.0, "weight_loss_5pct": True, "bmi": 20.4}
    assert body["event"] == "ccrt_w1" and body["values"]["tube_type"] == "nasogastric"
    listing = coordinator.get(_api(ready)).json()
    assert [x["id"] for x in listing["records"]] == [body["id"]] and listing["voided"] == []


CASES = [
    {"weight_kg": ""}, {"weight_kg": "abc"}, {"weight_kg": "400"}, {"assessment_date": "14/01/2026"},
    {"oral_intake": "lots"}, {"supplements": "maybe"}, {"tube_type": ""}, {"notes": "x" * 301},
    {"feeding_tube": "no"}, {"bmi": "22"},
]


@pytest.mark.parametrize("change", CASES)
def test_the_api_gives_the_pages_field_error_for_the_same_input(ready, coordinator, change):
    data = {**NUTRITION, **change}
    page = coordinator.post(url("crf-new", ready, form="nutrition"), data)
    api = _post(coordinator, _api(ready), {"values": data})
    assert page.status_code == 200 and api.status_code == 422
    error = api.json()["errors"][0]
    field = error["field"]
    assert field in change or field == "tube_type"
    row = html.unescape(page.content.decode().split(f'data-field="{field}"', 1)[1].split("</p>", 1)[0])
    assert error["message"] in row  # the very message, on the very field
    assert not DeclaredRecord.all_objects.exists()


def test_several_refused_fields_are_all_shown_on_the_page_and_listed_by_the_api(ready, coordinator):
    data = {**NUTRITION, "weight_kg": "400", "notes": "x" * 301}  # above 250 kg; notes over 300 characters
    page = html.unescape(coordinator.post(url("crf-new", ready, form="nutrition"), data).content.decode())
    api = _post(coordinator, _api(ready), {"values": data})
    assert api.status_code == 422
    errors = api.json()["errors"]
    assert [e["field"] for e in errors] == ["weight_kg", "notes"]
    for e in errors:
        row = page.split(f'data-field="{e["field"]}"', 1)[1].split("</p>", 1)[0]
        assert e["message"] in row
    assert not DeclaredRecord.all_objects.exists()


def test_unknown_field_and_not_a_mapping_are_422(ready, coordinator):
    r = _post(coordinator, _api(ready), {"values": {**NUTRITION, "nosuch": 1}})
    assert r.status_code == 422 and "has no field" in r.json()["errors"][0]["message"]
    assert _post(coordinator, _api(ready), {"values": [1, 2]}).status_code == 422
    assert _post(coordinator, _api(ready, form="nosuch"), {"values": {}}).status_code == 404


def test_an_update_needs_version_and_reason_and_is_checked_whole(ready, coordinator):
    rec = _post(coordinator, _api(ready), {"values": NUTRITION}).json()
    path = _api(ready, record=rec["id"])
    r = coordinator.patch(path, json.dumps({"values": {"weight_kg": 60}, "version": 1}), content_type="application/json")
    assert r.status_code == 422  # no reason
    r = coordinator.patch(path, json.dumps({"values": {"feeding_tube": False}, "version": 1, "reason": "no tube"}),
                          content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tube_type"  # now hidden: send it as null
    r = coordinator.patch(path, json.dumps({"values": {"feeding_tube": False, "tube_type": None, "tube_date": None},
                                            "version": 1, "reason": "no tube"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["values"]["tube_type"] is None
    r = coordinator.patch(path, json.dumps({"values": {"weight_kg": 61}, "version": 1, "reason": "stale"}),
                          content_type="application/json")
    assert r.status_code == 409


def test_locked_refuses_and_void_keeps_the_record_apart(ready, coordinator):
    rec = _post(coordinator, _api(ready), {"values": NUTRITION}).json()
    r = _post(coordinator, _api(ready, record=rec["id"], tail="/void"), {"version": 1, "reason": "wrong patient"})
    assert r.status_code == 200 and r.json()["void_reason"] == "wrong patient"
    listing = coordinator.get(_api(ready)).json()
    assert listing["records"] == [] and listing["voided"][0]["id"] == rec["id"]
    assert _post(coordinator, _api(ready, record=rec["id"], tail="/void"), {"version": 2, "reason": "x"}).status_code \
        == 422  # already voided
    subject = ready.subjects[("imrt", "A")]
    lock(subject.study, ready.users["data_manager"], subject)
    r = _post(coordinator, _api(ready), {"values": NUTRITION})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lock"


def test_site_and_role_scope(ready, coordinator):
    rec = _post(coordinator, _api(ready), {"values": NUTRITION}).json()
    other = login(Client(), "coordinator_b")
    assert other.get(_api(ready)).status_code == 404
    assert other.patch(_api(ready, record=rec["id"]), json.dumps({"values": {}, "version": 1, "reason": "x"}),
                       content_type="application/json").status_code == 404
    assert _post(login(Client(), "monitor"), _api(ready), {"values": NUTRITION}).status_code == 403


JUNK = [None, True, False, 0, -1, 1e308, 10 ** 400, "", " ", "\x00", "x" * 6000, [], [1], {}, {"value": None},
        {"value": [1]}, {"value": 5, "unit": "lb"}, {"value": "5", "unit": None}, {"a": {"b": 1}}, "2026-02-30",
        "NaN", "inf", "-0", "٣", "1e400", "yes", "peg", "🙂"]


def test_junk_values_never_give_a_500(ready, coordinator):
    rng = random.Random(13)
    names = [*NUTRITION, "weight_change_pct", "bmi"]
    for _ in range(120):
        values = dict(NUTRITION)
        for name in rng.sample(names, rng.randint(1, 3)):
            values[name] = rng.choice(JUNK)
        r = _post(coordinator, _api(ready), {"values": values})
        assert r.status_code in (201, 422), (values, r.status_code, r.content[:300])
        page = coordinator.post(url("crf-new", ready, form="nutrition"),
                                {k: v for k, v in values.items() if isinstance(v, str)})
        assert page.status_code in (200, 302), (values, page.status_code)
        preview = coordinator.post(url("declared-preview", ready, form="nutrition"),
                                   {k: v for k, v in values.items() if isinstance(v, str)})
        assert preview.status_code == 200


def test_the_casebook_route_lists_declared_records_with_the_voided_apart(ready, coordinator):
    kept = _post(coordinator, _api(ready), {"values": NUTRITION}).json()
    gone = _post(coordinator, _api(ready), {"values": {**NUTRITION, "assessment_date": "2026-01-21"}}).json()
    _post(coordinator, _api(ready, record=gone["id"], tail="/void"), {"version": 1, "reason": "duplicate"})
    s = ready.subjects[("imrt", "A")]
    body = coordinator.get(f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/casebook")
    assert body.status_code == 200
    forms = body.json()["declared_forms"]
    assert [r["id"] for r in forms["nutrition"]["records"]] == [kept["id"]]
    assert [r["id"] for r in forms["nutrition"]["voided"]] == [gone["id"]]
    assert all(v["form"] != "nutrition" for v in body.json()["voided"])  # typed CRFs' voided list unchanged
