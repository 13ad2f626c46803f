"""Dates on pages are ISO 8601 in both languages: a template that prints a date without
``|date:"Y-m-d"`` gets Django's locale format (``2026年1月5日`` in Chinese, ``Jan. 5, 2026`` in
English), different from the form inputs, the exports and the other pages. Every page reachable
from the study dashboard is crawled in both languages."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from django.test import Client
from django.urls import reverse

from tests.web.clinical.conftest import save
from tests.web.conftest import login

LOCALE_DATES = {
    "zh-hans": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日"),
    "en": re.compile(r"\b(?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d{1,2}, \d{4}\b|[ap]\.m\."),
}
_HREF = re.compile(r'href="(/studies/[^"#?]*)"')


def _crawl(client: Client, start: list[str], prefix: str, limit: int = 250) -> dict[str, str]:
    """url -> HTML of every page linked from ``start`` below ``prefix`` (GET only, HTML only)."""
    seen: dict[str, str] = {}
    todo = list(start)
    while todo and len(seen) < limit:
        url = todo.pop(0)
        if url in seen:
            continue
        resp = client.get(url)
        if resp.status_code != 200 or not resp["Content-Type"].startswith("text/html"):
            seen[url] = ""
            continue
        page = resp.content.decode()
        seen[url] = page
        todo += [unescape(h) for h in _HREF.findall(page) if h.startswith(prefix) and unescape(h) not in seen]
    return seen


def test_every_page_shows_iso_dates_in_both_languages(world) -> None:
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable",
                       "start_date": date(2026, 1, 26)}, study="ccrt")
    study = world.studies["ccrt"]
    prefix = f"/studies/{study.pk}/"
    start = [reverse("study-dashboard", kwargs={"study_pk": study.pk})]
    for language, pattern in LOCALE_DATES.items():
        client = login(Client(), "data_manager")
        client.post(reverse("set-language"), {"language": language, "next": "/"})
        pages = {u: p for u, p in _crawl(client, start, prefix).items() if p}
        assert len(pages) >= 20 and any(u.endswith("/history/") for u in pages), sorted(pages)
        assert any("2026-01-26" in p for p in pages.values())  # the AE's start date, ISO
        found = {u: pattern.findall(p)[:3] for u, p in pages.items() if pattern.search(p)}
        assert found == {}, f"{language}: dates in the locale's format on {found}"
