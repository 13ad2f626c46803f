"""Every template text a user reads is marked for translation ({% translate %} or
{% blocktranslate %}): text between tags and the title/placeholder/aria-label attributes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "npctrial" / "web"
TEMPLATES = sorted(WEB.glob("*/templates/**/*.html"))

# Words that are the same in both languages: product names, file formats, units, standards.
ALLOWED = {"npctrial", "CSV", "XLSX", "SPSS", ".sav", "PDF", "ODM", "CDISC", "XML", "YAML", "ADSL", "ADAE",
           "ADTTE", "RECIST", "CTCAE", "RTOG", "BSA", "SHA-256", "mm", "mg", "m²", "G1", "G2", "G3", "G4", "G5",
           "ORR", "PFS", "OS", "n", "NR", "NE", "r1", "ID", "adsl.yaml", "adsl.csv", "x", "χ²", "p", "CI", "AE",
           "SAE", "EBV", "DNA", "TNM", "AJCC", "ECOG", "KPS", "BED", "EQD2", "Gy", "S-1", "API", "JSON", "SDV", "SDV½"}
_BLOCK = re.compile(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", re.S)
_COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
_TAG = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_RAW = re.compile(r"<(script|style|code|svg)\b.*?</\1>", re.S | re.I)
_ATTR = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
_HTML = re.compile(r"<[^>]*>", re.S)
_WORD = re.compile(r"[A-Za-z][\w'’.-]*[\w]|[A-Za-z]{2,}")
_ENTITY = re.compile(r"&#?\w+;")


def untranslated(source: str) -> list[str]:
    """Literal texts of ``source`` that a reader sees and that are not marked for translation."""
    text = _COMMENT.sub(" ", _BLOCK.sub(" ", source))
    found = [a for a in _ATTR.findall(_TAG.sub("", text)) if a.strip()]
    body = _ENTITY.sub(" ", _HTML.sub("\n", _RAW.sub(" ", _TAG.sub(" ", text))))
    found += [line.strip() for line in body.split("\n") if line.strip()]
    return [t for t in found if any(w not in ALLOWED for w in _WORD.findall(t))
            and not all(w in ALLOWED for w in t.replace("·", " ").split())]


def test_the_check_sees_untranslated_text() -> None:
    assert untranslated('<h1>Casebook {{ s }}</h1><input placeholder="reason">') == ["reason", "Casebook"]
    assert untranslated('{% translate "Casebook" %} <b>{{ n }}</b> · CSV {# note #}') == []
    assert untranslated("{% blocktranslate %}Signed by {{ u }}{% endblocktranslate %}") == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(WEB)))
def test_template_text_is_marked_for_translation(path: Path) -> None:
    source = path.read_text("utf-8")
    assert untranslated(source) == [], f"{path.relative_to(WEB)}: wrap these in {{% translate %}}"
