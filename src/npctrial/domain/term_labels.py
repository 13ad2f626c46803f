"""Display names of coded clinical terms in the reader's language, the English term beside them.

Coded values (CTCAE term keys, RTOG organs, RECIST categories, stage groups) never change: they
are what the database, the API and the exports hold. Only the label shown to a reader changes:
in Simplified Chinese it is the Chinese term followed by the English one, e.g.
``中性粒细胞计数降低 (Neutrophil count decreased)``, so a monitor or sponsor reading the same
page can match it with the protocol and the coded export. The tables are data
(``domain/data/clinical_terms_zh.yaml``); a code without a Chinese entry is shown in English and
listed by :func:`untranslated_codes` (tested to be empty for every code npctrial defines).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from npctrial.domain._tables import read_rule_table
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["TERM_KINDS", "TermLabel", "term_label", "untranslated_codes"]

TermKind = Literal["ctcae_term", "ctcae_grade", "ctcae_soc", "rtog_organ", "rtog_scale", "recist_response",
                   "stage_group"]
TERM_KINDS: tuple[str, ...] = ("ctcae_term", "ctcae_grade", "ctcae_soc", "rtog_organ", "rtog_scale",
                               "recist_response", "stage_group")
_SECTIONS = {"ctcae_term": "ctcae_terms", "ctcae_grade": "ctcae_grades", "ctcae_soc": "ctcae_socs",
             "rtog_organ": "rtog_organs", "rtog_scale": "rtog_scales", "recist_response": "recist_responses",
             "stage_group": "stage_groups"}
_ZH = ("zh", "zh-hans", "zh-cn", "zh-sg", "zh_hans")


@dataclass(frozen=True)
class TermLabel:
    """A coded value, its English display name and, where one exists, its translation."""

    code: str
    english: str
    translated: str | None = None

    @property
    def text(self) -> str:
        """What a reader sees: ``translated (english)``, or the English name alone."""
        if self.translated is None or self.translated == self.english:
            return self.english
        return f"{self.translated} ({self.english})"

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=1)
def _zh_tables() -> MappingProxyType[str, MappingProxyType[str, str]]:
    raw = read_rule_table("clinical_terms_zh.yaml")
    return MappingProxyType({kind: MappingProxyType({str(k): str(v) for k, v in (raw.get(section) or {}).items()})
                             for kind, section in _SECTIONS.items()})


@lru_cache(maxsize=1)
def _english_names() -> MappingProxyType[str, MappingProxyType[str, str]]:
    from npctrial.domain.ctcae import ctcae_table
    from npctrial.domain.rtog import rtog_table
    from npctrial.domain.staging import STAGE_ORDER

    ctcae = ctcae_table()  # parsed once for the grading rules and the labels
    terms = {k: v["term"] for sec in ("lab_terms", "clinical_terms") for k, v in (ctcae.get(sec) or {}).items()}
    socs = {v["soc"]: v["soc"] for sec in ("lab_terms", "clinical_terms") for v in (ctcae.get(sec) or {}).values()}
    socs.update({str(s["name"]): str(s["name"]) for s in (ctcae.get("other_specify") or {}).get("socs", ())})
    organs = {k: o["name"] for scale in rtog_table()["scales"].values() for k, o in scale["organs"].items()}
    recist = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE", "NON_CR_NON_PD": "Non-CR/non-PD"}
    return MappingProxyType({
        "ctcae_term": MappingProxyType(terms),
        "ctcae_grade": MappingProxyType({str(g): ("No AE" if g == 0 else f"Grade {g}") for g in range(6)}),
        "ctcae_soc": MappingProxyType(socs),
        "rtog_organ": MappingProxyType(organs),
        "rtog_scale": MappingProxyType({"acute": "Acute", "late": "Late"}),
        "recist_response": MappingProxyType(recist),
        "stage_group": MappingProxyType({s: f"Stage {s}" for s in STAGE_ORDER}),
    })


def term_label(kind: str, code: object, language: str | None = "en") -> TermLabel:
    """The label of ``code`` (a CTCAE term key, grade 0-5, SOC, RTOG organ or scale, RECIST
    category, stage group) for ``language`` (``zh-hans``/``zh`` for Chinese, anything else
    English). An unknown code keeps its own text as the English name."""
    if kind not in _SECTIONS:
        raise ValidationError(message("term_label.unknown_kind", "kind must be one of %(kinds)s, got %(value)s",
                                      kinds=tuple(TERM_KINDS), value=repr(kind)), field="kind")
    key = "" if code is None else str(code)
    english = _english_names()[kind].get(key, key)
    if (language or "").lower() not in _ZH:
        return TermLabel(key, english)
    return TermLabel(key, english, _zh_tables()[kind].get(key))


def untranslated_codes() -> dict[str, tuple[str, ...]]:
    """Per kind, the codes npctrial defines that have no Chinese name (should be empty)."""
    out = {}
    for kind, names in _english_names().items():
        missing = tuple(k for k in names if k not in _zh_tables()[kind])
        if missing:
            out[kind] = missing
    return out
