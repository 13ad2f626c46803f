"""Schema-based API tests: the OpenAPI schema loads, every route in it is exercised, responses
match the declared schema's required keys, and bad input gives a 4xx JSON body naming fields."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import CCRT_ELIGIBLE, IMRT_ELIGIBLE, login


@pytest.fixture
def schema(client, world):
    login(client, "coordinator")
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _required_keys(schema: dict, response_schema: dict) -> set[str]:
    ref = response_schema.get("$ref") or response_schema.get("items", {}).get("$ref")
    if not ref:
        return set()
    component = schema["components"]["schemas"][ref.split("/")[-1]]
    return set(component.get("required", []))


CORE_TAGS = {"studies", "screening", "enrolment", "randomisation", "audit", "queries"}
_METHODS = {"get", "post", "patch", "put", "delete"}


def _all_operations(schema: dict) -> list[tuple[str, str]]:
    return [(m, p) for p, item in schema["paths"].items() for m in item if m in _METHODS]


def test_every_route_of_every_app_requires_login(client, world, schema):
    """All routes in the schema (core and other EDC apps): anonymous -> 401 JSON."""
    client.logout()
    for method, template in _all_operations(schema):
        url = re.sub(r"\{(\w+)\}", "1", template)
        response = getattr(client, method)(url, data={}, content_type="application/json")
        assert response.status_code == 401, (method, template, response.status_code)
        assert response.json()["detail"]


def test_every_route_of_every_app_hides_other_sites(client, world, schema):
    """All routes: a site-A coordinator asking for objects of another study they are not in -> 404."""
    from npctrial.web.core.models import Study

    hidden = Study.objects.create(code="hidden", title="not a member")
    login(client, "coordinator")
    for method, template in _all_operations(schema):
        if "{study_id}" not in template:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(hidden.pk) if m.group(1) == "study_id" else "1", template)
        response = getattr(client, method)(url, data={}, content_type="application/json")
        assert response.status_code in (404, 422), (method, template, response.status_code)
        if response.status_code == 422:  # body validated before the lookup: must still name fields
            assert response.json()["errors"], (method, template)


def test_docs_page_is_served(client, world):
    login(client, "coordinator")
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and b"openapi.json" in response.content


def test_every_route_in_the_schema_is_exercised(client, world, schema):
    """Walk the schema; call each operation with a valid request built for it."""
    ccrt = world.studies["ccrt"]
    imrt = world.studies["imrt"]
    subject_a = world.subjects[("imrt", "A")]
    screening_a = world.screenings[("ccrt", "A")]
    query_a = world.queries[("imrt", "A")]
    ccrt_subject_unrandomised = None
    # prepare a randomisable subject of the ccrt study at site A
    from npctrial.web.core.enrolment import enrol
    from npctrial.web.core.screening import create_screening

    rec = create_screening(ccrt, world.sites["A"], CCRT_ELIGIBLE, world.users["coordinator"])
    ccrt_subject_unrandomised = enrol(rec, consent_date=rec.screened_at.date(), consent_version="1.0",
                                      user=world.users["coordinator"])

    # (method, path template) -> (params, body, expected status, user)
    plan = {
        ("get", "/api/v1/studies"): ({}, None, 200, "coordinator"),
        ("get", "/api/v1/studies/{study_id}"): ({"study_id": ccrt.pk}, None, 200, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/dashboard"): ({"study_id": ccrt.pk}, None, 200, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/fields"): ({"study_id": imrt.pk}, None, 200, "coordinator"),
        ("post", "/api/v1/studies/{study_id}/eligibility"): (
            {"study_id": imrt.pk}, {"values": IMRT_ELIGIBLE}, 200, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/screenings"): ({"study_id": ccrt.pk}, None, 200, "coordinator"),
        ("post", "/api/v1/studies/{study_id}/screenings"): (
            {"study_id": imrt.pk}, {"site": "GZ", "values": {**IMRT_ELIGIBLE, "hb": 95}}, 201, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/screenings/{screening_id}"): (
            {"study_id": ccrt.pk, "screening_id": screening_a.pk}, None, 200, "coordinator"),
        ("patch", "/api/v1/studies/{study_id}/screenings/{screening_id}"): (
            {"study_id": ccrt.pk, "screening_id": screening_a.pk},
            {"values": {**CCRT_ELIGIBLE, "ebv_dna_post_induction": 800}, "version": 1, "reason": "lab re-read"},
            200, "coordinator"),
        ("post", "/api/v1/studies/{study_id}/screenings/{screening_id}/enrol"): (
            {"study_id": ccrt.pk, "screening_id": screening_a.pk},
            {"consent_date": "2026-01-10", "consent_version": "1.0"}, 201, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/subjects"): ({"study_id": imrt.pk}, None, 200, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/subjects/{subject_pk}"): (
            {"study_id": imrt.pk, "subject_pk": subject_a.pk}, None, 200, "coordinator"),
        ("post", "/api/v1/studies/{study_id}/subjects/{subject_pk}/randomise"): (
            {"study_id": ccrt.pk, "subject_pk": ccrt_subject_unrandomised.pk}, {}, 201, "coordinator"),
        ("get", "/api/v1/studies/{study_id}/subjects/{subject_pk}/history"): (
            {"study_id": imrt.pk, "subject_pk": subject_a.pk}, None, 200, "monitor"),
        ("get", "/api/v1/studies/{study_id}/queries"): ({"study_id": imrt.pk}, None, 200, "data_manager"),
        ("get", "/api/v1/studies/{study_id}/audit-log"): ({"study_id": ccrt.pk}, None, 200, "monitor"),
        ("post", "/api/v1/studies/{study_id}/subjects/{subject_pk}/queries"): (
            {"study_id": imrt.pk, "subject_pk": subject_a.pk}, {"field_name": "hb", "text": "Units?"}, 201,
            "data_manager"),
        ("post", "/api/v1/studies/{study_id}/queries/{query_id}/answer"): (
            {"study_id": imrt.pk, "query_id": query_a.pk}, {"answer": "g/L"}, 200, "coordinator"),
        ("post", "/api/v1/studies/{study_id}/queries/{query_id}/close"): (
            {"study_id": imrt.pk, "query_id": query_a.pk}, {"note": "resolved"}, 200, "data_manager"),
        ("post", "/api/v1/studies/{study_id}/queries/{query_id}/reopen"): (
            {"study_id": imrt.pk, "query_id": query_a.pk}, {"reason": "unit still missing"}, 200, "data_manager"),
        ("post", "/api/v1/studies/{study_id}/queries/{query_id}/assign"): (
            {"study_id": imrt.pk, "query_id": query_a.pk}, {"assignee": "coordinator"}, 200, "monitor"),
        ("get", "/api/v1/studies/{study_id}/queries/{query_id}"): (
            {"study_id": imrt.pk, "query_id": query_a.pk}, None, 200, "coordinator"),
    }
    operations = {
        (method, path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "patch", "put", "delete"} and set(op.get("tags", [])) & CORE_TAGS
    }
    assert operations == set(plan), f"untested: {operations - set(plan)}; stale: {set(plan) - operations}"
    for (method, template), (params, body, expected, user) in plan.items():
        client.logout()
        login(client, user)
        url = re.sub(r"\{(\w+)\}", lambda m, p=params: str(p[m.group(1)]), template)
        fn = getattr(client, method)
        response = fn(url, data=body, content_type="application/json") if body is not None else fn(url)
        assert response.status_code == expected, (method, url, response.status_code, response.content[:300])
        declared = schema["paths"][template][method]["responses"][str(expected)]
        content_schema = declared["content"]["application/json"]["schema"]
        payload = response.json()
        for item in payload if isinstance(payload, list) else [payload]:
            assert _required_keys(schema, content_schema) <= set(item), (method, template)


def test_evaluation_route_reports_each_criterion(client, world):
    login(client, "coordinator")
    imrt = world.studies["imrt"]
    ok = client.post(f"/api/v1/studies/{imrt.pk}/eligibility", data={"values": IMRT_ELIGIBLE},
                     content_type="application/json").json()
    assert ok["outcome"] == "eligible" and ok["failed_criteria"] == []
    # haemoglobin 99 g/L fails I5 (Hb >= 100 g/L); exactly 100 meets it (protocol boundary)
    low = client.post(f"/api/v1/studies/{imrt.pk}/eligibility", data={"values": {**IMRT_ELIGIBLE, "hb": 99}},
                      content_type="application/json").json()
    assert low["outcome"] == "ineligible" and low["failed_criteria"] == ["I5"]
    edge = client.post(f"/api/v1/studies/{imrt.pk}/eligibility", data={"values": {**IMRT_ELIGIBLE, "hb": 100}},
                       content_type="application/json").json()
    assert edge["outcome"] == "eligible"
    missing = dict(IMRT_ELIGIBLE)
    del missing["platelets"]
    partial = client.post(f"/api/v1/studies/{imrt.pk}/eligibility", data={"values": missing},
                          content_type="application/json").json()
    assert partial["outcome"] == "incomplete"
    assert {v["id"]: v["verdict"] for v in partial["verdicts"]}["I6"] == "missing"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"site": "GZ", "values": {"hb": "lots"}}, "hb"),
        ({"site": "GZ", "values": {"ecog": 7}}, "ecog"),
        ({"site": "GZ", "values": {"t_category": "T9"}}, "t_category"),
        ({"site": "GZ", "values": {"no_such_field": 1}}, "no_such_field"),
        ({"site": "XX", "values": {}}, "site"),
        ({"values": {}}, "site"),
        ({"site": "GZ"}, "values"),
    ],
)
def test_bad_input_is_4xx_json_naming_the_field_and_saves_nothing(client, world, body, field):
    from npctrial.web.core.models import ScreeningRecord

    login(client, "coordinator")
    imrt = world.studies["imrt"]
    before = ScreeningRecord.objects.count()
    response = client.post(f"/api/v1/studies/{imrt.pk}/screenings", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    payload = response.json()
    assert field in [e["field"] for e in payload["errors"]], payload
    assert ScreeningRecord.objects.count() == before


def test_enrolling_an_ineligible_patient_is_refused(client, world):
    login(client, "coordinator")
    imrt = world.studies["imrt"]
    created = client.post(f"/api/v1/studies/{imrt.pk}/screenings",
                          data={"site": "GZ", "values": {**IMRT_ELIGIBLE, "previous_radiotherapy": True}},
                          content_type="application/json").json()
    assert created["outcome"] == "ineligible" and created["failed_criteria"] == ["E1"]
    response = client.post(f"/api/v1/studies/{imrt.pk}/screenings/{created['id']}/enrol",
                           data={"consent_date": "2026-01-10", "consent_version": "1.0"},
                           content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "screening"
