"""npctrial.validation: the shared boundary checks return typed values or name the argument."""

from __future__ import annotations

import numpy as np
import pytest

from npctrial.errors import ValidationError
from npctrial.validation import (
    check_choice,
    check_conf_level,
    check_count,
    check_flag,
    check_number,
    check_positive,
    check_probability,
)


@pytest.mark.parametrize("bad", ["1", None, True, np.bool_(False), float("inf"), float("nan"), [1.0], 1j])
def test_numbers_are_real_finite_scalars(bad) -> None:
    with pytest.raises(ValidationError, match="^x must be") as err:
        check_number(bad, "x")
    assert err.value.field == "x"


def test_numbers_come_back_as_float() -> None:
    for good in (1, 2.5, np.int32(3), np.float32(0.25)):
        out = check_number(good, "x")
        assert type(out) is float and out == float(good)


@pytest.mark.parametrize(("value", "ok"), [(0.0, False), (1e-300, True), (0.999, True), (1.0, False)])
def test_conf_level_is_open_unit_interval(value: float, ok: bool) -> None:
    if ok:
        assert check_conf_level(value) == value
    else:
        with pytest.raises(ValidationError, match=r"conf_level must be in \(0, 1\)"):
            check_conf_level(value)


def test_probability_bounds_can_be_closed() -> None:
    assert check_probability(0.0, "p", open_low=False) == 0.0
    assert check_probability(1.0, "p", open_high=False) == 1.0
    with pytest.raises(ValidationError, match=r"p must be in \[0, 1\), got 1.0"):
        check_probability(1.0, "p", open_low=False)


def test_positive_count_choice_flag() -> None:
    assert check_positive(0.0, "t", allow_zero=True) == 0.0
    with pytest.raises(ValidationError, match="t must be > 0"):
        check_positive(0.0, "t")
    assert check_count(np.int64(4), "n", minimum=1) == 4
    for bad in (3.0, True, 0, "2"):
        with pytest.raises(ValidationError, match="n must be an integer >= 1"):
            check_count(bad, "n", minimum=1)
    assert check_choice("log", ("log", "plain"), "conf_type") == "log"
    with pytest.raises(ValidationError, match=r"conf_type must be one of \['log', 'plain'\], got 'Log'"):
        check_choice("Log", ("log", "plain"), "conf_type")
    assert check_flag(np.True_, "robust") is True
    for bad in (1, "yes", None):
        with pytest.raises(ValidationError, match="robust must be True or False"):
            check_flag(bad, "robust")
