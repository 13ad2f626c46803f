"""Refusals of the clinical rules (npctrial.domain) on the CRF page and the API, in the reader's
language: the page shows the Chinese, the API's ``detail`` too; ``errors[].message`` keeps the
English with the stable ``code`` (what clients match on).

Rules (published): a course delivers at most the fractions planned (33 in seed protocol 000);
RTOG/EORTC late morbidity beyond 90 days after the end of RT (Cox 1995; protocol: "beyond three
months from the end of radiotherapy").
"""

from __future__ import annotations

from datetime import date, timedelta

from npctrial.web.clinical.models import RadiotherapyCourse, RtogScore
from tests.web.clinical.conftest import RT, post_crf, save

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
PAGE = {"technique": "IMRT", "total_dose_gy": "70", "fractions": "33", "start_date": "2026-01-12",
        "end_date": "2026-02-27", "delivered_fractions": "34"}


def _api(client, world, form, values, **headers):
    s = world.subjects[("imrt", "A")]
    return client.post(f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/crf/{form}", {"values": values},
                       content_type="application/json", **headers)


def test_delivered_fractions_refusal_on_the_page_in_chinese_and_english(coordinator, world) -> None:
    coordinator.defaults.update(ZH)
    zh = post_crf(coordinator, world, "radiotherapy", PAGE)
    assert zh.status_code == 200 and "实际照射次数须 &lt;= 计划次数（33），实际为 34" in zh.content.decode()
    coordinator.defaults.update(EN)
    en = post_crf(coordinator, world, "radiotherapy", PAGE).content.decode()
    assert "delivered_fractions must be &lt;= planned fractions (33), got 34" in en and "实际照射" not in en
    assert not RadiotherapyCourse.objects.exists()


def test_api_refusal_detail_in_chinese_message_in_english_with_its_code(coordinator, world) -> None:
    values = {**{k: v for k, v in RT.items() if k not in ("start_date", "end_date")},
              "start_date": "2026-01-12", "end_date": "2026-02-27", "delivered_fractions": 34}
    r = _api(coordinator, world, "radiotherapy", values, **ZH)
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "实际照射次数须 <= 计划次数（33），实际为 34"
    assert body["errors"] == [{"field": "delivered_fractions", "code": "rt.delivered_above_planned",
                               "message": "delivered_fractions must be <= planned fractions (33), got 34"}]
    assert _api(coordinator, world, "radiotherapy", values, **EN).json()["detail"].startswith("delivered_fractions")


def test_late_rtog_on_day_90_refused_day_91_accepted(coordinator, world) -> None:
    save("radiotherapy", world, dict(RT))
    end = RT["end_date"]
    assert isinstance(end, date)
    day90 = {"assessment_date": (end + timedelta(days=90)).isoformat(), "scale": "late",
             "organ": "salivary_glands", "grade": 1}
    r = _api(coordinator, world, "rtog", day90, **ZH)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "scale"
    assert r.json()["detail"] == "RTOG 晚期毒性仅在放疗结束 90 天后评分（当前为 90 天）"
    r = _api(coordinator, world, "rtog", {**day90, "assessment_date": (end + timedelta(days=91)).isoformat()})
    assert r.status_code == 201 and r.json()["days_after_rt_end"] == 91
    assert RtogScore.objects.get().scale == "late"
