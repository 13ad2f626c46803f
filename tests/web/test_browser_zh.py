"""Browser journey in Simplified Chinese (a zh-CN browser, Playwright + Debian chromium): log in,
screen and enrol a patient, record a week of toxicity, read the study report - every page in
Chinese, clinical terms in Chinese with the English term beside them, coded values unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from npctrial.web.core.models import Subject
from tests.web.clinical.conftest import RT, save
from tests.web.conftest import PASSWORD, make_world
from tests.web.test_browser import _fill_ccrt, browser, open_page  # noqa: F401  (fixture)


@pytest.fixture
def zh_page(browser, request) -> Iterator:  # noqa: F811
    yield from open_page(browser, request, locale="zh-CN")  # Accept-Language: zh-CN


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chinese_journey_login_screen_enrol_weekly_ae_report(live_server, zh_page):
    page = zh_page
    world = make_world()
    ccrt, imrt = world.studies["ccrt"], world.studies["imrt"]
    subject = world.subjects[("imrt", "A")]
    Subject.objects.filter(pk=subject.pk).update(enrolled_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
    save("radiotherapy", world, dict(RT))
    base = live_server.url

    # 1. log in: the login page follows the browser's language
    page.goto(f"{base}/accounts/login/")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.inner_text("main h1") == "登录"
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    assert "退出登录" in page.inner_text("header") and "研究" in page.inner_text("main h1")
    page.click("#language-switcher button[value='zh-hans']")  # save the choice for this user
    page.wait_for_selector("#language-switcher button.current[value='zh-hans']")

    # 2. screen an eligible patient: criteria verdicts live, in Chinese
    page.goto(f"{base}/studies/{ccrt.pk}/screening/new/")
    assert "筛选患者" in page.inner_text("main h1")
    _fill_ccrt(page, ebv="1500", response="SD")
    page.wait_for_selector("#verdicts [data-outcome='eligible']")
    assert page.inner_text("#verdict-outcome") == "符合入组标准"
    assert page.locator("#verdicts [data-verdict='met']").first.inner_text() == "符合"
    page.click("#screening-form button[type=submit]")

    # 3. consent and enrolment
    page.wait_for_selector("#enrol-form")
    assert "知情同意与入组" in page.inner_text("main")
    page.fill("#enrol-form input[name=consent_version]", "1.0")
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("text=已入组，编号")
    assert re.search(r"NIMO-GZ-\d{3}", page.inner_text("main"))

    # 4. a week of toxicity: grade 3 oral mucositis in week 2 of radiotherapy
    page.goto(f"{base}/studies/{imrt.pk}/clinical/subjects/{subject.pk}/")
    assert "病例" in page.inner_text("main h1")
    page.click("#add-ae")
    page.wait_for_selector("#crf-form")
    page.fill("input[name=week]", "2")
    page.select_option("select[name=term]", "mucositis_oral")  # the coded value stays English
    page.fill("input[name=grade]", "3")
    page.select_option("select[name=attribution]", "probable")
    page.fill("input[name=start_date]", "2026-01-21")
    page.click("#crf-form button[type=submit]")
    page.wait_for_selector(".messages >> text=已保存")

    # 5. the study report: Chinese headings, the CTCAE term in Chinese beside the English one
    page.goto(f"{base}/studies/{imrt.pk}/clinical/report/", timeout=90_000)  # the KM figures are drawn
    assert page.inner_text("main h1").startswith("研究报告")
    assert page.get_attribute("#ae-rate", "data-x") == "1"
    assert "不良事件发生率" in page.inner_text("#ae-rate")
    assert "口腔黏膜炎 (Mucositis oral)" in page.inner_text("#ae-table")
    assert page.get_attribute("#ae-table tr[data-term]", "data-term") == "mucositis_oral"
    assert "已入组" in page.inner_text("#flow")
    pdf = page.request.get(f"{base}/studies/{imrt.pk}/clinical/report.pdf", timeout=90_000)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF") and b"NotoSansCJK" in pdf.body()

