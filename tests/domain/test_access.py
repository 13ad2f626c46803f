"""Protocol ``access:``: per-form and export levels only narrow a role's defaults; date shifting."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

import pytest
import yaml

from npctrial.domain.access import (
    EXPORT_LEVELS,
    FORM_LEVELS,
    AccessSpec,
    compute_date_shift,
    resolve_level,
    shift_date,
)
from npctrial.domain.protocol import parse_protocol
from npctrial.errors import ProtocolError


def _imrt(**extra: Any) -> dict[str, Any]:
    path = resources.files("npctrial.domain").joinpath("protocols", "imrt-s1.yaml")
    data = yaml.safe_load(path.read_text("utf-8"))
    data.update(extra)
    return data


@pytest.mark.parametrize(("declared", "defaults", "expected"), [
    ({}, {"coordinator": "edit"}, "edit"),                       # nothing declared: the default
    ({"coordinator": "read"}, {"coordinator": "edit"}, "read"),  # narrowed
    ({"monitor": "edit"}, {"monitor": "read"}, "read"),          # never widened
    ({"monitor": "none"}, {"monitor": "read"}, "none"),
    ({"monitor": "none"}, {"monitor": "read", "coordinator": "edit"}, "edit"),  # best of the user's roles
    ({"monitor": "none", "coordinator": "read"}, {"monitor": "read", "coordinator": "edit"}, "read"),
    ({}, {}, "none"),                                            # no role at all
])
def test_form_levels_narrow_the_defaults_and_a_user_gets_the_best_of_their_roles(declared, defaults, expected):
    assert resolve_level(FORM_LEVELS, declared, defaults) == expected


def test_export_levels_follow_the_same_rule():
    spec = AccessSpec(export={"statistician": "deidentified", "monitor": "full"})
    assert spec.export_level({"statistician": "full"}) == "deidentified"
    assert spec.export_level({"monitor": "none"}) == "none"
    assert spec.export_level({"data_manager": "full"}) == "full"
    assert EXPORT_LEVELS == ("none", "deidentified", "full")


def test_a_protocol_declares_access_and_every_bad_entry_is_listed_with_its_path():
    ok = parse_protocol(_imrt(access={"forms": {"ae": {"statistician": "none"}}, "export": {"statistician":
                                                                                          "deidentified"},
                                      "deidentification": {"dates": "remove"}}))
    assert ok.access is not None and ok.access.forms["ae"]["statistician"] == "none"
    assert ok.access.deidentification.dates == "remove" and ok.access.deidentification.max_shift_days == 183
    assert parse_protocol(_imrt()).access is None
    with pytest.raises(ProtocolError) as info:
        parse_protocol(_imrt(access={"forms": {"ae": {"statistician": "hidden"}, "toxicity": {"chief": "read"}},
                                     "export": {"statistician": "some"},
                                     "deidentification": {"max_shift_days": 0}}))
    problems = info.value.errors
    text = " | ".join(problems)
    assert "access.forms.ae.statistician" in text
    assert "access.forms.toxicity: unknown form" in text
    assert "access.forms.toxicity.chief: unknown role" in text
    assert "access.export.statistician" in text
    assert "access.deidentification.max_shift_days" in text


def test_date_shift_is_per_subject_never_zero_within_range_and_keyed():
    key = b"k" * 32
    shifts = [compute_date_shift(key, f"NPC-GZ-{i:03d}", 30) for i in range(1, 401)]
    assert all(1 <= abs(s) <= 30 for s in shifts)
    assert min(shifts) < 0 < max(shifts)  # both directions
    assert len(set(shifts)) > 40  # spread over the range, not a constant
    assert compute_date_shift(key, "NPC-GZ-001", 30) == shifts[0]  # reproducible
    other = [compute_date_shift(b"x" * 32, f"NPC-GZ-{i:03d}", 30) for i in range(1, 401)]
    assert other != shifts  # depends on the key
    assert {compute_date_shift(key, f"s{i}", 1) for i in range(50)} == {-1, 1}
    with pytest.raises(ValueError):
        compute_date_shift(key, "s", 0)


def test_shift_date_moves_dates_datetimes_and_iso_text_and_leaves_others():
    assert shift_date(dt.date(2026, 2, 27), 3) == dt.date(2026, 3, 2)
    assert shift_date(dt.datetime(2024, 2, 28, 23, 30), 1) == dt.datetime(2024, 2, 29, 23, 30)
    assert shift_date("2026-01-05", -10) == "2025-12-26"
    assert shift_date("2026-01-05T08:00:00+00:00", 2) == "2026-01-07T08:00:00+00:00"
    assert shift_date("not a date!", 5) == "not a date!"
    assert shift_date(42, 5) == 42 and shift_date(None, 5) is None
