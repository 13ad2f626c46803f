"""Browser (Playwright + Debian chromium, live_server): a coordinator opens the lab panel from week 2 of the
visit grid, enters ten analytes in their laboratory's units, sees each suggested CTCAE v4.03 grade appear
as the value is typed, and saves them in one submission.

Expected grades from CTCAE v4.03 by hand: Hb 9.5 g/dL (Anemia <10.0 - 8.0 g/dL) 2; platelets 60 x10^9/L
(<75,000 - 50,000/mm3) 2; ALT 130 U/L with ULN 40 (3.25 x ULN: >3.0 - 5.0) 2; bilirubin 2.5 mg/dL with ULN
21 umol/L (42.8 umol/L = 2.04 x ULN: >1.5 - 3.0) 2; AST 30 U/L with ULN 35: 0.
"""

from __future__ import annotations

from datetime import date

import pytest

from npctrial.web.clinical.models import LabResult
from tests.web.clinical.conftest import RT, save
from tests.web.clinical.test_lab_panel import ranges
from tests.web.conftest import make_world
from tests.web.test_browser import _login, browser, page  # noqa: F401  (fixtures)

VALUES = {"wbc": ("3.5", "10^9/L"), "neutrophils": ("1.2", "10^9/L"), "lymphocytes": ("0.9", "10^9/L"),
          "hemoglobin": ("9.5", "g/dL"), "platelets": ("60", "10^9/L"), "alt": ("130", "U/L"), "ast": ("30", "U/L"),
          "bilirubin": ("2.5", "mg/dL"), "albumin": ("42", "g/L"), "creatinine": ("80", "umol/L")}
EXPECTED = {"hemoglobin": 2, "platelets": 2, "alt": 2, "bilirubin": 2, "ast": 0, "creatinine": 0}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ten_analyte_panel_with_live_grades_in_one_submission(live_server, page):  # noqa: F811
    world = make_world()
    study, subject = world.studies["imrt"], world.subjects[("imrt", "A")]
    save("radiotherapy", world, dict(RT))
    ranges(world)
    base = live_server.url
    _login(page, base, "coordinator")
    page.goto(f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/")
    page.click("#event-grid a[href$='/events/ccrt_w2/']")
    page.click("#add-lab-panel")
    page.wait_for_selector("#panel-form")
    assert page.input_value("#id_week") == "2"  # the week of the event
    page.fill("#id_sample_date", "2026-01-20")
    page.wait_for_selector("tr[data-row='alt'] td[data-ref='uln']:has-text('40 U/L')")  # the site's range that day
    for key, (value, unit) in VALUES.items():
        page.select_option(f"#id_{key}-unit", unit)
        page.fill(f"#id_{key}-value", value)
    for key, grade in EXPECTED.items():
        page.wait_for_selector(f"#grade-{key}[data-grade='{grade}']")
    page.click("#save-panel")
    page.wait_for_selector("ul.messages li.success")
    saved = {r.term: r for r in LabResult.objects.filter(subject=subject)}
    assert len(saved) == 10
    assert {t: r.grade for t, r in saved.items() if t in ("anemia", "blood_bilirubin_increased")} == {
        "anemia": 2, "blood_bilirubin_increased": 2}
    assert all(r.event == "ccrt_w2" and r.sample_date == date(2026, 1, 20) for r in saved.values())



@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_values_typed_while_the_ranges_of_a_new_date_are_read_are_kept_and_graded(live_server, page):  # noqa: F811
    """A new sample date re-reads the site's ranges in force on it. On a busy server the answer comes
    after the coordinator has typed on: it must fill the range cells only, never re-render the rows
    (which would silently clear what was typed), and the rows are graded again against the new range."""
    world = make_world()
    study, subject = world.studies["imrt"], world.subjects[("imrt", "A")]
    ranges(world)
    held = []

    def hold_ranges(route):
        if not held and route.request.method == "GET" and "sample_date=2026-01-20" in route.request.url:
            held.append(route)  # answered after the values are typed
            return
        route.continue_()

    page.route("**/lab-panel/?*", hold_ranges)
    _login(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/studies/{study.pk}/clinical/subjects/{subject.pk}/lab-panel/")
    page.wait_for_selector("#panel-form")
    page.fill("#id_sample_date", "2026-01-20")
    page.select_option("#id_alt-unit", "U/L")
    page.fill("#id_alt-value", "130")  # 3.25 x ULN 40 U/L: grade 2 (> 3.0 - 5.0 x ULN)
    page.wait_for_function("document.querySelector('#id_alt-value').value === '130'")
    assert held, "the date change asked for the ranges of that date"
    held[0].continue_()
    page.wait_for_selector("#uln-alt:has-text('40 U/L')")
    page.wait_for_selector("#grade-alt[data-grade='2']")
    assert page.input_value("#id_alt-value") == "130"
    assert page.input_value("#id_alt-unit") == "U/L"
