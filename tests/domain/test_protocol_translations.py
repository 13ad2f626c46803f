"""The shipped protocols in Simplified Chinese: every text a reader sees has a zh version, the
published English stays the value, and a changed translation is a protocol change."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from npctrial.domain import available_protocols, load_protocol
from npctrial.domain.localised_text import LocalisedText, localise, versions
from npctrial.domain.protocol import parse_protocol
from npctrial.domain.protocol_diff import compare_protocols
from npctrial.domain.schedule_plan import expand_events

#: The protocol texts people read on the EDC's pages (paths with [] for every item).
READER_TEXTS = (
    "title", "fields[].label", "fields[].help", "criteria[].wording", "randomisation.arms[].label",
    "dosing[].wording", "dosing[].schedule", "follow_up.wording", "schedule.events[].label",
    "schedule.events[].short", "schedule.follow_up_label", "endpoints[].label", "endpoints[].wording",
    "forms[].label", "forms[].help", "forms[].fields[].label", "forms[].fields[].help",
    "edit_checks[].message",  # the text of an automatic data query (values in braces)
    "treatment_rules.deviation_reasons[].label",  # in a refused dose change's list of allowed reasons
)
_CJK = range(0x4E00, 0xA000)


def _values(node: Any, path: str) -> list[tuple[str, Any]]:
    """(path, value) of every value at ``path`` ("fields[].label") below ``node``."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    child = getattr(node, head.removesuffix("[]"), None)
    if child is None:
        return []
    items = list(enumerate(child)) if many else [(None, child)]
    out = []
    for i, item in items:
        where = f"{head.removesuffix('[]')}[{i}]" if many else head
        out += [(f"{where}.{p}", v) for p, v in _values(item, rest)] if rest else [(where, item)]
    return out


def _texts(model: BaseModel, where: str = "") -> list[tuple[str, str]]:
    """Every string value of the protocol (nested models and tuples walked)."""
    out: list[tuple[str, str]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = list(enumerate(value)) if isinstance(value, tuple) else [(None, value)]
        for i, item in items:
            path = f"{where}{name}" + (f"[{i}]" if i is not None else "")
            if isinstance(item, BaseModel):
                out += _texts(item, path + ".")
            elif isinstance(item, str):
                out.append((path, item))
    return out


@pytest.mark.parametrize("name", available_protocols())
def test_every_reader_text_has_a_chinese_version(name: str) -> None:
    protocol = load_protocol(name)
    found = [(p, v) for path in READER_TEXTS for p, v in _values(protocol, path)]
    assert len(found) >= 30
    untranslated = [p for p, v in found if not (isinstance(v, LocalisedText) and v.has("zh"))]
    assert untranslated == [], f"{name}: no zh version for {untranslated}"
    for path, text in found:
        zh = text.in_language("zh")
        assert any(ord(c) in _CJK for c in zh), f"{name} {path}: {zh!r} is not Chinese"
        braces_expected = path.startswith("edit_checks")  # "{start_date}": filled when the check fires
        assert text == text.english and (braces_expected or "{" not in zh.replace("{n}", "").replace("{label}", "")), path


@pytest.mark.parametrize("name", available_protocols())
def test_only_reader_texts_are_translated(name: str) -> None:
    """A translated text outside READER_TEXTS means a page shows it: add its path above."""
    protocol = load_protocol(name)
    listed = {p for path in READER_TEXTS for p, _ in _values(protocol, path)}
    translated = {p for p, v in _texts(protocol) if isinstance(v, LocalisedText) and v.translations}
    assert translated <= listed, translated - listed


def test_published_english_stays_the_value() -> None:
    imrt = load_protocol("imrt-s1")
    i4 = imrt.criterion("I4").wording
    assert i4 == "white blood cell counts ≥4×1012/L"  # verbatim, with the seed's typesetting error
    assert localise(i4, "zh-hans").startswith("白细胞计数 ≥4×10⁹/L")
    assert localise(imrt.field("hb").label, "zh-hans") == "血红蛋白" and imrt.field("hb").label == "Haemoglobin"
    ccrt = load_protocol("ccrt-nimotuzumab")
    assert [localise(a.label, "zh") for a in ccrt.randomisation.arms] == ["同期放化疗", "同期放化疗联合尼妥珠单抗"]


def test_repeated_and_follow_up_event_labels_in_each_language() -> None:
    events = {e.id: e for e in expand_events(load_protocol("imrt-s1"))}
    week3, fu = events["ccrt_w3"], events["fu_m6"]
    assert (week3.label, localise(week3.label, "zh")) == ("CCRT week 3", "同期放化疗第 3 周")
    assert (week3.short, localise(week3.short, "zh")) == ("W3", "第3周")
    assert (fu.label, localise(fu.label, "zh")) == ("Follow-up M6", "随访 M6")


def _dump(name: str) -> dict[str, Any]:
    return yaml.safe_load(load_protocol(name).model_dump_json())


def test_a_repeated_event_needs_the_number_in_every_language() -> None:
    data = _dump("imrt-s1")
    week = next(e for e in data["schedule"]["events"] if e["id"] == "ccrt_w")
    week["label"] = {"en": "CCRT week {n}", "zh": "同期放化疗周"}
    with pytest.raises(ValueError, match="in every language"):
        parse_protocol(data)
    week["label"] = "CCRT week {n}"
    week["short"] = {"en": "W{n}", "zh": "同期放化疗第{n}周（每周）"}
    with pytest.raises(ValueError, match="at most 12 characters"):
        parse_protocol(data)


def test_a_changed_translation_is_a_protocol_change() -> None:
    old = load_protocol("imrt-s1")
    data = _dump("imrt-s1")
    data["version"] = "1.1"
    data["criteria"][1]["wording"]["zh"] = "ECOG 评分 0-1 分"
    hb = next(f for f in data["fields"] if f["name"] == "hb")
    hb["label"]["zh"] = "血红蛋白浓度"
    diff = compare_protocols(old, parse_protocol(data))
    assert [(c.id, c.change) for c in diff.criteria] == [("I2", "changed")]
    assert versions(diff.criteria[0].new_wording)["zh"] == "ECOG 评分 0-1 分"
    (hb_change,) = diff.fields
    assert hb_change.name == "hb" and "血红蛋白浓度" in hb_change.details[0]
    assert compare_protocols(old, load_protocol("imrt-s1")).criteria == ()
