"""The administration API validates exactly like the administration pages' forms.

Hypothesis draws account, site and membership inputs (padded, over-long, NUL, unicode, wrong case,
unknown roles and sites, passwords with spaces); each one is posted through the page and, after a
rollback, through the API. Both must accept it or both refuse it, and an accepted input must be
stored identically (a page that strips a password the API keeps would lock the user out).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from npctrial.web.core.models import Membership, StudySite
from tests.web.conftest import login

_EXAMPLES = 40


def _mostly(valid: st.SearchStrategy[Any], edge: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid about three times in four, so that accepted inputs are compared too, not only refusals."""
    return st.one_of(valid, valid, valid, edge)


_TEXT = _mostly(st.sampled_from(["", "Chen", "陈", "O'Brien", "x" * 150]), st.one_of(st.text(max_size=20), st.sampled_from(
    [" ", "  Chen  ", "x" * 151, " " + "x" * 150 + " ", "a\x00b", "\t\n"])))
_USERNAME = _mostly(st.from_regex(r"\Anew[a-z0-9_.@+-]{0,8}\Z"), st.sampled_from(
    ["", " ", " li.wei ", "bad name!", "monitor", "MONITOR", "x" * 150, "x" * 151, " " + "y" * 150 + " ",
     "a\x00b", "李伟", "new\n"]))
_EMAIL = _mostly(st.sampled_from(["", "li@example.org"]), st.sampled_from(
    [" ", " li@example.org ", "not-an-address", "a\x00@b.cn", "x" * 243 + "@b.org", "x" * 250 + "@b.org"]))
_ROLE = _mostly(st.sampled_from(["coordinator", "monitor", "investigator"]),
                st.sampled_from(["study_admin", "chief", "", "Monitor"]))
_SITE = _mostly(st.sampled_from(["", "GZ", "HK"]), st.sampled_from(["gz", " GZ ", "XX", "GZ\x00"]))
_PASSWORD = _mostly(st.sampled_from([None, "a-long-new-passphrase-42", "  a-long-new-passphrase-42  "]),
                    st.sampled_from(["", "short", "12345678901234567890", " "]))
_CODE = _mostly(st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{0,11}\Z"), st.one_of(st.from_regex(r"\A[A-Za-z0-9 -]{0,14}\Z"),
                st.sampled_from(["", " ", " SG ", "sg", "GZ", " ABCDEFGHIJKL ", "ABCDEFGHIJKLM", "-SG", "S\x00G",
                                 "SG\n"])))
_SITE_NAME = _mostly(st.sampled_from(["Singapore", "x" * 200, "广州"]),
                     st.sampled_from(["", "x" * 201, " Singapore General ", "a\x00b", " " + "x" * 200 + " "]))

