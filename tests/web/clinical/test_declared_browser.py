"""Browser (Playwright + Debian chromium, live_server): a coordinator opens the nutrition form from week 1
of the visit grid, answers "feeding tube: yes" and the tube type and date appear (the server says which
fields show, the app's script shows them), fills them in and saves; the calculated weight change and BMI
come out as worked by hand: (58.9 - 62) / 62 x 100 = -5.0 %, 58.9 / 1.70^2 = 20.4."""

from __future__ import annotations

from datetime import date

import pytest

from npctrial.web.clinical.models import DeclaredRecord
from tests.web.clinical.conftest import RT, save
from tests.web.clinical.test_declared_pages import BASELINE
from tests.web.conftest import make_world
from tests.web.test_browser import _login, browser, page  # noqa: F401  (fixtures)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_feeding_tube_brings_up_its_type_and_the_record_is_saved(live_server, page):  # noqa: F811
    world = make_world()
    study, subject = world.studies["imrt"], world.subjects[("imrt", "A")]
    save("baseline", world, dict(BASELINE))
    save("radiotherapy", world, dict(RT))
    base = live_server.url
    _login(page, base, "coordinator")
    page.goto(f"{base}/studies/{study.pk}/clinical/subjects/{subject.pk}/")
    page.click("#event-grid a[href$='/events/ccrt_w1/']")
    page.click("#add-nutrition")
    page.wait_for_selector("#declared-form")
    assert not page.is_visible("[data-field='tube_type']")  # asked only with a feeding tube
    page.fill("#id_assessment_date", "2026-01-14")
    page.fill("#id_weight_kg", "58.9")
    page.select_option("#id_oral_intake", "reduced")
    page.select_option("#id_supplements", "yes")
    page.select_option("#id_feeding_tube", "yes")
    page.wait_for_selector("[data-field='tube_type']:not([hidden])")
    page.wait_for_selector("#calc-bmi:text('20.4')")
    page.select_option("#id_tube_type", "nasogastric")
    page.fill("#id_tube_date", "2026-01-13")
    page.click("#declared-save")
    page.wait_for_selector("ul.messages li.success")
    rec = DeclaredRecord.objects.get(subject=subject, form="nutrition")
    assert rec.values["tube_type"] == "nasogastric" and rec.values["tube_date"] == "2026-01-13"
    assert rec.calculated["weight_change_pct"] == -5.0 and rec.calculated["bmi"] == 20.4
    assert rec.event == "ccrt_w1" and rec.record_date == date(2026, 1, 14)
    page.wait_for_selector("#form-nutrition tr[data-record]")  # back on the week's page, listed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_late_answer_to_an_earlier_change_never_hides_the_fields_the_latest_values_show(live_server, page):  # noqa: F811
    """On a busy server the answer to "supplements: yes" (feeding tube not yet answered, so the tube
    type is hidden) may come back after the answer to "feeding tube: yes". Only the latest answer
    counts: the tube type stays shown and can be filled in."""
    world = make_world()
    study, subject = world.studies["imrt"], world.subjects[("imrt", "A")]
    held, hold = [], []

    def hold_one(route):
        if hold and not held:
            held.append(route)
            return
        route.continue_()

    page.route("**/forms/nutrition/preview/", hold_one)
    _login(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/studies/{study.pk}/clinical/subjects/{subject.pk}/nutrition/new/")
    page.wait_for_selector("#declared-form")
    hold.append(True)
    page.select_option("#id_supplements", "yes")
    page.wait_for_function("document.querySelector('#id_supplements').value === 'yes'")
    page.select_option("#id_feeding_tube", "yes")
    page.wait_for_selector("[data-field='tube_type']:not([hidden])")
    assert held, "the supplements change asked the server"
    with page.expect_response("**/forms/nutrition/preview/"):
        held[0].continue_()
    page.wait_for_timeout(200)  # the stale answer has been handled by the page's script
    assert page.is_visible("[data-field='tube_type']") and page.is_enabled("#id_tube_type")
