"""Resource limits of protocol rule expressions (npctrial.domain.rules): every limit at its boundary,
and the issue's memory bomb refused when the protocol is loaded."""

from __future__ import annotations

import time
from importlib import resources

import pytest
import yaml

from npctrial.domain import rules
from npctrial.domain.protocol import parse_protocol
from npctrial.domain.rules import parse_rule
from npctrial.errors import ProtocolError, ValidationError


def _protocol_with_rule(rule: str) -> dict:
    text = resources.files("npctrial.domain").joinpath("protocols", "imrt-s1.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    data["criteria"][0] = {**data["criteria"][0], "rule": rule, "fields": []}
    return data


def test_the_memory_bomb_is_refused_when_the_protocol_is_loaded():
    start = time.perf_counter()
    with pytest.raises(ProtocolError, match=r"criteria\[0\]\.rule: .*arithmetic is on numbers only"):
        parse_protocol(_protocol_with_rule("'a' * 100000000000 == 'b'"))
    assert time.perf_counter() - start < 5  # refused, not attempted


def test_text_field_arithmetic_is_refused_when_evaluated():
    rule = parse_rule("sex * 100000000000 == 'b'")
    with pytest.raises(ValidationError, match="arithmetic is on numbers only"):
        rule.evaluate({"sex": "female"})
    assert parse_rule("hb * 2 >= 200").evaluate({"hb": 100}) is True
    with pytest.raises(ValidationError, match="numbers only"):
        parse_rule("flag + 1 > 1").evaluate({"flag": True})  # booleans are not numbers either


def test_length_limit():
    ok = "hb >= " + "1" * 3
    assert parse_rule(ok + " " * (rules.MAX_RULE_LENGTH - len(ok)))
    with pytest.raises(ValidationError, match="characters long"):
        parse_rule(ok + " " * (rules.MAX_RULE_LENGTH - len(ok) + 1))


def test_depth_limit():
    def nested(n: int) -> str:
        return "not " * n + "flag"

    assert parse_rule(nested(rules.MAX_DEPTH - 2))  # Expression > UnaryOp ... > Name > Load
    with pytest.raises(ValidationError, match="nested too deeply"):
        parse_rule(nested(rules.MAX_DEPTH + 1))
    with pytest.raises(ValidationError, match="nested too deeply"):
        parse_rule("-" * 1500 + "1 == 1")  # beyond any sane nesting, within the length limit


def test_node_limit():
    parts = [f"f{i} > 1" for i in range(60)]  # 5 nodes per comparison + BoolOp: about 300
    assert parse_rule(" or ".join(parts))
    with pytest.raises(ValidationError, match="more than"):
        parse_rule(" or ".join(f"f{i} > 1" for i in range(120)))


@pytest.mark.parametrize(("literal", "accepted"), [
    ("1000000000000", True), ("1000000000001", False), ("1e12", True), ("1.5e12", False),
])
def test_number_size_limit(literal, accepted):
    if accepted:
        assert parse_rule(f"x < {literal}")
    else:
        with pytest.raises(ValidationError, match="too large"):
            parse_rule(f"x < {literal}")


def test_text_literal_and_in_list_limits():
    assert parse_rule(f"x == '{'a' * rules.MAX_TEXT_LITERAL}'")
    with pytest.raises(ValidationError, match="text literal"):
        parse_rule(f"x == '{'a' * (rules.MAX_TEXT_LITERAL + 1)}'")
    assert parse_rule(f"x in ({', '.join(map(str, range(rules.MAX_IN_LIST)))})")
    with pytest.raises(ValidationError, match="'in' list"):
        parse_rule(f"x in ({', '.join(map(str, range(rules.MAX_IN_LIST + 1)))})")
    with pytest.raises(ValidationError, match="text literal"):
        parse_rule(f"x in ('{'b' * 500}', 'c')")


def test_shipped_protocols_stay_within_the_limits():
    from npctrial.domain.protocol import available_protocols, load_protocol

    for name in available_protocols():
        assert load_protocol(name).criteria