_SETTINGS = settings(max_examples=_EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class _Rollback(Exception):
    pass


def _attempt(send: Any, observe: Any) -> Any:
    """Send the request in a savepoint, observe the stored state, roll everything back."""
    seen: dict[str, Any] = {}
    try:
        with transaction.atomic():
            seen["status"] = send().status_code
            seen["state"] = observe()
            raise _Rollback
    except _Rollback:
        pass
    assert seen["status"] < 500, seen
    return seen["state"]


def _account_state(newer_than: int, password: str | None) -> Any:
    """The account the request created (users with a pk above ``newer_than``), or None."""
    user = get_user_model().objects.filter(pk__gt=newer_than).first()
    if user is None:
        return None
    m = Membership.objects.get(user=user)
    return (user.username, user.first_name, user.last_name, user.email, user.has_usable_password(),
            bool(password) and user.check_password(password), m.role, m.site.code if m.site else None)


@pytest.fixture
def admins(world: Any) -> tuple[Client, Client]:
    return login(Client(), "study_admin"), login(Client(), "study_admin")


def _assert_same_decision(page_send: Any, api_send: Any, observe: Any, outcomes: list[bool], label: Any) -> None:
    by_page = _attempt(page_send, observe)
    by_api = _attempt(api_send, observe)
    assert by_page == by_api, (label, by_page, by_api)
    outcomes.append(bool(by_page))


def _assert_both_outcomes(outcomes: list[bool]) -> None:
    """The run compared accepted inputs and refused ones, not only one kind."""
    assert len(outcomes) >= _EXAMPLES and any(outcomes) and not all(outcomes), outcomes


def test_accounts_are_accepted_or_refused_alike(world, admins):
    page, api = admins
    study = world.studies["imrt"]
    before = get_user_model().objects.count()
    last_pk = get_user_model().objects.order_by("-pk").values_list("pk", flat=True).first()
    outcomes: list[bool] = []

    @_SETTINGS
    @given(username=_USERNAME, first=_TEXT, last=_TEXT, email=_EMAIL, role=_ROLE, site=_SITE, password=_PASSWORD)
    @example(username="newli", first="Li", last="x" * 151, email="", role="monitor", site="", password=None)
    @example(username="newli", first="Li", last="", email="", role="monitor", site="",
             password="  a-long-new-passphrase-42  ")
    def check(username, first, last, email, role, site, password):
        fields = {"username": username, "first_name": first, "last_name": last, "email": email, "role": role,
                  "site": site, **({} if password is None else {"password": password})}
        _assert_same_decision(lambda: page.post(f"/studies/{study.pk}/admin/accounts/",
                                   {f"account-{k}": v for k, v in fields.items()}),
                 lambda: api.post(f"/api/v1/studies/{study.pk}/accounts", fields, content_type="application/json"),
                 lambda: _account_state(last_pk, password), outcomes, fields)

    check()
    _assert_both_outcomes(outcomes)
    assert get_user_model().objects.count() == before


def _site_state(code: str) -> Any:
    link = StudySite.objects.filter(study__code="imrt-s1", site__code=code.strip().upper()).first()
    if link is None or link.site.code in ("GZ", "HK"):  # the study's sites before the request
        return None
    return link.site.code, link.site.name


def test_sites_are_accepted_or_refused_alike(world, admins):
    page, api = admins
    study = world.studies["imrt"]
    outcomes: list[bool] = []

    @_SETTINGS
    @given(code=_CODE, name=_SITE_NAME)
    @example(code=" ABCDEFGHIJKL ", name="Singapore")
    @example(code="SG", name="x" * 201)
    def check(code, name):
        _assert_same_decision(lambda: page.post(f"/studies/{study.pk}/admin/sites/", {"site-code": code, "site-name": name}),
                 lambda: api.post(f"/api/v1/studies/{study.pk}/sites", {"code": code, "name": name},
                                  content_type="application/json"), lambda: _site_state(code), outcomes, (code, name))

    check()
    _assert_both_outcomes(outcomes)


def _member_state(before: int) -> Any:
    added = Membership.objects.filter(study__code="imrt-s1").order_by("pk")[before:]
    return [(m.user.username, m.role, m.site.code if m.site else None) for m in added]


def test_memberships_are_accepted_or_refused_alike(world, admins):
    page, api = admins
    study = world.studies["imrt"]
    before = Membership.objects.filter(study=study).count()
    outcomes: list[bool] = []

    @_SETTINGS
    @given(username=_mostly(st.sampled_from(["outsider", " outsider "]),
                            st.sampled_from(["OUTSIDER", "monitor", "nobody", "", "out\x00sider"])),
           role=_ROLE, site=_SITE)
    def check(username, role, site):
        _assert_same_decision(lambda: page.post(f"/studies/{study.pk}/admin/members/", {
            "member-username": username, "member-role": role, "member-site": site}),
            lambda: api.post(f"/api/v1/studies/{study.pk}/members", {"username": username, "role": role, "site": site},
                             content_type="application/json"), lambda: _member_state(before), outcomes,
            (username, role, site))

    check()
    _assert_both_outcomes(outcomes)


def test_a_password_with_spaces_set_on_the_page_is_the_one_the_user_logs_in_with(world):
    page = login(Client(), "study_admin")
    study = world.studies["imrt"]
    password = "  a-long-new-passphrase-42  "
    page.post(f"/studies/{study.pk}/admin/accounts/", {"account-username": "wei", "account-role": "monitor",
                                                       "account-site": "", "account-password": password})
    assert get_user_model().objects.get(username="wei").check_password(password)


def test_over_long_names_are_refused_naming_the_field_not_cut(world):
    api = login(Client(), "study_admin")
    study = world.studies["imrt"]
    long_name = api.post(f"/api/v1/studies/{study.pk}/accounts", {"username": "wei", "role": "monitor",
                                                                  "first_name": "x" * 151},
                         content_type="application/json")
    assert long_name.status_code == 422 and long_name.json()["errors"][0]["field"] == "first_name"
    site = api.post(f"/api/v1/studies/{study.pk}/sites", {"code": "SG", "name": "y" * 201},
                    content_type="application/json")
    assert site.status_code == 422 and site.json()["errors"][0]["field"] == "name"
    assert not get_user_model().objects.filter(username="wei").exists()
