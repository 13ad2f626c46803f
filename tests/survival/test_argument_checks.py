"""Shared argument checks: every public estimator rejects a bad conf_level / rho the same way."""

from __future__ import annotations

import pandas as pd
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import fine_gray, logrank_test, nelson_aalen, pairwise_logrank, rmst

T = [1, 2, 3, 4, 5, 6, 7, 8]
E = [1, 0, 1, 1, 0, 1, 1, 0]
G = [1, 2, 3, 1, 2, 3, 1, 2]


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.95", None, True])
def test_conf_level_outside_unit_interval_or_not_a_number(bad) -> None:
    with pytest.raises(ValidationError) as err:
        nelson_aalen(T, E, conf_level=bad)
    assert err.value.field == "conf_level"
    with pytest.raises(ValidationError) as err:
        rmst(T, E, tau=5, conf_level=bad)
    assert err.value.field == "conf_level"
    df = pd.DataFrame({"t": T, "e": [1, 2, 1, 0, 1, 2, 1, 0], "x": [0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.4, 0.8]})
    with pytest.raises(ValidationError) as err:
        fine_gray(df, "t", "e", ["x"], conf_level=bad)
    assert err.value.field == "conf_level"


@pytest.mark.parametrize("name", ["rho", "gamma"])
@pytest.mark.parametrize("bad", [-1.0, float("inf"), float("nan"), "1"])
def test_weights_rejected_by_both_log_rank_entry_points(name, bad) -> None:
    for fn in (logrank_test, pairwise_logrank):
        with pytest.raises(ValidationError) as err:
            fn(T, E, G, **{name: bad})
        assert err.value.field == name
