"""The shipped protocols' Chinese wording on Chinese pages: screening criteria and field labels in
Chinese with the published English one click away, schedule events and arms in Chinese, coded
values unchanged."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import IMRT_ELIGIBLE, login

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def _criterion_cell(page: str, cid: str) -> str:
    match = re.search(rf'data-criterion="{cid}">(.*?)</tr>', page, re.S)
    assert match, cid
    return match.group(1)


def test_new_screening_shows_chinese_criteria_with_the_published_english(world) -> None:
    client = login(Client(), "coordinator")
    study = world.studies["imrt"]
    page = client.get(reverse("screening-new", kwargs={"study_pk": study.pk}), **ZH).content.decode()
    i4 = _criterion_cell(page, "I4")
    assert "白细胞计数 ≥4×10⁹/L" in i4
    assert '<details class="published"><summary>方案原文（英文）</summary>' in i4
    assert 'lang="en">white blood cell counts ≥4×1012/L</span>' in i4  # published wording, verbatim
    assert "血红蛋白 (g/L)" in page and "美国东部肿瘤协作组（ECOG）体力状况评分 0 或 1 分" in page
    assert '<option value="male">男</option>' in page  # the coded value is submitted
    assert '<option value="true">是</option>' in page
    english = client.get(reverse("screening-new", kwargs={"study_pk": study.pk}), **EN).content.decode()
    assert "白细胞计数" not in english and "published" not in _criterion_cell(english, "I4")
    assert "white blood cell counts ≥4×1012/L" in _criterion_cell(english, "I4")


def test_live_verdicts_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    study = world.studies["ccrt"]
    resp = client.post(reverse("screening-evaluate", kwargs={"study_pk": study.pk}),
                       {"ebv_dna_post_induction": "0", "induction_response": "SD"}, **ZH)
    i3 = _criterion_cell(resp.content.decode(), "I3")
    assert "诱导化疗后血浆 EB 病毒（EBV）DNA &gt; 0 拷贝/mL" in i3 and 'data-verdict="met"' in i3
    assert "ebv_dna_post_induction=0 induction_response=SD" in i3  # names as in the rule, no "0.0"
    assert "patients with plasma Epstein-Barr virus(EBV) DNA&gt; 0 copy/mL" in i3


def test_stored_screening_reads_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    record = world.screenings[("ccrt", "A")]
    url = reverse("screening-detail", kwargs={"study_pk": world.studies["ccrt"].pk, "pk": record.pk})
    page = client.get(url, **ZH).content.decode()
    assert "局部晚期鼻咽癌（II–IVa 期）" in _criterion_cell(page, "I1")
    assert "locally advanced nasopharyngeal carcinoma (stage II-IVa)" in _criterion_cell(page, "I1")
    row = re.search(r'data-field="ebv_dna_post_induction"><th>(.*?)</th><td>(.*?)</td>', page, re.S)
    assert row and row.group(1) == "诱导化疗后血浆 EBV DNA" and row.group(2).strip() == "1200 copies/mL"
    sex = re.search(r'data-field="sex"><th>(.*?)</th><td>(.*?)</td>', page, re.S)
    assert sex and sex.group(1) == "性别" and sex.group(2).strip() == "女"
    response = re.search(r'data-field="induction_response"><th>.*?</th><td>(.*?)</td>', page, re.S)
    assert response and response.group(1).strip() == "部分缓解 (PR)"
    assert record.verdicts[0]["text"] == "locally advanced nasopharyngeal carcinoma (stage II-IVa)"  # stored English


def test_stored_wording_that_differs_from_the_protocol_is_shown_as_stored(world) -> None:
    from npctrial.web.core.models import ScreeningRecord

    record = world.screenings[("ccrt", "A")]
    verdicts = [{**v, "text": "an older wording"} if v["id"] == "I1" else v for v in record.verdicts]
    ScreeningRecord.objects.filter(pk=record.pk).update(verdicts=verdicts)
    client = login(Client(), "coordinator")
    url = reverse("screening-detail", kwargs={"study_pk": world.studies["ccrt"].pk, "pk": record.pk})
    cell = _criterion_cell(client.get(url, **ZH).content.decode(), "I1")
    assert "an older wording" in cell and "局部晚期" not in cell and "published" not in cell


def test_schedule_events_arms_and_title_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    ccrt = world.studies["ccrt"]
    subject = world.subjects[("ccrt", "A")]
    page = client.get(reverse("subject-detail", kwargs={"study_pk": ccrt.pk, "pk": subject.pk}), **ZH).content.decode()
    arm = subject.randomisation.arm
    label = {"CCRT": "同期放化疗", "CCRT+NIMO": "同期放化疗联合尼妥珠单抗"}[arm]
    assert f'data-arm="{arm}">{arm}</b> ({label})' in page
    casebook = client.get(reverse("casebook", kwargs={"study_pk": ccrt.pk, "pk": subject.pk}), **ZH).content.decode()
    assert "基线（治疗前评估）" in casebook and "同期放化疗第 3 周" in casebook and "随访 M6" in casebook
    assert 'data-event="ccrt_w3"' in casebook  # event ids stay codes
    board = client.get(reverse("status-dashboard", kwargs={"study_pk": ccrt.pk}), **ZH).content.decode()
    assert "第3周</abbr>" in board and 'title="同期放化疗第 3 周"' in board
    home = client.get(reverse("home"), **ZH).content.decode()
    assert "高危局部晚期鼻咽癌同期放化疗联合或不联合尼妥珠单抗" in home
    assert "Concurrent chemoradiotherapy with or without nimotuzumab" in client.get(reverse("home"), **EN).content.decode()


def test_a_refused_screening_value_is_explained_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    url = reverse("screening-evaluate", kwargs={"study_pk": world.studies["imrt"].pk})
    zh = client.post(url, {"hb": "5"}, **ZH).content.decode()
    assert "<li>血红蛋白 须 &gt;= 20 g/L，实际为 5</li>" in zh
    en = client.post(url, {"hb": "5"}, **EN).content.decode()
    assert "<li>hb must be &gt;= 20 g/L, got 5</li>" in en and "血红蛋白" not in en


def test_the_api_keeps_the_english_message_and_gives_its_code(world) -> None:
    client = login(Client(), "coordinator")
    imrt = world.studies["imrt"]
    response = client.post(f"/api/v1/studies/{imrt.pk}/screenings", data={"site": "GZ", "values": {"hb": 5}},
                           content_type="application/json", **ZH)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error == {"field": "hb", "message": "hb must be >= 20 g/L, got 5", "code": "field.below_min"}


def test_date_order_refusals_in_chinese(world) -> None:
    from django.utils import translation

    from npctrial.errors import ValidationError
    from npctrial.web.core.enrolment import enrol
    from npctrial.web.core.screening import create_screening

    record = world.screenings[("imrt", "A")]
    client = login(Client(), "coordinator")
    client.post(reverse("set-language"), {"language": "zh-hans", "next": "/"})
    url = reverse("screening-enrol", kwargs={"study_pk": world.studies["imrt"].pk, "pk": record.pk})
    page = client.post(url, {"consent_date": "2099-01-01", "consent_version": "1.0"}, follow=True).content.decode()
    assert "知情同意日期 2099-01-01 晚于今天（今天是 " in page
    study = world.studies["imrt"]
    ineligible = create_screening(study, world.sites["A"], {**IMRT_ELIGIBLE, "previous_radiotherapy": True},
                                  world.users["coordinator"])
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="只有合格的患者才能入组；筛选结果为：不符合入组标准"):
        enrol(ineligible, consent_date=ineligible.screening_date, consent_version="1.0", user=world.users["coordinator"])


def test_an_amendment_of_a_translation_shows_every_version(world) -> None:
    from npctrial.web.core.protocols import load_bundled_protocol_text

    imrt = world.studies["imrt"]
    text = load_bundled_protocol_text("imrt-s1").replace('version: "1.0"', 'version: "1.1"', 1)
    text = text.replace("美国东部肿瘤协作组（ECOG）体力状况评分 0 或 1 分", "ECOG 评分 0-1 分")
    admin = login(Client(), "study_admin")
    proposed = admin.post(f"/api/v1/studies/{imrt.pk}/amendments", {"protocol_yaml": text, "reason": "wording"},
                          content_type="application/json")
    assert proposed.status_code == 201
    page = admin.get(reverse("amendment-detail", kwargs={"study_pk": imrt.pk, "version_pk": proposed.json()["id"]}),
                     **EN).content.decode()
    row = re.search(r'data-criterion="I2">(.*?)</tr>', page, re.S)
    assert row, page
    before, after = row.group(1).split("</td><td>")[2:4]
    assert 'data-lang="zh">美国东部肿瘤协作组（ECOG）体力状况评分 0 或 1 分' in before and "ECOG 评分 0-1 分" not in before
    assert 'data-lang="zh">ECOG 评分 0-1 分' in after
    assert 'data-lang="en">Eastern Cooperative Oncology Group (ECOG) performance status of 0 or 1' in after
