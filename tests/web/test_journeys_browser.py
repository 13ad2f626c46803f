"""Browser journeys of monitoring and of a record entered in error (Playwright + Debian chromium, live_server).

(a) A monitor opens a subject's grid, verifies an adverse-event record against the source (SDV)
    and raises a query on one field; the coordinator sees the flag next to that field and answers;
    the monitor closes the query. The grid's cell status is checked at each step: complete ->
    verified -> query open (answered is still open) -> verified.
(b) A coordinator voids a lab record entered in error, with a reason, after the confirmation page;
    the record leaves the grid and appears in the voided-records listing, and the record page shows
    the void in its audit trail.

Screenshots of failed journeys go to ``test-artifacts/`` (the ``page`` fixture of test_browser).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from npctrial.web.clinical.crfs import save_crf
from tests.web.conftest import make_world
from tests.web.test_browser import _login, browser, page  # noqa: F401  (fixtures)

TODAY = timezone.localdate()
RT_START = TODAY - timedelta(days=30)


def _world_with_week_one() -> tuple:
    world = make_world()
    subject = world.subjects[("imrt", "A")]
    user = world.users["coordinator"]
    save_crf("radiotherapy", subject, {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33,
                                       "start_date": RT_START}, user)
    ae, _ = save_crf("ae", subject, {"week": 1, "term": "mucositis_oral", "grade": 2, "attribution": "probable",
                                     "start_date": RT_START + timedelta(days=3)}, user, event="ccrt_w1")
    lab, _ = save_crf("lab", subject, {"week": 1, "sample_date": RT_START + timedelta(days=2), "term": "anemia",
                                       "value": 125, "unit": "g/L", "lln": 120, "lln_unit": "g/L"}, user,
                      event="ccrt_w1")
    return world, subject, ae, lab


def _cell_status(pg, casebook: str, form: str, event: str = "ccrt_w1") -> str:
    pg.goto(casebook)
    cell = pg.wait_for_selector(f"#event-grid tr[data-event='{event}'] td[data-form='{form}']")
    return cell.get_attribute("data-status") or ""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_monitor_verifies_raises_a_field_query_coordinator_answers_monitor_closes(live_server, page):  # noqa: F811
    world, subject, ae, _lab = _world_with_week_one()
    study = world.studies["imrt"]
    base = live_server.url
    casebook = f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/"
    record = f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/ae/{ae.pk}/view/"

    _login(page, base, "monitor")
    assert _cell_status(page, casebook, "ae") == "complete"
    page.click("#event-grid tr[data-event='ccrt_w1'] td[data-form='ae'] a")  # the event page, at the AE form
    page.wait_for_selector(f"#form-ae tr[data-record='{ae.pk}']")
    page.click(f"#form-ae tr[data-record='{ae.pk}'] a:text('view')")
    page.wait_for_selector("#record-fields")
    # labels, not codes: the term and the attribution read as words
    term = page.inner_text("#record-fields tr[data-field='term'] td.value")
    assert "mucositis_oral" not in term and "mucositis" in term.lower()
    assert "probable" in page.inner_text("#record-fields tr[data-field='attribution'] td.value").lower()
    for box in page.locator("#sdv-form input[name=fields]:not([disabled])").all():  # every critical field
        box.check()
    page.click("#sdv-verify-record")
    page.wait_for_selector("#sdv-status .sdv-ok")
    assert _cell_status(page, casebook, "ae") == "verified"

    page.goto(record)
    row = "#record-fields tr[data-field='grade']"
    page.click(f"{row} details.raise-query summary")
    page.fill(f"{row} textarea[name=text]", "Grade 2 in the source? The nursing note says grade 3.")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(f"{row} .field-query .q-open")
    assert _cell_status(page, casebook, "ae") == "query"

    _login(page, base, "coordinator")
    page.goto(record)
    flag = page.wait_for_selector(f"{row} .field-query")  # the flag is on the row of the field it concerns
    assert "nursing note" in flag.inner_text()
    assert page.locator("#record-fields tr[data-field='term'] .field-query").count() == 0
    query_row = page.locator("#crf-queries tr[data-query]")
    assert "Grade" in query_row.inner_text() and "ae:" not in query_row.inner_text()  # field label, not the code
    page.fill("#crf-queries textarea[name=answer]", "Checked: the physician's assessment is grade 2.")
    page.click("#crf-queries form[action*='answer'] button")
    page.wait_for_selector(f"{row} .field-query .q-answered")
    assert _cell_status(page, casebook, "ae") == "query"  # answered, not closed yet

    _login(page, base, "monitor")
    page.goto(record)
    page.click("#crf-queries form[action*='close'] button")
    page.wait_for_selector(f"{row} .field-query .q-closed")
    assert _cell_status(page, casebook, "ae") == "verified"  # the record did not change: still verified
    page.goto(record)
    page.wait_for_selector("#record-audit tr[data-history]")  # the record's audit trail is on its page
    assert "coordinator" in page.inner_text("#record-audit")  # who entered it


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_coordinator_voids_a_record_entered_in_error_after_confirming(live_server, page):  # noqa: F811
    world, subject, _ae, lab = _world_with_week_one()
    study = world.studies["imrt"]
    base = live_server.url
    casebook = f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/"
    _login(page, base, "coordinator")
    page.goto(casebook)
    lab_cell = "#event-grid tr[data-event='ccrt_w1'] td[data-form='lab']"
    assert page.wait_for_selector(lab_cell).get_attribute("data-status") == "complete"

    page.goto(f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/lab/{lab.pk}/view/")
    page.click("#void-record")
    page.wait_for_selector("#confirm #consequences li")
    assert "entered in error" in page.inner_text("#consequences")
    page.fill("#id_reason", "entered for the wrong patient")
    page.click("#confirm-button")
    page.wait_for_selector("ul.messages li.success")

    assert _cell_status(page, casebook, "lab") == "not_started"  # the voided record left the grid's counts
    page.goto(f"{base}/studies/{study.pk}/clinical/voided/")
    listed = page.wait_for_selector(f"#voided tr[data-record='lab:{lab.pk}']")
    assert "entered for the wrong patient" in listed.inner_text()
    assert subject.subject_id in listed.inner_text()
    page.click(f"#voided tr[data-record='lab:{lab.pk}'] a")
    page.wait_for_selector("#voided-badge")
    entry = page.wait_for_selector("#record-audit tr[data-history]:first-child")
    assert "entered for the wrong patient" in entry.inner_text()
    assert re.search(r"coordinator", entry.inner_text())
