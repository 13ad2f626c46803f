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
    page.wait_for_selector("tr[data-row='alt'] td[data-ref='uln']")  # the site's range of that date, shown
    assert "40 U/L" in page.inner_text("tr[data-row='alt'] td[data-ref='uln']")
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
