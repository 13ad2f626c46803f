"""The CRF pages' choice lists in the reader's language: clinical terms as ``中文 (English)``
(CTCAE v4.03 terms, MedDRA system organ classes, RTOG/EORTC organs), other coded choices (drug,
reason for a dose change, attribution, visit status...) through the catalogue. The submitted and
stored values stay the codes; exports keep the English value labels."""

from __future__ import annotations

import re

import pytest

from npctrial.web.clinical.exports import _choices
from npctrial.web.clinical.models import AdverseEvent
from tests.web.clinical.conftest import post_crf, url

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


def _options(html: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


@pytest.mark.parametrize(("form", "field", "code", "zh"), [
    ("ae", "term", "mucositis_oral", "口腔黏膜炎 (Mucositis oral)"),
    ("ae", "soc", "cardiac", "心脏器官疾病 (Cardiac disorders)"),
    ("ae", "attribution", "probable", "很可能有关"),
    ("lab", "term", "platelet_count_decreased", "血小板计数降低 (Platelet count decreased) (10^9/L)"),
    ("rtog", "organ", "salivary_gland", "唾液腺 (Salivary gland)"),
    ("rtog", "scale", "late", "晚期（RTOG/EORTC）"),
    ("drug", "deviation_reason", "grade4_toxicity", "4级毒性"),
    ("drug", "drug", "cisplatin", "顺铂"),
    ("followup", "status", "alive_disease", "带瘤存活"),
    ("event", "kind", "distant_metastasis", "远处转移"),
    ("assessment", "non_target", "NON_CR_NON_PD", "非完全缓解/非疾病进展 (Non-CR/Non-PD)"),
])
def test_choices_read_in_chinese_with_the_code_as_value(coordinator, world, form, field, code, zh) -> None:
    coordinator.defaults.update(ZH)
    html = coordinator.get(url("crf-new", world, form=form)).content.decode()
    assert _options(html, field)[code] == zh


def test_every_system_organ_class_has_its_chinese_name(coordinator, world) -> None:
    coordinator.defaults.update(ZH)
    socs = _options(coordinator.get(url("crf-new", world, form="ae")).content.decode(), "soc")
    untranslated = [label for value, label in socs.items() if value and not re.search(r"[\u4e00-\u9fff]", label)]
    assert len(socs) == 27 and untranslated == []


def test_a_chinese_page_stores_the_code_and_exports_keep_english_labels(coordinator, world) -> None:
    coordinator.defaults.update(ZH)
    answer = post_crf(coordinator, world, "ae", {"week": "1", "term": "mucositis_oral", "grade": "2",
                                                 "attribution": "probable", "start_date": "2026-01-19"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    ae = AdverseEvent.objects.get()
    assert (ae.term, ae.attribution) == ("mucositis_oral", "probable")
    from django.utils import translation

    with translation.override("zh-hans"):
        labels = dict(_choices("ae")["attribution"])
    assert labels["probable"] == "Probable"


def test_the_casebook_names_forms_and_terms_in_chinese(coordinator, world) -> None:
    from datetime import date

    from tests.web.clinical.conftest import save

    save("ae", world, {"week": 1, "term": "mucositis_oral", "grade": 2, "attribution": "probable",
                       "start_date": date(2026, 1, 19)})
    coordinator.defaults.update(ZH)
    html = coordinator.get(url("casebook", world)).content.decode()
    assert "口腔黏膜炎 (Mucositis oral)" in html and "不良事件" in html and "肿瘤评估（RECIST 1.1）" in html
    coordinator.defaults.update({"HTTP_ACCEPT_LANGUAGE": "en"})
    english = coordinator.get(url("casebook", world)).content.decode()
    assert "Mucositis oral" in english and "口腔黏膜炎" not in english


def test_the_report_says_in_chinese_why_a_patient_is_left_out(coordinator, world) -> None:
    coordinator.defaults.update(ZH)
    html = coordinator.get(url("study-report", world)).content.decode()
    assert "尚无基线后的 RECIST 1.1 疗效评价" in html
    assert "no post-baseline RECIST 1.1 response yet" not in html


def test_the_lab_panel_names_analytes_in_chinese(coordinator, world) -> None:
    coordinator.defaults.update(ZH)
    html = coordinator.get(url("lab-panel", world)).content.decode()
    assert "白细胞计数" in html and "中性粒细胞绝对计数" in html and ">White blood cell count<" not in html
