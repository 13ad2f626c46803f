"""Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval' for scripts, and pages that work
under it: no inline script or event handler in any template, htmx configured without eval, and the
live screening form (htmx) runs in Chromium with no policy violation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.web.conftest import login, make_world
from tests.web.test_browser import _fill_ccrt, _login, browser, page  # noqa: F401  (fixtures)

WEB = Path(__file__).resolve().parents[2] / "src" / "npctrial" / "web"
TEMPLATES = sorted(WEB.rglob("templates/**/*.html"))


def _script_src(policy: str) -> str:
    return next(part for part in policy.split(";") if part.strip().startswith("script-src"))


def test_pages_send_a_strict_script_policy(client, world):
    login(client, "coordinator")
    for url in (reverse("home"), reverse("screening-new", kwargs={"study_pk": world.studies["ccrt"].pk})):
        policy = client.get(url)["Content-Security-Policy"]
        script = _script_src(policy)
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/accounts/login/")["Content-Security-Policy"] == policy  # anonymous pages too


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(WEB)))
def test_no_template_has_inline_script_or_event_handlers(template):
    text = template.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", text, flags=re.I):
        assert re.search(r"\bsrc=", tag), f"inline <script> in {template.name}: {tag}"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", text, flags=re.I), f"inline event handler in {template.name}"
    assert "javascript:" not in text.lower() and "hx-on" not in text and "js:" not in text


def test_templates_were_found():
    assert len(TEMPLATES) > 20 and any(p.name == "base.html" for p in TEMPLATES)


def test_htmx_runs_without_eval(client, world):
    login(client, "coordinator")
    page_html = client.get(reverse("home")).content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page_html).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert "/static/core/app.js" in page_html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_live_screening_form_works_under_the_policy(live_server, page):  # noqa: F811
    world = make_world()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    _login(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/studies/{world.studies['ccrt'].pk}/screening/new/")
    _fill_ccrt(page, ebv="0", response="PR")  # high-risk criterion I3 not met: the verdicts come from htmx
    page.wait_for_selector("#verdicts [data-outcome='ineligible']")
    _fill_ccrt(page, ebv="1500", response="SD")
    page.wait_for_selector("#verdicts [data-outcome='eligible']")
    assert violations == []
