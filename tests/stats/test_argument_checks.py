"""Every public stats function validates its arguments with the shared validator: a bad
conf_level, alternative, method or correction is a ValidationError naming it, never a bare
TypeError from deep inside."""

from __future__ import annotations

import numpy as np
import pytest

from npctrial.errors import SmallSampleWarning, ValidationError
from npctrial.stats import chi_square_test, fisher_exact, mantel_haenszel, mcnemar, proportion_ci

TABLE = [[3, 7], [8, 2]]
STRATA = np.array([[[3, 4], [7, 6]], [[8, 5], [2, 5]]])

BAD_LEVELS = ["x", "0.95", None, True, 0, 1, 1.5, -0.1, float("nan"), [0.95]]


@pytest.mark.parametrize("bad", BAD_LEVELS)
def test_conf_level_is_checked_by_every_function_that_takes_it(bad) -> None:
    calls = [
        lambda: fisher_exact(TABLE, conf_level=bad),
        lambda: proportion_ci(3, 10, conf_level=bad),
        lambda: mantel_haenszel(STRATA, conf_level=bad),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == "conf_level"


@pytest.mark.parametrize(("call", "field"), [
    (lambda: fisher_exact(TABLE, alternative="two.sided"), "alternative"),
    (lambda: fisher_exact(TABLE, alternative=None), "alternative"),
    (lambda: proportion_ci(3, 10, method="exact"), "method"),
    (lambda: proportion_ci(3, 10, method=1), "method"),
    (lambda: chi_square_test(TABLE, correction="yes"), "correction"),
    (lambda: mcnemar(TABLE, correction=1), "correction"),
    (lambda: mantel_haenszel(STRATA, correction=None), "correction"),
])
def test_choices_and_flags_are_checked(call, field) -> None:
    with pytest.raises(ValidationError) as err:
        call()
    assert err.value.field == field


def test_valid_arguments_still_work() -> None:
    assert fisher_exact(TABLE, conf_level=np.float64(0.9)).conf_level == 0.9
    assert proportion_ci(3, 10, conf_level=0.8).conf_level == 0.8
    with pytest.warns(SmallSampleWarning):
        assert chi_square_test(TABLE, correction=np.True_).correction
