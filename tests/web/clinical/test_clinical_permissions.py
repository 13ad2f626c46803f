"""Permissions for every clinical route (pages and API): role x site x route.

Expectations written from the roles of issues #8/#9: coordinators and investigators record CRFs at
their site; only investigators sign casebooks; data managers and study admins freeze/lock;
statisticians, data managers and study admins export; monitors only look. Objects of another site,
and everything for a user without a role in the study, are 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client

from tests.web.clinical.conftest import RT, save, url
from tests.web.conftest import login

OK, DENY, HIDDEN = "ok", 403, 404


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    needs: str  # capability
    data: dict | None = None
    json: bool = False
    subject_level: bool = True


def routes(world) -> list[Route]:
    save("radiotherapy", world, dict(RT))
    b = save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
                                 "t_category": "T3", "n_category": "N1", "m_category": "M0"})
    s = world.studies["imrt"].pk
    subj = world.subjects[("imrt", "A")].pk
    api = f"/api/v1/studies/{s}"
    return [
        Route("clinical-home", "get", url("clinical-home", world), "view", subject_level=False),
        Route("study-lock", "post", url("study-lock", world), "lock", {}, subject_level=False),
        Route("study-report", "get", url("study-report", world), "view", subject_level=False),
        Route("study-report-pdf", "get", url("study-report-pdf", world), "view", subject_level=False),
        Route("export-index", "get", url("export-index", world), "export", subject_level=False),
        Route("export-file", "get", url("export-file", world, name="adsl", fmt="csv"), "export", subject_level=False),
        Route("casebook", "get", url("casebook", world), "view"),
        Route("lab-grade", "post", url("lab-grade", world), "view",
              {"term": "anemia", "value": "75", "unit": "g/L", "lln": "120"}),
        Route("casebook-sign", "post", url("casebook-sign", world), "sign_casebook", {"password": "wrong"}),
        Route("subject-lock", "post", url("subject-lock", world), "lock", {}),
        Route("crf-new", "get", url("crf-new", world, form="ae"), "edit_crf"),
        Route("crf-edit", "post", url("crf-edit", world, form="baseline", record_pk=b.pk), "edit_crf",
              {"height_cm": "170"}),
        Route("api-casebook", "get", f"{api}/subjects/{subj}/casebook", "view"),
        Route("api-crf-create", "post", f"{api}/subjects/{subj}/crf/followup", "edit_crf",
              {"values": {"visit_date": "2026-06-01", "status": "alive_ned"}}, json=True),
        Route("api-crf-update", "patch", f"{api}/subjects/{subj}/crf/baseline/{b.pk}", "edit_crf",
              {"values": {"weight_kg": 61}, "version": 1, "reason": "re-weighed"}, json=True),
        Route("api-lab-grade", "post", f"{api}/subjects/{subj}/lab-grade", "view",
              {"term": "anemia", "value": 75, "unit": "g/L", "lln": 120}, json=True),
        Route("api-sign", "post", f"{api}/subjects/{subj}/sign", "sign_casebook", {"password": "wrong"}, json=True),
        Route("api-lock", "post", f"{api}/subjects/{subj}/lock", "lock", {}, json=True),
        Route("api-report", "get", f"{api}/report", "view", subject_level=False),
        Route("api-export", "get", f"{api}/exports/adae.csv", "export", subject_level=False),
    ]


#: role -> capabilities it should have in the clinical workflow (from the issue's role descriptions)
EXPECTED = {
    "investigator": {"view", "edit_crf", "sign_casebook"},
    "coordinator": {"view", "edit_crf"},
    "data_manager": {"view", "lock", "export"},
    "monitor": {"view"},
    "statistician": {"view", "export"},
    "study_admin": {"view", "lock", "export"},
}


def _call(client: Client, r: Route):
    fn = getattr(client, r.method)
    if r.json:
        return fn(r.path, r.data, content_type="application/json")
    return fn(r.path, r.data) if r.data is not None else fn(r.path)


ROUTE_NAMES = [r for r in ("clinical-home", "study-lock", "study-report", "study-report-pdf", "export-index",
                           "export-file", "casebook", "lab-grade", "casebook-sign", "subject-lock", "crf-new",
                           "crf-edit", "api-casebook", "api-crf-create", "api-crf-update", "api-lab-grade",
                           "api-sign", "api-lock", "api-report", "api-export")]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_matrix_at_own_site(world, role):
    client = login(Client(), role)
    for r in routes(world):
        resp = _call(client, r)
        expected = OK if r.needs in EXPECTED[role] else DENY
        if expected == OK:
            assert resp.status_code not in (403, 404), (role, r.name, resp.status_code)
        else:
            assert resp.status_code == 403, (role, r.name, resp.status_code)


def test_other_site_gets_404_for_every_subject_route(world):
    client = login(Client(), "coordinator_b")
    checked = 0
    for r in routes(world):
        if r.subject_level:
            assert _call(client, r).status_code == 404, r.name
            checked += 1
    assert checked == 12


def test_outsider_gets_404_everywhere(world):
    client = login(Client(), "outsider")
    for r in routes(world):
        assert _call(client, r).status_code == 404, r.name


def test_guessed_record_id_of_other_site_is_404(world):
    other = save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 160, "weight_kg": 50,
                                     "t_category": "T3", "n_category": "N1", "m_category": "M0"}, site="B")
    client = login(Client(), "coordinator")
    # record of site B addressed through a site-A subject URL, and through the site-B subject
    assert client.get(url("crf-edit", world, form="baseline", record_pk=other.pk)).status_code == 404
    assert client.get(url("crf-edit", world, site="B", form="baseline", record_pk=other.pk)).status_code == 404
    assert client.get(url("crf-new", world, form="nonsense")).status_code == 404


def test_site_scope_of_reports_and_exports(world):
    save("ae", world, {"term": "mucositis_oral", "grade": 3, "attribution": "probable", "start_date": date(2026, 1, 20)},
         site="B")
    save("radiotherapy", world, dict(RT), site="B")
    client = login(Client(), "coordinator_b")
    page = client.get(url("clinical-home", world)).content.decode()
    assert world.subjects[("imrt", "B")].subject_id in page
    assert world.subjects[("imrt", "A")].subject_id not in page
    stat = login(Client(), "statistician")
    text = b"".join(stat.get(url("export-file", world, name="adae", fmt="csv")).streaming_content).decode()
    assert world.subjects[("imrt", "B")].subject_id in text
