"""Permissions matrix: role x site x route, for pages, API and export.

The expectations below are written from the role descriptions of issue #8 (coordinators and
investigators work at their site; data managers and monitors raise queries; statisticians
export; study admins manage and may unblind), not derived from the permissions module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from tests.web.conftest import ROLES, login

OK = "ok"  # any non-403/404 status (200, 201, 302, or 4xx/409 from the input itself)
DENY = 403


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    url: str
    data: dict | None = None
    json: bool = False


def page_routes(world, site: str) -> list[Route]:
    """Every object route of the core pages for the objects of ``site`` (study ccrt)."""
    study = world.studies["ccrt"]
    s = study.pk
    scr = world.screenings[("ccrt", site)].pk
    subj = world.subjects[("ccrt", site)].pk
    q = world.queries[("ccrt", site)].pk
    return [
        Route("screening-detail", "get", reverse("screening-detail", kwargs={"study_pk": s, "pk": scr})),
        Route("screening-edit", "get", reverse("screening-edit", kwargs={"study_pk": s, "pk": scr})),
        Route("screening-evaluate", "post", reverse("screening-evaluate", kwargs={"study_pk": s}),
              {"record": str(scr), "t_category": "T2"}),
        Route("subject-detail", "get", reverse("subject-detail", kwargs={"study_pk": s, "pk": subj})),
        Route("subject-history", "get", reverse("subject-history", kwargs={"study_pk": s, "pk": subj})),
        Route("query-raise", "post", reverse("query-raise", kwargs={"study_pk": s, "pk": subj}),
              {"field_name": "t_category", "text": "check"}),
        Route("query-answer", "post", reverse("query-answer", kwargs={"study_pk": s, "pk": q}), {"answer": "ok"}),
        Route("query-close", "post", reverse("query-close", kwargs={"study_pk": s, "pk": q}), {}),
        Route("query-detail", "get", reverse("query-detail", kwargs={"study_pk": s, "pk": q})),
        Route("query-reopen", "post", reverse("query-reopen", kwargs={"study_pk": s, "pk": q}), {"reason": "x"}),
        Route("query-assign", "post", reverse("query-assign", kwargs={"study_pk": s, "pk": q}),
              {"assignee": "coordinator"}),
        Route("subject-randomise", "post", reverse("subject-randomise", kwargs={"study_pk": s, "pk": subj}), {}),
        Route("screening-enrol", "post", reverse("screening-enrol", kwargs={"study_pk": s, "pk": scr}),
              {"consent_date": "2026-01-05", "consent_version": "1.0"}),
    ]


def api_routes(world, site: str) -> list[Route]:
    study = world.studies["ccrt"]
    base = f"/api/v1/studies/{study.pk}"
    scr = world.screenings[("ccrt", site)]
    subj = world.subjects[("ccrt", site)].pk
    q = world.queries[("ccrt", site)].pk
    return [
        Route("api-screening", "get", f"{base}/screenings/{scr.pk}"),
        Route("api-subject", "get", f"{base}/subjects/{subj}"),
        Route("api-history", "get", f"{base}/subjects/{subj}/history"),
        Route("api-screening-patch", "patch", f"{base}/screenings/{scr.pk}",
              {"values": {"t_category": "T4", "n_category": "N2", "m_category": "M0"}, "version": 999, "reason": "x"},
              json=True),
        Route("api-raise", "post", f"{base}/subjects/{subj}/queries", {"field_name": "t_category", "text": "?"},
              json=True),
        Route("api-answer", "post", f"{base}/queries/{q}/answer", {"answer": "ok"}, json=True),
        Route("api-close", "post", f"{base}/queries/{q}/close", {"note": ""}, json=True),
        Route("api-query", "get", f"{base}/queries/{q}"),
        Route("api-reopen", "post", f"{base}/queries/{q}/reopen", {"reason": "x"}, json=True),
        Route("api-assign", "post", f"{base}/queries/{q}/assign", {"assignee": None}, json=True),
        Route("api-randomise", "post", f"{base}/subjects/{subj}/randomise", {}, json=True),
        Route("api-enrol", "post", f"{base}/screenings/{scr.pk}/enrol",
              {"consent_date": "2026-01-05", "consent_version": "1.0"}, json=True),
    ]


def call(client, route: Route):
    fn = getattr(client, route.method)
    if route.json:
        return fn(route.url, data=route.data, content_type="application/json")
    if route.data is None:
        return fn(route.url)
    return fn(route.url, data=route.data)


SITE_USERS = ("investigator", "coordinator")  # members of site A only


@pytest.mark.parametrize("username", SITE_USERS)
def test_site_a_user_gets_404_for_every_site_b_object(client, world, username):
    login(client, username)
    for route in [*page_routes(world, "B"), *api_routes(world, "B")]:
        response = call(client, route)
        assert response.status_code == 404, (username, route.name, response.status_code)
    # ... and the same routes work for their own site (no false 404)
    for route in page_routes(world, "A")[:5] + api_routes(world, "A")[:3]:
        assert call(client, route).status_code == 200, (username, route.name)


@pytest.mark.parametrize("username", SITE_USERS)
def test_site_b_objects_absent_from_lists_api_and_export(client, world, username):
    login(client, username)
    study = world.studies["ccrt"]
    b_subject = world.subjects[("ccrt", "B")].subject_id
    a_subject = world.subjects[("ccrt", "A")].subject_id
    for url in (reverse("subject-list", kwargs={"study_pk": study.pk}),
                reverse("screening-log", kwargs={"study_pk": study.pk}),
                reverse("query-list", kwargs={"study_pk": study.pk}),
                f"/api/v1/studies/{study.pk}/subjects",
                f"/api/v1/studies/{study.pk}/screenings",
                f"/api/v1/studies/{study.pk}/queries",
                f"/api/v1/studies/{study.pk}/dashboard"):
        body = client.get(url).content.decode()
        assert b_subject not in body and ">HK<" not in body and '"HK"' not in body, url
    assert a_subject in client.get(f"/api/v1/studies/{study.pk}/subjects").content.decode()
    # the export is refused to site roles altogether; the data manager's export has both sites
    assert client.get(reverse("screening-export", kwargs={"study_pk": study.pk})).status_code == 403


def test_export_of_a_study_role_contains_every_site(client, world):
    login(client, "data_manager")
    study = world.studies["ccrt"]
    text = client.get(reverse("screening-export", kwargs={"study_pk": study.pk})).content.decode()
    assert world.subjects[("ccrt", "A")].subject_id in text and world.subjects[("ccrt", "B")].subject_id in text


@pytest.mark.parametrize("username", [*ROLES, "coordinator_b", "outsider"])
def test_guessed_ids_and_cross_study_ids_are_404(client, world, username):
    login(client, username)
    ccrt, imrt = world.studies["ccrt"], world.studies["imrt"]
    guessed = 10_000
    urls = [
        reverse("screening-detail", kwargs={"study_pk": ccrt.pk, "pk": guessed}),
        reverse("subject-detail", kwargs={"study_pk": ccrt.pk, "pk": guessed}),
        reverse("subject-history", kwargs={"study_pk": ccrt.pk, "pk": guessed}),
        # an existing imrt subject requested through the ccrt study
        reverse("subject-detail", kwargs={"study_pk": ccrt.pk, "pk": world.subjects[("imrt", "A")].pk}),
        reverse("study-dashboard", kwargs={"study_pk": guessed}),
        f"/api/v1/studies/{ccrt.pk}/subjects/{guessed}",
        f"/api/v1/studies/{ccrt.pk}/screenings/{world.screenings[('imrt', 'A')].pk}",
        f"/api/v1/studies/{guessed}",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, (username, url)
    if username == "outsider":  # no role in any study: the studies do not exist for them
        for url in (reverse("study-dashboard", kwargs={"study_pk": imrt.pk}), f"/api/v1/studies/{imrt.pk}"):
            assert client.get(url).status_code == 404
        assert client.get("/api/v1/studies").json() == []


# Expected outcome per role on site-A objects (written from the role descriptions).
EXPECT: dict[str, dict[str, object]] = {
    #                    inv   coord  dm    mon   stat  admin
    "screening-detail": dict(zip(ROLES, [OK, OK, OK, OK, OK, OK], strict=True)),
    "screening-edit": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "screening-evaluate": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "subject-detail": dict(zip(ROLES, [OK, OK, OK, OK, OK, OK], strict=True)),
    "subject-history": dict(zip(ROLES, [OK, OK, OK, OK, DENY, OK], strict=True)),
    "query-raise": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "query-answer": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "query-close": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "query-detail": dict(zip(ROLES, [OK, OK, OK, OK, OK, OK], strict=True)),
    "query-reopen": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "query-assign": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "subject-randomise": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "screening-enrol": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "api-screening": dict(zip(ROLES, [OK, OK, OK, OK, OK, OK], strict=True)),
    "api-subject": dict(zip(ROLES, [OK, OK, OK, OK, OK, OK], strict=True)),
    "api-history": dict(zip(ROLES, [OK, OK, OK, OK, DENY, OK], strict=True)),
    "api-screening-patch": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "api-raise": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "api-answer": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "api-close": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "api-query": dict(zip(ROLES, [OK, OK, OK, OK, OK, OK], strict=True)),
    "api-reopen": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "api-assign": dict(zip(ROLES, [DENY, DENY, OK, OK, DENY, OK], strict=True)),
    "api-randomise": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
    "api-enrol": dict(zip(ROLES, [OK, OK, DENY, DENY, DENY, DENY], strict=True)),
}

STUDY_PAGES = {
    # route name -> roles allowed (others 403)
    "study-dashboard": set(ROLES),
    "screening-log": set(ROLES),
    "subject-list": set(ROLES),
    "query-list": set(ROLES),
    "screening-new": {"investigator", "coordinator"},
    "study-amend": {"study_admin"},
    "allocation-list": {"study_admin"},
    "screening-export": {"data_manager", "statistician", "study_admin"},
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_on_own_site(client, world, role):
    login(client, role)
    study = world.studies["ccrt"]
    for name, allowed in STUDY_PAGES.items():
        status = client.get(reverse(name, kwargs={"study_pk": study.pk})).status_code
        assert status == (200 if role in allowed else 403), (role, name, status)
    for route in [*page_routes(world, "A"), *api_routes(world, "A")]:
        status = call(client, route).status_code
        expected = EXPECT[route.name][role]
        if expected == DENY:
            assert status == 403, (role, route.name, status)
        else:
            assert status not in (401, 403, 404, 500), (role, route.name, status)


def test_anonymous_is_sent_to_login_and_api_says_401(client, world):
    study = world.studies["ccrt"]
    response = client.get(reverse("study-dashboard", kwargs={"study_pk": study.pk}))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    api = client.get(f"/api/v1/studies/{study.pk}")
    assert api.status_code == 401 and api.json()["detail"]
