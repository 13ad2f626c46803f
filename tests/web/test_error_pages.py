"""Error pages as a user reads them: a missing page (404) and a refused action (403) in the
EDC's layout and the user's language, with the reason for a refusal (not Django's bare English
"Not Found" / "403 Forbidden")."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.web.conftest import login

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def test_a_missing_page_says_so_in_the_users_language(world):
    client = login(Client(), "coordinator")
    en = client.get("/studies/987654/", **EN)
    assert en.status_code == 404
    page = en.content.decode()
    assert '<html lang="en-gb">' in page and 'id="not-found"' in page and "Page not found" in page
    zh = client.get("/studies/987654/", **ZH)
    assert zh.status_code == 404
    page = zh.content.decode()
    assert '<html lang="zh-Hans">' in page and "页面不存在" in page and "Page not found" not in page


def test_a_refused_action_gives_its_reason_in_the_users_language(world):
    client = login(Client(), "coordinator")
    url = reverse("study-admin", args=[world.studies["imrt"].pk])
    en = client.get(url, **EN)
    assert en.status_code == 403
    page = en.content.decode()
    assert 'id="forbidden"' in page and "Not allowed" in page and "your role does not allow" in page
    zh = client.get(url, **ZH).content.decode()
    assert "不允许" in zh and "无权执行" in zh and "Not allowed" not in zh and "your role does not allow" not in zh
