"""EDC languages: the browser's language, the switcher saved per user, the catalogue compiled and
complete, translated validation messages."""

from __future__ import annotations

import gettext
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import login

LOCALE = Path(__file__).resolve().parents[2] / "src" / "npctrial" / "web" / "locale"
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def test_committed_mo_is_compiled_from_the_po(tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(PO)], check=True, capture_output=True)
    with MO.open("rb") as a, fresh.open("rb") as b:
        committed, compiled = gettext.GNUTranslations(a), gettext.GNUTranslations(b)
    assert committed._catalog == compiled._catalog  # type: ignore[attr-defined]
    assert len(compiled._catalog) > 100  # type: ignore[attr-defined]


def test_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    untranslated = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", str(PO)], check=True,
                                  capture_output=True, text=True).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-obsolete", str(PO)], check=True,
                           capture_output=True, text=True).stdout
    assert untranslated == "", f"untranslated entries in {PO.name}:\n{untranslated}"
    assert fuzzy == "", f"fuzzy entries in {PO.name}:\n{fuzzy}"


def test_login_page_follows_the_browser_language(db: object) -> None:
    zh = Client().get(reverse("login"), **ZH)
    assert zh["Content-Language"] == "zh-hans"
    page = zh.content.decode()
    assert '<html lang="zh-Hans">' in page and "登录" in page
    en = Client().get(reverse("login"), **EN).content.decode()
    assert '<html lang="en-gb">' in en and "Log in" in en and "登录" not in en.split("</header>")[1]


def test_switcher_saves_the_choice_for_the_user(world: object) -> None:
    from npctrial.web.languages.models import LanguagePreference

    client = login(Client(), "coordinator")
    resp = client.post(reverse("set-language"), {"language": "zh-hans", "next": "/"}, **EN)
    assert resp.status_code == 302 and resp["Location"] == "/"
    assert LanguagePreference.objects.get(user__username="coordinator").language == "zh-hans"
    other_device = login(Client(), "coordinator")  # no cookie, an English browser
    page = other_device.get(reverse("home"), **EN).content.decode()
    assert "退出登录" in page and '<html lang="zh-Hans">' in page
    other_device.post(reverse("set-language"), {"language": "en-gb", "next": "/"})
    assert "Log out" in login(Client(), "coordinator").get(reverse("home"), **ZH).content.decode()


def test_switcher_on_the_login_page_uses_a_cookie(db: object) -> None:
    client = Client()
    resp = client.post(reverse("set-language"), {"language": "zh-hans", "next": reverse("login")}, **EN)
    assert resp.status_code == 302 and resp.cookies["npctrial_language"].value == "zh-hans"
    assert "登录" in client.get(reverse("login"), **EN).content.decode()


@pytest.mark.parametrize("data", [{"language": "fr"}, {"language": ""}, {}, {"language": "zh-hans" * 50}])
def test_switcher_refuses_unknown_languages(db: object, data: dict) -> None:
    resp = Client().post(reverse("set-language"), data)
    assert resp.status_code == 400


