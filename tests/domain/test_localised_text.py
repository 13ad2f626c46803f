"""Per-language protocol text: the published English stays the value, translations beside it."""

import pickle

import pytest
import yaml

from npctrial.domain import load_protocol
from npctrial.domain.localised_text import LocalisedText, localise, parse_localised_text
from npctrial.domain.protocol import parse_protocol
from npctrial.errors import ProtocolError


def test_mapping_keeps_english_as_the_value() -> None:
    text = parse_localised_text({"en": "Age 18-70 years", "zh-Hans": "年龄 18-70 岁"})
    assert text == "Age 18-70 years" and text.english == "Age 18-70 years"
    assert text.in_language("zh-hans") == "年龄 18-70 岁" and text.in_language("en-gb") == "Age 18-70 years"
    assert localise(text, "zh") == "年龄 18-70 岁" and localise("plain", "zh") == "plain"
    assert pickle.loads(pickle.dumps(text)).translations == {"zh": "年龄 18-70 岁"}


@pytest.mark.parametrize(("value", "message"), [
    ({"zh": "年龄"}, r"English text \('en'\) is required"),
    ({"en": "Age", "fr": "Âge"}, "unknown language 'fr'"),
    ({"en": "Age", "zh": ""}, "non-empty string"),
    ({"en": "Age", "zh": "年龄", "zh-CN": "年龄"}, "given twice"),
    ("   ", "must not be empty"),
    (3, "string or a mapping"),
])
def test_bad_text_is_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_localised_text(value)


def _protocol_dict() -> dict:
    return yaml.safe_load(load_protocol("imrt-s1").model_dump_json())


def test_protocol_criterion_and_field_label_in_two_languages() -> None:
    data = _protocol_dict()
    shipped = load_protocol("imrt-s1")
    data["criteria"][0]["wording"] = {"en": shipped.criteria[0].wording, "zh": "经病理确诊的鼻咽癌"}
    field = next(f for f in data["fields"] if f["name"] == "hb")
    field["label"] = {"en": shipped.field("hb").label, "zh": "血红蛋白"}
    protocol = parse_protocol(data)
    crit = protocol.criteria[0]
    assert isinstance(crit.wording, LocalisedText) and crit.wording == load_protocol("imrt-s1").criteria[0].wording
    assert localise(crit.wording, "zh-hans") == "经病理确诊的鼻咽癌"
    assert localise(protocol.field("hb").label, "zh-hans") == "血红蛋白"
    assert protocol.model_dump()["fields"][[f["name"] for f in data["fields"]].index("hb")]["label"]["zh"] == "血红蛋白"


def test_protocol_error_names_the_path_of_a_bad_translation() -> None:
    data = _protocol_dict()
    data["criteria"][1]["wording"] = {"zh": "只有中文"}
    with pytest.raises(ProtocolError) as err:
        parse_protocol(data)
    assert any("criteria[1].wording" in e or "criteria.1.wording" in e for e in err.value.errors), err.value.errors
