"""Coded messages of the domain layer: English by default (unchanged texts for the API, CLI and
audit trail), Chinese from the npctrial-messages catalogue, the field named by its protocol label."""

from __future__ import annotations

import pytest

from npctrial.domain import load_protocol
from npctrial.errors import ValidationError
from npctrial.messages import Message, message


def _refusal(field: str, value: object) -> ValidationError:
    spec = load_protocol("imrt-s1").field(field)
    with pytest.raises(ValidationError) as info:
        spec.coerce(value)
    return info.value


def test_a_refused_value_reads_in_english_and_in_chinese() -> None:
    err = _refusal("hb", "5")
    assert str(err) == "hb must be >= 20 g/L, got 5" and err.field == "hb"
    assert err.code == "field.below_min"
    assert err.message is not None and err.message.render("zh-hans") == "血红蛋白 须 >= 20 g/L，实际为 5"
    assert err.message.render("en") == str(err) and err.message.render("fr") == str(err)


@pytest.mark.parametrize(("field", "value", "code", "zh"), [
    ("hb", "abc", "field.not_a_number", "血红蛋白 须为数字，实际为 'abc'"),
    ("hb", {"value": 10, "unit": "mmol/L"}, "field.unknown_unit", "血红蛋白：未知单位 'mmol/L'（可用：g/L、g/dL）"),
    ("hb", "999", "field.above_max", "血红蛋白 须 <= 250 g/L，实际为 999"),
    ("sex", "x", "field.not_a_choice", "性别 须为以下之一：female、male，实际为 'x'"),
])
def test_every_refusal_has_a_code_and_a_chinese_text(field: str, value: object, code: str, zh: str) -> None:
    err = _refusal(field, value)
    assert err.code == code and err.message is not None
    assert err.message.render("zh") == zh
    assert str(err).startswith(field)  # English names the field as forms and the API do


def test_plain_errors_have_no_code_and_messages_are_frozen() -> None:
    assert ValidationError("weight_kg must be positive", field="weight_kg").code is None
    msg = message("field.not_bool", "%(field)s must be true or false, got %(value)s", field="x", value="'y'")
    assert isinstance(msg, Message) and str(msg) == "x must be true or false, got 'y'"
    with pytest.raises(TypeError):
        msg.params["field"] = "z"  # type: ignore[index]
