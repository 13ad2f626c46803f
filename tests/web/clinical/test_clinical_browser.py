"""Browser journey (Playwright + Debian chromium, live_server): a coordinator records a week of
toxicity with labs, a tumour assessment with lesions and a follow-up visit; the report page then
shows the updated AE rate and the KM curve. Reuses the core browser/page fixtures.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from npctrial.web.core.models import Subject
from tests.web.clinical.conftest import RT, save
from tests.web.conftest import make_world
from tests.web.test_browser import _login, browser, page  # noqa: F401  (fixtures)


def _add(pg, base_casebook: str, form: str) -> None:
    pg.goto(base_casebook)
    pg.click(f"#add-{form}")
    pg.wait_for_selector("#crf-form")


def _save(pg) -> None:
    pg.click("#crf-form button[type=submit]")
    pg.wait_for_selector("ul.messages li.success")  # saved: back on the record's event page or the casebook


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_week_of_toxicity_assessment_follow_up_and_report(live_server, page):  # noqa: F811
    world = make_world()
    study = world.studies["imrt"]
    subject = world.subjects[("imrt", "A")]
    Subject.objects.filter(pk=subject.pk).update(enrolment_date=date(2026, 1, 5))
    subject.refresh_from_db()
    save("radiotherapy", world, dict(RT))
    save("assessment", world, {"assessment_date": date(2026, 1, 4), "new_lesions": "no"},
         lesions=[{"lesion_id": "L1", "location": "nasopharynx", "target": True, "nodal": False, "diameter_mm": 50},
                  {"lesion_id": "N1", "location": "level II node", "target": True, "nodal": True, "diameter_mm": 30}])
    base = live_server.url
    casebook = f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/"
    report = f"{base}/studies/{study.pk}/clinical/report/"
    _login(page, base, "coordinator")

    page.goto(report)
    assert page.get_attribute("#ae-rate", "data-x") == "0"
    assert page.get_attribute("#ae-rate", "data-n") == "1"

    # week 2 of RT: platelets 40 x10^9/L -> suggested CTCAE grade 3 shown live, accepted
    _add(page, casebook, "lab")
    page.fill("input[name=week]", "2")
    page.fill("input[name=sample_date]", "2026-01-20")
    page.select_option("select[name=term]", "platelet_count_decreased")
    page.fill("input[name=value]", "40")
    page.select_option("select[name=unit]", "10^9/L")  # units come from the analyte's controlled list
    page.fill("input[name=lln]", "150")
    page.select_option("select[name=lln_unit]", "10^9/L")
    page.click("#suggest")
    page.wait_for_selector("#suggested[data-grade='3']")
    _save(page)
    # the same week: grade 3 oral mucositis and the RTOG acute mucous-membrane score
    _add(page, casebook, "ae")
    page.fill("input[name=week]", "2")
    page.select_option("select[name=term]", "mucositis_oral")
    page.fill("input[name=grade]", "3")
    page.select_option("select[name=attribution]", "probable")
    page.fill("input[name=start_date]", "2026-01-21")
    _save(page)
    _add(page, casebook, "rtog")
    page.fill("input[name=assessment_date]", "2026-01-21")
    page.select_option("select[name=scale]", "acute")
    page.select_option("select[name=organ]", "mucous_membrane")
    page.fill("input[name=grade]", "3")
    _save(page)
    page.goto(casebook)
    page.click("#event-grid a[href$='/events/ccrt_w2/']")
    assert page.locator("#form-lab td", has_text="Platelet count decreased").count() == 1  # the term, not its code

    # tumour assessment with lesions: 30 + 20 = 50 mm vs 80 at baseline -> PR
    _add(page, casebook, "assessment")
    page.fill("input[name=assessment_date]", "2026-03-30")
    page.fill("input[name=lesions-0-lesion_id]", "L1")
    page.fill("input[name=lesions-0-location]", "nasopharynx")
    page.fill("input[name=lesions-0-diameter_mm]", "30")
    page.fill("input[name=lesions-1-lesion_id]", "N1")
    page.fill("input[name=lesions-1-location]", "level II node")
    page.check("input[name=lesions-1-nodal]")
    page.fill("input[name=lesions-1-diameter_mm]", "20")
    _save(page)
    page.goto(casebook)
    assert page.inner_text("#bor") == "PR"

    # follow-up visit
    _add(page, casebook, "followup")
    page.fill("input[name=visit_date]", "2026-05-28")
    page.select_option("select[name=status]", "alive_ned")
    _save(page)
    page.goto(casebook)
    assert page.locator("#calendar .cal-done").count() == 1

    page.goto(report)
    assert page.get_attribute("#ae-rate", "data-x") == "1"
    assert re.search(r"1/1", page.inner_text("#ae-rate"))
    assert page.locator("#km-pfs svg").count() == 1 and page.locator("#km-os svg").count() == 1
    assert "Mucositis oral" in page.inner_text("#ae-table")
