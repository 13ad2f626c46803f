"""Browser journeys with Playwright and Debian's chromium against pytest-django's live_server.

Log in, screen an ineligible and an eligible patient (criteria update live through htmx), enrol,
randomise, see the audit entry, raise / answer / close a data query. A screenshot of the page is
written to ``test-artifacts/`` when a journey fails.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, make_world

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, request, **context_options) -> Iterator:
    """A page in a new browser context (``locale=`` etc.); a screenshot when the test failed."""
    context = browser.new_context(**context_options)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, request) -> Iterator:
    yield from open_page(browser, request)


def _login(page, base: str, username: str) -> None:
    if page.locator("header .user button").count():
        page.click("header .user button")  # log out (POST with CSRF)
        page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")  # the header holds the language buttons
    page.wait_for_url(re.compile(r".*/$"))


def _fill_ccrt(page, *, ebv: str, response: str) -> None:
    page.select_option("select[name=t_category]", "T3")
    page.select_option("select[name=n_category]", "N2")
    page.select_option("select[name=m_category]", "M0")
    page.select_option("select[name=induction_chemotherapy]", "true")
    page.fill("input[name=ebv_dna_post_induction]", ebv)
    page.select_option("select[name=induction_response]", response)


def screen_eligible_and_enrol(page, base: str, study_pk: int) -> None:
    """Screen an eligible CCRT patient (EBV DNA 1500 copies/mL, stable disease) and enrol him."""
    page.goto(f"{base}/studies/{study_pk}/screening/new/")
    _fill_ccrt(page, ebv="1500", response="SD")
    page.wait_for_selector("#verdicts [data-outcome='eligible']")
    page.click("#screening-form button[type=submit]")
    page.wait_for_selector("#enrol-form")
    page.fill("#enrol-form input[name=consent_version]", "1.0")
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("text=Enrolled as")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screen_enrol_randomise_audit_and_query_journey(live_server, page):
    world = make_world()
    study = world.studies["ccrt"]
    base = live_server.url
    _login(page, base, "coordinator")
    assert "ccrt-nimo" in page.content()

    # 1. an ineligible patient: EBV DNA 0 copies/mL and a partial response -> I3 not met, live
    page.goto(f"{base}/studies/{study.pk}/screening/new/")
    page.select_option("select[name=t_category]", "T3")
    page.wait_for_selector("#verdicts [data-criterion='I1']")
    _fill_ccrt(page, ebv="0", response="PR")
    page.wait_for_selector("#verdicts [data-outcome='ineligible']")
    row = page.locator("#verdicts tr[data-criterion='I3']")
    assert row.locator("[data-verdict]").get_attribute("data-verdict") == "not_met"
    assert "ebv_dna_post_induction=0" in row.inner_text()
    page.click("#screening-form button[type=submit]")
    page.wait_for_selector("text=Failed criteria")
    assert "I3" in page.inner_text("main")
    assert page.locator("#enrol-form").count() == 0

    # 2. an eligible patient, then consent and enrolment
    screen_eligible_and_enrol(page, base, study.pk)
    subject_id = re.search(r"NIMO-GZ-\d{3}", page.inner_text("h1")).group(0)
    assert subject_id == "NIMO-GZ-002"

    # 3. randomise; the arm is shown once and the button disappears
    page.click("#randomise-form button[type=submit]")
    page.wait_for_selector("#consequences")  # what will happen, then confirm
    assert "cannot be undone" in page.inner_text("#consequences")
    page.click("#confirm-button")
    page.wait_for_selector("#allocation")
    arm = page.locator("#allocation [data-arm]").get_attribute("data-arm")
    assert arm in {"CCRT", "CCRT+NIMO"}
    assert page.locator("#randomise-form").count() == 0
    subject_url = page.url

    # 4. the audit history shows the allocation with the user
    page.click("#history-link")
    audit = page.inner_text("#audit")
    assert "Randomisation #" in audit and "coordinator" in audit and "created" in audit

    # 5. the data manager raises a query; the coordinator answers; the data manager closes it
    _login(page, base, "data_manager")
    page.goto(subject_url)
    page.select_option("#raise-query select[name=field_name]", "ebv_dna_post_induction")
    page.fill("#raise-query textarea[name=text]", "Please attach the EBV DNA lab report.")
    page.click("#raise-query button[type=submit]")
    page.wait_for_selector("text=Query raised")
    assert "open" in page.inner_text("#queries")
    _login(page, base, "coordinator")
    page.goto(subject_url)
    page.fill("#queries textarea[name=answer]", "Report attached to the source file.")
    page.click("#queries button:has-text('Answer')")
    page.wait_for_selector("text=Query answered")
    _login(page, base, "data_manager")
    page.goto(subject_url)
    page.click("#queries button:has-text('Close')")
    page.wait_for_selector("text=Query closed")
    assert "closed" in page.inner_text("#queries")
    page.goto(f"{base}/studies/{study.pk}/")
    # the dashboard counts the world's two open queries (sites GZ and HK); the journey's is closed
    assert page.locator(".stats div:has-text('open queries') b").inner_text() == "2"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_site_user_cannot_open_another_sites_subject(live_server, page):
    world = make_world()
    study = world.studies["ccrt"]
    other = world.subjects[("ccrt", "B")]
    _login(page, live_server.url, "coordinator")
    response = page.goto(f"{live_server.url}/studies/{study.pk}/subjects/{other.pk}/")
    assert response.status == 404
