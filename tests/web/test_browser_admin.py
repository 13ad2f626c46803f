"""Administration journey in the browser (Playwright + Debian chromium), from an empty EDC.

An administrator creates a study from a protocol file, adds two sites, creates a coordinator with
a password, invites an investigator (one-time link) and a monitor, gives the investigator a second
role x site membership; the coordinator logs in and screens and enrols a patient at her site; the
invited investigator chooses a password through the link and sees the subject. A screenshot is
written to ``test-artifacts/`` when the journey fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from npctrial.web.core.models import Membership, Study, Subject
from npctrial.web.core.protocols import load_bundled_protocol_text
from tests.web.conftest import PASSWORD
from tests.web.test_browser import _login, browser, open_page, screen_eligible_and_enrol  # noqa: F401  (fixture)

INVITED_PASSWORD = "a-long-new-passphrase-42"


@pytest.fixture
def admin_page(browser, request) -> Iterator:  # noqa: F811
    yield from open_page(browser, request)


def _admin_form(page, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"#{form}-form [name='{form}-{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.click(f"#{form}-form button[type=submit]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_administrator_makes_a_new_study_runnable_and_its_coordinator_screens(live_server, admin_page, tmp_path: Path):
    page = admin_page
    base = live_server.url
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    protocol = tmp_path / "ccrt-nimotuzumab.yaml"
    protocol.write_text(load_bundled_protocol_text("ccrt-nimotuzumab"), encoding="utf-8")

    # 1. the administrator creates the study from the protocol file: it has no sites, no members
    _login(page, base, "root")
    page.goto(f"{base}/studies/new/")
    page.fill("#study-form input[name=code]", "ccrt-sysu")
    page.fill("#study-form input[name=target_enrolment]", "60")
    page.set_input_files("#study-form input[name=protocol_file]", str(protocol))
    page.click("#study-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/studies/\d+/admin/$"))
    study = Study.objects.get(code="ccrt-sysu")
    assert study.current_protocol.protocol_id == "ccrt-nimotuzumab"
    assert "No sites yet" in page.inner_text("#sites")

    # 2. two sites; a refused one is shown with its problem and not added
    _admin_form(page, "site", {"code": "SY", "name": "Sun Yat-sen University Cancer Center"})
    page.wait_for_selector("#sites tr[data-site='SY']")
    _admin_form(page, "site", {"code": "wz", "name": "Wuzhou Red Cross Hospital"})
    page.wait_for_selector("#sites tr[data-site='WZ']")
    _admin_form(page, "site", {"code": "S Y!", "name": "typo"})
    page.wait_for_selector("#site-form .errorlist")
    assert page.locator("#sites tr[data-site]").count() == 2

    # 3. three users: a coordinator with a password, an invited investigator, a monitor of all sites
    _admin_form(page, "account", {"username": "lin", "first_name": "Lin", "last_name": "Hui", "role": "coordinator",
                                  "site": "SY", "password": PASSWORD})
    page.wait_for_selector("#members tr[data-member='lin:coordinator:SY']")
    _admin_form(page, "account", {"username": "zhao", "role": "investigator", "site": "WZ",
                                  "email": "zhao@example.org"})
    page.wait_for_selector("#account-link")
    link = page.input_value("#account-link #link")
    assert "/accounts/set-password/" in link
    page.click("text=Back to administration")
    _admin_form(page, "account", {"username": "wu", "role": "monitor", "site": "", "password": PASSWORD})
    page.wait_for_selector("#members tr[data-member='wu:monitor:*']")

    # 4. the invited investigator also gets a role at the other site (a role x site membership)
    _admin_form(page, "member", {"username": "zhao", "role": "investigator", "site": "SY"})
    page.wait_for_selector("#members tr[data-member='zhao:investigator:SY']")
    assert "no password set" in page.inner_text("#accounts tr[data-account='zhao']")
    assert Membership.objects.filter(study=study, active=True).count() == 4

    # 5. the coordinator logs in, cannot administer, screens an eligible patient and enrols him
    _login(page, base, "lin")
    assert page.goto(f"{base}/studies/{study.pk}/admin/").status == 403
    screen_eligible_and_enrol(page, base, study.pk)
    subject = Subject.objects.get(study=study)
    assert subject.site.code == "SY" and subject.subject_id in page.inner_text("h1")

    # 6. the invited investigator chooses a password through the link and sees the subject
    page.click("header .user button")  # log out
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.goto(link)
    page.fill("input[name=new_password1]", INVITED_PASSWORD)
    page.fill("input[name=new_password2]", INVITED_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "zhao")
    page.fill("#id_password", INVITED_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(f"{base}/studies/{study.pk}/subjects/{subject.pk}/")
    assert subject.subject_id in page.inner_text("h1")
