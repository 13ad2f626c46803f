"""Protocol blinding declarations (npctrial.domain.blinding), rules written from ICH E9 2.3.1."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from npctrial.domain.blinding import resolve_blinding
from npctrial.domain.protocol import load_protocol, parse_protocol
from npctrial.errors import ProtocolError


def _shipped(name):
    return yaml.safe_load(resources.files("npctrial.domain").joinpath("protocols", f"{name}.yaml").read_text("utf-8"))


def _ccrt(**blinding):
    data = _shipped("ccrt-nimotuzumab")
    if blinding.get("drop"):
        data.pop("blinding")
    else:
        data["blinding"] = blinding
    return data


def test_shipped_randomised_protocol_declares_its_blinding():
    protocol = load_protocol("ccrt-nimotuzumab")
    assert protocol.blinding.masking == "open-label"
    assert protocol.blinding.allows({"coordinator"}) and not protocol.blinding.allows({"data_manager"})
    assert load_protocol("imrt-s1").blinding is None


def test_undeclared_randomised_protocol_conceals_from_everyone():
    protocol = parse_protocol(_ccrt(drop=True))
    rule = resolve_blinding(protocol.blinding, randomised=True)
    assert rule.allocation_visible_to == () and not rule.allows({"statistician", "coordinator", "study_admin"})
    assert resolve_blinding(None, randomised=False) is None


def test_double_blind_cannot_unblind_the_treating_team():
    with pytest.raises(ProtocolError, match=r"allocation_visible_to\[0\]: a double-blind protocol cannot show"):
        parse_protocol(_ccrt(masking="double-blind", allocation_visible_to=["investigator", "dmc"]))
    ok = parse_protocol(_ccrt(masking="double-blind", allocation_visible_to=["statistician", "dmc"]))
    assert ok.blinding.allows({"dmc"}) and not ok.blinding.allows({"investigator"})


@pytest.mark.parametrize(("block", "message"), [
    ({"masking": "triple-blind"}, "blinding.masking"),
    ({"masking": "open-label", "allocation_visible_to": ["dmc", "dmc"]}, "'dmc' is listed twice"),
    ({"masking": "open-label", "allocation_visible_to": ["data manager"]}, "a role name, got 'data manager'"),
    ({"masking": "open-label", "unknown_key": 1}, "blinding.unknown_key"),
])
def test_bad_declarations_are_refused_with_their_path(block, message):
    with pytest.raises(ProtocolError, match=message):
        parse_protocol(_ccrt(**block))


def test_blinding_without_randomisation_is_refused():
    data = _shipped("imrt-s1")
    data["blinding"] = {"masking": "open-label"}
    with pytest.raises(ProtocolError, match="blinding: declared for a protocol without randomisation"):
        parse_protocol(data)
