"""Roles and capabilities: one declared, read-only table; nothing registered at start-up.

The expected rights below are written from the role descriptions (coordinators and investigators
work at their site, only investigators sign, data managers lock, statisticians and the DMC see
results by arm), not read back from the table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps

from npctrial.web.core import permissions, roles

SRC = Path(__file__).resolve().parents[2] / "src" / "npctrial" / "web"

EXPECTED = {
    # (role, capability): granted?
    ("investigator", "sign_casebook"): True,
    ("coordinator", "sign_casebook"): False,
    ("coordinator", "edit_crf"): True,
    ("monitor", "edit_crf"): False,
    ("data_manager", "lock"): True,
    ("coordinator", "lock"): False,
    ("study_admin", "unblind"): True,
    ("statistician", "unblind"): False,
    ("statistician", "export"): True,
    ("coordinator", "export"): False,
    ("dmc", "view"): True,
    ("dmc", "edit_crf"): False,
}


@pytest.mark.parametrize(("role", "capability"), list(EXPECTED))
def test_role_rights_follow_the_role_descriptions(role, capability):
    assert (capability in roles.ROLE_CAPABILITIES[role]) is EXPECTED[(role, capability)]


def test_the_table_cannot_be_changed_at_run_time():
    assert not hasattr(permissions, "register_capability")
    with pytest.raises(TypeError):
        roles.ROLE_CAPABILITIES["coordinator"] = frozenset({"unblind"})  # type: ignore[index]
    with pytest.raises(TypeError):
        roles.CAPABILITIES["new"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        roles.ROLE_CAPABILITIES["coordinator"].add("unblind")  # type: ignore[attr-defined]


def test_app_start_up_registers_nothing():
    before = dict(roles.ROLE_CAPABILITIES)
    for config in apps.get_app_configs():
        if config.name.startswith("npctrial."):
            config.ready()
    assert dict(roles.ROLE_CAPABILITIES) == before
    assert permissions.ROLE_CAPABILITIES is roles.ROLE_CAPABILITIES


def test_every_capability_named_in_the_code_is_declared_and_every_declared_one_is_used():
    """A typo in a route's capability would be a ValueError at run time: catch it here, statically."""
    pattern = re.compile(
        r"""(?:get_study_for|get_object_for|subject_for|require|can|_subject)\((?:[^()]|\([^()]*\))*?"""
        r"""["']([a-z_]+)["']\s*[,)]""")
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        if path.name == "roles.py":
            continue
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            used.add(name)
    used -= {"site", "subject__site", "protocol_version"}  # site_field arguments, not capabilities
    assert used, "the pattern found no capability: the test would prove nothing"
    assert used <= set(roles.CAPABILITIES), sorted(used - set(roles.CAPABILITIES))
    assert set(roles.CAPABILITIES) <= used, sorted(set(roles.CAPABILITIES) - used)


def test_membership_choices_come_from_the_role_table():
    from npctrial.web.core.models import Membership

    field = Membership._meta.get_field("role")
    assert [name for name, _ in field.choices] == list(roles.ROLES)
    assert roles.SITE_ROLES == {"investigator", "coordinator"}


def test_unknown_capability_is_an_error(world):
    with pytest.raises(ValueError, match="unknown capability"):
        permissions.can(world.users["coordinator"], world.studies["imrt"], "sing_casebook")
