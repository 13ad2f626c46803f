"""Exports do not depend on the reader's language: ISO dates, the English coded values (CTCAE
terms, RECIST categories, sexes, statuses) and the same bytes whether the user reads the EDC in
English or in Simplified Chinese. Pages show Chinese; files carry codes."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.test import Client

from tests.web.clinical.conftest import save, url
from tests.web.conftest import login

_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
FILES = (("ae", "csv"), ("ae", "long.csv"), ("ae", "wide.csv"), ("assessment", "csv"), ("screening", "csv"),
         ("odm", "xml"), ("adae", "csv"))


def _body(resp) -> bytes:
    assert resp.status_code == 200
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


@pytest.fixture
def clients(world):
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable",
                       "start_date": date(2026, 1, 26)})
    save("assessment", world, {"assessment_date": date(2026, 3, 30), "new_lesions": "no"})
    english, chinese = login(Client(), "statistician"), login(Client(), "statistician")
    chinese.post("/i18n/language/", {"language": "zh-hans", "next": "/"})
    assert "数据" in chinese.get(url("export-index", world)).content.decode()  # the page is Chinese
    english.post("/i18n/language/", {"language": "en", "next": "/"})
    return world, english, chinese


@pytest.mark.parametrize(("name", "fmt"), FILES)
def test_export_is_the_same_file_in_every_language(clients, name: str, fmt: str) -> None:
    world, english, chinese = clients
    zh = _body(chinese.get(url("export-file", world, name=name, fmt=fmt))).decode("utf-8")
    en = _body(english.get(url("export-file", world, name=name, fmt=fmt))).decode("utf-8")
    if fmt == "xml":  # ODM carries its creation time
        zh, en = (re.sub(r'CreationDateTime="[^"]*"', "", t) for t in (zh, en))
    assert zh == en and zh.strip()
    assert _CJK.findall(zh) == [], f"{name}.{fmt} holds Chinese text"


def test_export_dates_are_iso_and_values_coded(clients) -> None:
    world, _, chinese = clients
    rows = list(csv.DictReader(io.StringIO(_body(chinese.get(url("export-file", world, name="ae", fmt="csv"))).decode())))
    ae = next(r for r in rows if r["term"] == "mucositis_oral")
    assert ae["start_date"] == "2026-01-26" and ae["attribution"] == "probable" and ae["grade"] == "3"
    text = _body(chinese.get(url("export-file", world, name="assessment", fmt="csv"))).decode()
    assert "2026-03-30" in text and "2026年" not in text
