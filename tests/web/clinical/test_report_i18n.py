"""The EDC study report PDF in the reader's language: Chinese headings extract with pdftotext."""

import subprocess

from django.test import Client

from tests.web.clinical.conftest import url
from tests.web.clinical.test_report_exports import trial  # noqa: F401  (fixture)
from tests.web.conftest import login


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_report_pdf_in_chinese(trial, tmp_path):  # noqa: F811
    client = login(Client(), "monitor")
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/"})
    resp = client.get(url("study-report-pdf", trial))
    assert resp.status_code == 200
    text = _text(resp.content, tmp_path)
    for heading in ("研究报告：imrt-s1", "受试者流程", "不良事件", "方案偏离", "数据完整性", "已入组"):
        assert heading in text, heading
    fonts = subprocess.run(["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True, check=True).stdout
    assert "+NotoSansCJKsc-Regular" in fonts


def test_report_pdf_in_english_stays_base14(trial, tmp_path):  # noqa: F811
    resp = login(Client(), "monitor").get(url("study-report-pdf", trial), HTTP_ACCEPT_LANGUAGE="en")
    text = _text(resp.content, tmp_path)
    assert "Study report: imrt-s1" in text and "Participant flow" in text
    assert b"NotoSansCJK" not in resp.content
