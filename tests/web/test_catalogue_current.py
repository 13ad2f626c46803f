"""The Chinese catalogues hold every text the sources mark for translation: a string landed in a
template or a view without its catalogue entry fails here (the catalogue tests only see the .po)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from django.utils.translation.template import templatize

SRC = Path(__file__).resolve().parents[2] / "src" / "npctrial"
WEB = SRC / "web"
DJANGO_KEYWORDS = ("gettext_noop", "gettext_lazy", "ngettext_lazy:1,2", "pgettext:1c,2", "npgettext:1c,2,3",
                   "pgettext_lazy:1c,2", "npgettext_lazy:1c,2,3")  # as Django's makemessages
_ENTRY = re.compile(r'^(?:msgctxt "((?:[^"\\]|\\.)*)"\n)?msgid "((?:[^"\\]|\\.)*)"', re.M)


def _ids(pot: str) -> set[tuple[str, str]]:
    """(context, msgid) of every entry of a --no-wrap catalogue, the header left out."""
    return {(c, m) for c, m in _ENTRY.findall(pot) if m}


def _xgettext(files: list[Path], keywords: tuple[str, ...], *, default_keywords: bool = True) -> set[tuple[str, str]]:
    args = ["xgettext", "--language=Python", "--from-code=UTF-8", "--no-wrap", "--no-location", "--output=-"]
    args += ([] if default_keywords else ["-k"]) + [f"--keyword={k}" for k in keywords]
    out = subprocess.run([*args, *map(str, files)], check=True, capture_output=True, text=True).stdout
    return _ids(out)


def _po(path: Path) -> set[tuple[str, str]]:
    out = subprocess.run(["msgcat", "--no-wrap", str(path)], check=True, capture_output=True, text=True).stdout
    return _ids(out)


def _templates_as_python(tmp_path: Path) -> list[Path]:
    out = []
    for i, template in enumerate(sorted(WEB.rglob("templates/**/*.html"))):
        target = tmp_path / f"t{i}.py"
        target.write_text(templatize(template.read_text(encoding="utf-8"), origin=str(template)), encoding="utf-8")
        out.append(target)
    return out


def test_the_edc_catalogue_has_every_marked_text(tmp_path: Path) -> None:
    sources = [p for p in WEB.rglob("*.py") if "migrations" not in p.parts] + _templates_as_python(tmp_path)
    marked = _xgettext(sources, DJANGO_KEYWORDS)
    assert len(marked) > 600 and ("", "Published wording") in marked  # the extraction sees templates
    missing = sorted(m for c, m in marked - _po(WEB / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert missing == [], f"run `make messages` and translate: {missing}"


def test_the_domain_message_catalogue_has_every_coded_message() -> None:
    files = [SRC / "messages.py", *sorted((SRC / "domain").glob("*.py"))]
    marked = _xgettext(files, ("message:1c,2", "_error:1c,2"), default_keywords=False)
    assert ("field.below_min", "%(field)s must be >= %(limit)s%(unit)s, got %(value)s") in marked
    po = SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "npctrial-messages.po"
    assert sorted(marked - _po(po)) == []
    for option in ("--untranslated", "--only-fuzzy"):
        left = subprocess.run(["msgattrib", option, str(po)], capture_output=True, text=True, check=True).stdout
        assert left == "", f"{option} entries in {po.name}:\n{left}"


def test_the_report_catalogue_has_every_marked_text() -> None:
    """Cohort reports and figures (`npctrial analyze --lang zh`): the keywords of `make messages`."""
    marked = _xgettext(sorted((SRC / "cohort").glob("*.py")), ("_", "N_", "tr", "t"), default_keywords=False)
    assert len(marked) > 100
    missing = sorted(m for c, m in marked - _po(SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "npctrial.po"))
    assert missing == [], f"run `make messages` and translate: {missing}"