@pytest.mark.parametrize("nxt", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_switcher_never_redirects_off_site(db: object, nxt: str) -> None:
    resp = Client().post(reverse("set-language"), {"language": "zh-hans", "next": nxt})
    assert resp.status_code == 302 and resp["Location"] == "/"


def test_switcher_is_post_only(db: object) -> None:
    assert Client().get(reverse("set-language")).status_code == 405


def test_validation_messages_in_chinese(world) -> None:
    from django.utils import translation

    from npctrial.errors import ValidationError
    from npctrial.web.core.administration import add_site
    from npctrial.web.core.administration_forms import SiteForm

    resp = Client().post(reverse("login"), {"username": "nobody", "password": "wrong"}, **ZH)
    assert "用户名和密码不匹配" in resp.content.decode()
    with translation.override("zh-hans"):
        form = SiteForm(data={"code": "", "name": ""})
        assert not form.is_valid() and form.errors["code"] == ["这个字段是必填项。"]  # Django's catalogue
        with pytest.raises(ValidationError, match="中心代码须为 1-12 位大写字母") as err:
            add_site(world.studies["imrt"], code="gz!", name="x", actor=world.users["study_admin"])
    assert err.value.field == "code"


def test_term_filter_shows_chinese_beside_english() -> None:
    from django.template import Context, Template
    from django.utils import translation

    tpl = Template('{% load clinical_terms %}{{ t|term:"ctcae_term" }}|{{ r|term:"recist_response" }}|{{ n|term:"stage_group" }}')
    with translation.override("zh-hans"):
        assert tpl.render(Context({"t": "dry_mouth", "r": "PD", "n": None})) == "口干 (Dry mouth)|疾病进展 (PD)|"
    with translation.override("en-gb"):
        assert tpl.render(Context({"t": "dry_mouth", "r": "PD", "n": "IVA"})) == "Dry mouth|PD|Stage IVA"


def test_pages_render_in_chinese(world) -> None:
    from django.test import Client

    client = login(Client(), "coordinator")
    client.post(reverse("set-language"), {"language": "zh-hans", "next": "/"})
    study, subject = world.studies["ccrt"], world.subjects[("ccrt", "A")]
    screening = world.screenings[("ccrt", "A")]
    kw = {"study_pk": study.pk}
    expected = {
        reverse("home"): "研究",
        reverse("screening-new", kwargs=kw): "录入时逐条判定各项标准。",
        reverse("screening-detail", kwargs={**kw, "pk": screening.pk}): "标准",
        reverse("query-list", kwargs=kw): "数据质疑",
        reverse("study-report", kwargs=kw): "受试者流程",
        reverse("clinical-home", kwargs=kw): "病例报告表",
        reverse("subject-detail", kwargs={**kw, "pk": subject.pk}): "受试者",
    }
    for url, text in expected.items():
        resp = client.get(url)
        assert resp.status_code == 200, url
        page = resp.content.decode()
        assert text in page and '<html lang="zh-Hans">' in page, url
        assert "概览" in page or url == reverse("home"), url  # study nav: Dashboard
    manager = login(Client(), "data_manager")
    page = manager.get(reverse("export-index", kwargs=kw), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "全部临床数据" in page and "分析数据集" in page


def test_protocol_field_label_in_the_reader_language() -> None:
    from django.template import Context, Template
    from django.utils import translation

    from npctrial.domain.localised_text import parse_localised_text
    from npctrial.domain.protocol_fields import FieldSpec
    from npctrial.web.core.forms import _field_for

    spec = FieldSpec.model_validate({"name": "hb", "label": {"en": "Haemoglobin", "zh": "血红蛋白"},
                                     "type": "number", "unit": "g/L"})
    with translation.override("zh-hans"):
        assert _field_for(spec).label == "血红蛋白 (g/L)"
    with translation.override("en-gb"):
        assert _field_for(spec).label == "Haemoglobin (g/L)"
    tpl = Template("{% load clinical_terms %}{{ w|localised }}")
    wording = parse_localised_text({"en": "Age 18-70 years", "zh": "年龄 18-70 岁"})
    with translation.override("zh-hans"):
        assert tpl.render(Context({"w": wording})) == "年龄 18-70 岁"
        assert tpl.render(Context({"w": "plain English"})) == "plain English"


@pytest.mark.parametrize("language", ["en", "en-us", "zh-hans"])
def test_dates_are_entered_as_iso_in_every_language(language: str) -> None:
    """Django's locale input formats read 03/04/2026 as 4 March in English and take 2026/03/04 only
    in Chinese: an entered date means the same day whatever the reader's language, or is refused."""
    from django.utils import translation

    from npctrial.web.core.forms import ConsentForm

    with translation.override(language):
        for typed in ("03/04/2026", "2026/03/04", "4 March 2026", "2026年3月4日"):
            form = ConsentForm(data={"consent_date": typed, "consent_version": "v1"})
            assert not form.is_valid() and list(form.errors) == ["consent_date"], typed
        form = ConsentForm(data={"consent_date": "2026-03-04", "consent_version": "v1"})
        assert form.is_valid() and str(form.cleaned_data["consent_date"]) == "2026-03-04"
    with translation.override("zh-hans"):
        assert ConsentForm(data={"consent_date": "03/04/2026"}).errors["consent_date"] == [
            "请按 YYYY-MM-DD 格式输入日期（例如 2026-03-04）。"]
