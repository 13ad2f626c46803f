"""Change control and import in the browser (Playwright + Debian chromium).

The study administrator proposes an amendment (Hb >= 140 g/L instead of 100): its page shows the
changed criterion and its impact, and the proposer cannot approve it; an investigator approves it
and the new version is in force. A coordinator imports 50 adverse events of which 3 rows are wrong:
the import is refused, nothing is written, and the 3 problems are listed by row and field.
A screenshot is written to ``test-artifacts/`` when a journey fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from npctrial.web.clinical.models import AdverseEvent
from npctrial.web.core.models import ProtocolVersion
from tests.web.conftest import make_world
from tests.web.test_amendments import _imrt_amended
from tests.web.test_browser import _login, browser, open_page  # noqa: F401  (fixture)
from tests.web.test_imports import BAD, _ae_rows


@pytest.fixture
def cc_page(browser, request) -> Iterator:  # noqa: F811
    yield from open_page(browser, request)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_amendment_is_proposed_reviewed_and_approved_by_someone_else(live_server, cc_page):
    page = cc_page
    world = make_world()
    imrt = world.studies["imrt"]
    base = live_server.url

    _login(page, base, "study_admin")
    page.goto(f"{base}/studies/{imrt.pk}/amend/")
    page.fill("#amend-form textarea[name=protocol_yaml]", _imrt_amended(hb=140))
    page.fill("#amend-form input[name=reason]", "Haemoglobin threshold raised to 140 g/L")
    page.click("#amend-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/amendments/\d+/$"))
    row = page.locator("#criteria-changes tr[data-criterion='I5']")
    assert "hb >= 100" in row.inner_text() and "hb >= 140" in row.inner_text()
    # the world's four screenings (Hb 132 g/L) would become ineligible
    assert "eligible -> ineligible: 4" in page.inner_text("#outcome-changes")
    assert page.locator("#decision-form").count() == 0 and page.locator("#awaiting").count() == 1
    detail_url = page.url

    _login(page, base, "investigator")
    page.goto(detail_url)
    page.fill("#decision-form input[name=note]", "PI approval")
    with page.expect_navigation():
        page.click("#decision-form button[value=approve]")
    page.goto(detail_url)
    assert page.locator("#amendment-status").inner_text().lower() == "approved"
    assert page.locator("#decision-form").count() == 0
    _login(page, base, "study_admin")
    page.goto(f"{base}/studies/{imrt.pk}/amend/")
    assert "in force" in page.inner_text("#versions tr[data-version='2']")
    version = ProtocolVersion.objects.get(study=imrt, number=2)
    assert version.status == "approved" and version.decided_by.username == "investigator"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_import_of_fifty_records_with_three_bad_rows_is_refused_listing_them(live_server, cc_page, tmp_path: Path):
    page = cc_page
    world = make_world()
    imrt = world.studies["imrt"]
    base = live_server.url
    upload = tmp_path / "ae.csv"
    upload.write_bytes(_ae_rows(world, 50, BAD))

    _login(page, base, "coordinator")
    page.goto(f"{base}/studies/{imrt.pk}/clinical/import/")
    page.select_option("#import-form select[name=kind]", "ae")
    page.set_input_files("#import-form input[name=file]", str(upload))
    page.fill("#import-form input[name=reason]", "migration from the paper CRFs")
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-report")
    report = page.locator("#import-report")
    assert report.get_attribute("data-applied") == "false" and report.get_attribute("data-problems") == "3"
    listed = [(r.get_attribute("data-row"), r.get_attribute("data-field"))
              for r in page.locator("#problems tr[data-row]").all()]
    assert listed == [("7", "grade"), ("23", "term"), ("41", "start_date")]
    assert not AdverseEvent.objects.exists()
    assert "refused (3 problems)" in page.inner_text("#import-runs")
