"""Study administration through the API and the pages: sites, accounts, role x site memberships.

A study created from a protocol has no sites and no members; its administrator makes it runnable
without a shell. Nothing is ever deleted and every change after creation is in the audit trail.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from npctrial.web.core.audit import audit_entries
from npctrial.web.core.models import Membership, Site, Study, StudySite
from npctrial.web.core.protocols import load_bundled_protocol_text
from tests.web.conftest import IMRT_ELIGIBLE, PASSWORD, login

NEW_PASSWORD = "a-long-new-passphrase-42"


def _post(client: Client, url: str, body: dict) -> object:
    return client.post(url, body, content_type="application/json")


def _logs_in(username: str, password: str) -> bool:
    """Through the login form (the authentication backends need the request)."""
    return Client().post("/accounts/login/", {"username": username, "password": password}).status_code == 302


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def new_study(client, root):
    """A study created through the API by an administrator: no sites, no members."""
    login(client, "root")
    response = _post(client, "/api/v1/studies", {"code": "imrt-uat", "protocol_yaml": load_bundled_protocol_text(
        "imrt-s1"), "target_enrolment": 30})
    assert response.status_code == 201, response.content
    study = Study.objects.get(code="imrt-uat")
    assert not study.study_sites.exists() and not study.memberships.exists()
    return study


def _api(study: Study, tail: str = "") -> str:
    return f"/api/v1/studies/{study.pk}{tail}"


def test_only_administrators_create_studies_and_bad_protocols_list_every_problem(client, world, root):
    login(client, "study_admin")
    denied = _post(client, "/api/v1/studies", {"code": "x", "protocol_yaml": "id: x"})
    assert denied.status_code == 403
    login(client, "root")
    bad = _post(client, "/api/v1/studies", {"code": "bad", "protocol_yaml": "id: Bad Id\ntitle: t\n"})
    assert bad.status_code == 422
    assert len(bad.json()["errors"]) >= 3  # id pattern, version, source, fields, criteria ...
    assert not Study.objects.filter(code="bad").exists()
    dup = _post(client, "/api/v1/studies", {"code": "imrt-s1", "protocol_yaml": load_bundled_protocol_text("imrt-s1")})
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "code"


def test_a_new_study_is_made_runnable_through_the_api(client, new_study):
    """Sites, a study admin (appointed by the administrator), a coordinator who then screens and enrols."""
    s = new_study
    assert _post(client, _api(s, "/sites"), {"code": "GZ", "name": "Guangzhou"}).status_code == 201
    assert _post(client, _api(s, "/sites"), {"code": "hk", "name": "Hong Kong"}).json()["code"] == "HK"
    admin = _post(client, _api(s, "/accounts"), {"username": "lin", "role": "study_admin", "first_name": "Lin",
                                                 "email": "lin@example.org"})
    assert admin.status_code == 201 and admin.json()["set_password_url"]
    link = admin.json()["set_password_url"]
    anonymous = Client()
    form = anonymous.get(link, follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = anonymous.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert _logs_in("lin", NEW_PASSWORD)
    again = Client().get(link, follow=True)
    assert b"invalid-link" in again.content  # the invitation works once

    lin = login(Client(), "lin")
    coord = _post(lin, _api(s, "/accounts"), {"username": "wang", "role": "coordinator", "site": "GZ",
                                              "password": NEW_PASSWORD})
    assert coord.status_code == 201 and coord.json()["set_password_url"] is None
    wang = login(Client(), "wang")
    screened = _post(wang, _api(s, "/screenings"), {"site": "GZ", "values": IMRT_ELIGIBLE})
    assert screened.status_code == 201 and screened.json()["outcome"] == "eligible"
    assert _post(wang, _api(s, "/screenings"), {"site": "HK", "values": IMRT_ELIGIBLE}).status_code == 404
    enrolled = _post(wang, _api(s, f"/screenings/{screened.json()['id']}/enrol"),
                     {"consent_date": "2026-01-05", "consent_version": "1.0"})
    assert enrolled.status_code == 201 and enrolled.json()["subject_id"].startswith("IMRT-GZ-")


def test_study_admins_cannot_appoint_study_admins_or_act_on_other_studies(client, world, root):
    imrt = world.studies["imrt"]
    login(client, "study_admin")
    appoint = _post(client, _api(imrt, "/members"), {"username": "monitor", "role": "study_admin"})
    assert appoint.status_code == 403
    coordinator = login(Client(), "coordinator")
    assert coordinator.get(_api(imrt, "/members")).status_code == 403
    assert _post(coordinator, _api(imrt, "/sites"), {"code": "XX", "name": "x"}).status_code == 403
    outsider = login(Client(), "outsider")
    assert outsider.get(_api(imrt, "/members")).status_code == 404
    login(client, "root")
    assert _post(client, _api(imrt, "/members"), {"username": "monitor", "role": "study_admin"}).status_code == 201


def test_memberships_give_and_end_rights_at_once_and_stay_listed(client, world):
    imrt = world.studies["imrt"]
    login(client, "study_admin")
    granted = _post(client, _api(imrt, "/members"), {"username": "outsider", "role": "coordinator", "site": "HK"})
    assert granted.status_code == 201
    outsider = login(Client(), "outsider")
    assert _post(outsider, _api(imrt, "/screenings"), {"site": "HK", "values": IMRT_ELIGIBLE}).status_code == 201
    assert _post(outsider, _api(imrt, "/screenings"), {"site": "GZ", "values": IMRT_ELIGIBLE}).status_code == 404
    twice = _post(client, _api(imrt, "/members"), {"username": "outsider", "role": "coordinator", "site": "HK"})
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "role"
    no_reason = _post(client, _api(imrt, f"/members/{granted.json()['id']}/end"), {"reason": ""})
    assert no_reason.status_code == 422
    ended = _post(client, _api(imrt, f"/members/{granted.json()['id']}/end"), {"reason": "left the unit"})
    assert ended.status_code == 200 and ended.json()["active"] is False
    outsider = login(Client(), "outsider")
    assert outsider.get(_api(imrt)).status_code == 404
    listed = {(m["username"], m["role"], m["site"], m["active"]) for m in client.get(_api(imrt, "/members")).json()}
    assert ("outsider", "coordinator", "HK", False) in listed
    m = Membership.objects.get(pk=granted.json()["id"])
    assert audit_entries([m])[0].reason == "left the unit" and audit_entries([m])[0].user == "study_admin"
    again = _post(client, _api(imrt, "/members"), {"username": "outsider", "role": "coordinator", "site": "HK"})
    assert again.status_code == 201 and again.json()["id"] == m.pk  # the same row, granted again


def test_sites_are_added_checked_and_deactivated_never_deleted(client, world):
    imrt = world.studies["imrt"]
    login(client, "study_admin")
    bad = _post(client, _api(imrt, "/sites"), {"code": "G Z!", "name": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "code"
    nameless = _post(client, _api(imrt, "/sites"), {"code": "SG"})
    assert nameless.status_code == 422 and nameless.json()["errors"][0]["field"] == "name"
    again = _post(client, _api(imrt, "/sites"), {"code": "GZ"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "code"
    renamed = _post(client, _api(imrt, "/sites"), {"code": "HK", "name": "Another name"})
    assert renamed.status_code == 422 and renamed.json()["errors"][0]["field"] == "name"
    off = _post(client, _api(imrt, "/sites/HK/deactivate"), {"reason": "site closed to accrual"})
    assert off.status_code == 200 and off.json()["active"] is False
    b = login(Client(), "coordinator_b")
    refused = _post(b, _api(imrt, "/screenings"), {"site": "HK", "values": IMRT_ELIGIBLE})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "site"
    assert b.get(_api(imrt, "/subjects")).json()  # the site's patients are still there
    assert _post(client, _api(imrt, "/sites/HK/reactivate"), {"reason": "reopened"}).json()["active"] is True
    assert StudySite.objects.filter(study=imrt).count() == 2 and Site.objects.filter(code="HK").exists()
    assert _post(client, _api(imrt, "/sites/ZZ/deactivate"), {"reason": "x"}).status_code == 422


def test_deactivation_ends_login_and_sessions_reactivation_restores_them(client, world):
    imrt = world.studies["imrt"]
    coordinator = world.users["coordinator"]
    session = login(Client(), "coordinator")
    assert session.get(_api(imrt)).status_code == 200
    login(client, "study_admin")
    off = _post(client, _api(imrt, f"/accounts/{coordinator.pk}/deactivate"), {"reason": "left the hospital"})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert session.get(_api(imrt)).status_code == 401  # the open session no longer authenticates
    assert not _logs_in("coordinator", PASSWORD)
    assert get_user_model().objects.filter(username="coordinator").exists()
    on = _post(client, _api(imrt, f"/accounts/{coordinator.pk}/reactivate"), {"reason": "returned"})
    assert on.json()["is_active"] is True
    assert _logs_in("coordinator", PASSWORD)
    history = list(coordinator.history.order_by("history_date"))
    assert [h.history_change_reason for h in history[-2:]] == ["left the hospital", "returned"]
    assert all(h.history_user.username == "study_admin" for h in history[-2:])
    assert not hasattr(history[-1], "password")  # password hashes are never copied into history
    me = world.users["study_admin"]
    assert _post(client, _api(imrt, f"/accounts/{me.pk}/deactivate"), {"reason": "x"}).status_code == 422


def test_account_actions_need_every_study_of_the_user_managed(client, world, root):
    from npctrial.web.core.studies import create_study

    other = create_study(code="other", yaml_text=load_bundled_protocol_text("imrt-s1"), sites=[world.sites["A"]])
    Membership.objects.create(user=world.users["monitor"], study=other, role="monitor")
    login(client, "study_admin")
    monitor = world.users["monitor"]
    refused = _post(client, _api(world.studies["imrt"], f"/accounts/{monitor.pk}/deactivate"), {"reason": "x"})
    assert refused.status_code == 403 and "other" in refused.json()["detail"]
    assert _post(client, _api(world.studies["imrt"], f"/accounts/{root.pk}/reset-password"),
                 {"reason": "x"}).status_code == 404  # not a member of the study
    login(client, "root")
    assert _post(client, _api(world.studies["imrt"], f"/accounts/{monitor.pk}/deactivate"),
                 {"reason": "left"}).status_code == 200


def test_password_reset_disables_the_old_password_and_gives_a_link(client, world):
    imrt = world.studies["imrt"]
    monitor = world.users["monitor"]
    login(client, "study_admin")
    reset = _post(client, _api(imrt, f"/accounts/{monitor.pk}/reset-password"), {"reason": "forgotten"})
    assert reset.status_code == 200 and reset.json()["has_password"] is False
    assert not _logs_in("monitor", PASSWORD)
    anonymous = Client()
    form = anonymous.get(reset.json()["set_password_url"], follow=True)
    short = anonymous.post(form.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"})
    assert short.status_code == 200 and b"errorlist" in short.content  # password validators apply
    anonymous.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert _logs_in("monitor", NEW_PASSWORD)


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "bad name!", "role": "monitor"}, "username"),
    ({"username": "monitor", "role": "monitor"}, "username"),
    ({"username": "n1", "role": "chief"}, "role"),
    ({"username": "n1", "role": "coordinator", "site": "XX"}, "site"),
    ({"username": "n1", "role": "monitor", "email": "not-an-address"}, "email"),
    ({"username": "n1", "role": "monitor", "password": "short"}, "password"),
    ({"role": "monitor"}, "username"),
])
def test_bad_account_input_is_422_naming_the_field_and_creates_nothing(client, world, body, field):
    login(client, "study_admin")
    before = get_user_model().objects.count()
    response = _post(client, _api(world.studies["imrt"], "/accounts"), body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert get_user_model().objects.count() == before


# --------------------------------------------------------------------------- pages


def test_admin_pages_add_a_site_create_an_invited_user_and_show_refusals(world):
    imrt = world.studies["imrt"]
    page = login(Client(), "study_admin")
    home = page.get(f"/studies/{imrt.pk}/admin/")
    assert home.status_code == 200 and b'data-site="GZ"' in home.content
    assert b'value="study_admin"' not in home.content  # only administrators appoint study admins
    added = page.post(f"/studies/{imrt.pk}/admin/sites/", {"site-code": "SG", "site-name": "Singapore"})
    assert added.status_code == 302 and StudySite.objects.filter(study=imrt, site__code="SG").exists()
    refused = page.post(f"/studies/{imrt.pk}/admin/sites/", {"site-code": "SG", "site-name": ""})
    assert refused.status_code == 400 and b"already takes part" in refused.content
    created = page.post(f"/studies/{imrt.pk}/admin/accounts/", {"account-username": "chen", "account-role":
                                                                "coordinator", "account-site": "SG"})
    assert created.status_code == 200 and b"account-link" in created.content
    link = re.search(rb'value="(http[^"]+)"', created.content).group(1).decode()
    assert "/accounts/set-password/" in link
    assert Membership.objects.get(user__username="chen", study=imrt).site.code == "SG"
    chen = get_user_model().objects.get(username="chen")
    ended = page.post(f"/studies/{imrt.pk}/admin/accounts/{chen.pk}/active/", {"active": "0", "reason": ""})
    assert ended.status_code == 400 and get_user_model().objects.get(username="chen").is_active
    ended = page.post(f"/studies/{imrt.pk}/admin/accounts/{chen.pk}/active/", {"active": "0", "reason": "typo"})
    assert ended.status_code == 302 and not get_user_model().objects.get(username="chen").is_active
    coordinator = login(Client(), "coordinator")
    assert coordinator.get(f"/studies/{imrt.pk}/admin/").status_code == 403
    dashboard = page.get(f"/studies/{imrt.pk}/")
    assert b'id="admin-link"' in dashboard.content


# --------------------------------------------------------------------------- fuzz


def test_administration_routes_never_answer_500(client, world, root):
    """Random bodies and path values on every administration route, as the study admin and as root."""
    from tests.web.api_fuzz import fuzz_operations

    login(client, "root")
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(m, p) for p, item in schema["paths"].items() for m, op in item.items()
                  if "administration" in op.get("tags", [])]
    assert len(operations) == 14
    sent = 0
    for user in ("study_admin", "root"):
        login(client, user)
        sent += fuzz_operations(client, schema, operations, examples=15)
    assert sent == 2 * 14 * 15


def test_a_study_is_created_from_an_uploaded_protocol_file_then_administered(world, root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = login(Client(), "root")
    text = load_bundled_protocol_text("ccrt-nimotuzumab").encode()
    created = page.post("/studies/new/", {"code": "ccrt-uat", "target_enrolment": 60,
                                          "protocol_file": SimpleUploadedFile("ccrt.yaml", text)})
    study = Study.objects.get(code="ccrt-uat")
    assert created.status_code == 302 and created["Location"] == f"/studies/{study.pk}/admin/"
    assert study.current_protocol.protocol_id == "ccrt-nimotuzumab"
    latin1 = page.post("/studies/new/", {"code": "bad-file", "target_enrolment": 1,
                                         "protocol_file": SimpleUploadedFile("p.yaml", "titre: é".encode("latin-1"))})
    assert latin1.status_code == 400 and b"not UTF-8" in latin1.content
    empty = page.post("/studies/new/", {"code": "nothing", "target_enrolment": 1})
    assert empty.status_code == 400 and not Study.objects.filter(code__in=["bad-file", "nothing"]).exists()
    admin_page = page.get(created["Location"])
    assert b'value="study_admin"' in admin_page.content  # administrators appoint study admins


def test_every_administrative_action_is_in_the_study_wide_audit_log(client, new_study):
    from npctrial.web.core.models_audit import AuditEvent

    s = new_study
    _post(client, _api(s, "/sites"), {"code": "GZ", "name": "Guangzhou"})
    created = _post(client, _api(s, "/accounts"), {"username": "zhao", "role": "coordinator", "site": "GZ"}).json()
    member = client.get(_api(s, "/members")).json()[0]
    _post(client, _api(s, f"/members/{member['id']}/end"), {"reason": "moved to HK"})
    _post(client, _api(s, "/sites/GZ/deactivate"), {"reason": "closed"})
    _post(client, _api(s, f"/accounts/{created['id']}/deactivate"), {"reason": "left"})
    _post(client, _api(s, f"/accounts/{created['id']}/reactivate"), {"reason": "back"})
    _post(client, _api(s, f"/accounts/{created['id']}/reset-password"), {"reason": "forgotten"})
    events = list(AuditEvent.objects.filter(study=s).order_by("at", "pk"))
    assert [e.action for e in events] == ["study_created", "site_added", "user_created", "member_added",
                                          "member_removed", "site_deactivated", "user_deactivated",
                                          "user_reactivated", "password_reset"]
    assert all(e.username == "root" for e in events)
    assert [e.reason for e in events if e.reason] == ["moved to HK", "closed", "left", "back", "forgotten"]
    assert events[3].details == {"user": "zhao", "role": "coordinator", "site": "GZ"}
    assert events[1].ip_address == "127.0.0.1"
