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


@pytest.mark.parametrize("bad", ["x", None, True, 1.0, float("nan")])
def test_conf_level_of_curves_and_predictions(bad) -> None:
    from npctrial.survival import cox_ph, cox_univariate, kaplan_meier

    with pytest.raises(ValidationError) as err:
        kaplan_meier(T, E, conf_level=bad)
    assert err.value.field == "conf_level"
    df = pd.DataFrame({"t": T, "e": E, "x": [0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.4, 0.8]})
    fit = cox_ph(df, "t", "e", ["x"])
    with pytest.raises(ValidationError) as err:
        fit.predict_survival(df[["x"]].head(1), conf_level=bad)
    assert err.value.field == "conf_level"
    with pytest.raises(ValidationError) as err:
        cox_univariate(df, "t", "e", ["x"], conf_level=bad)
    assert err.value.field == "conf_level"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"ties": "Efron"}, "ties"), ({"robust": "yes"}, "robust"), ({"tol": "1e-9"}, "tol"),
    ({"tol": 0}, "tol"), ({"max_iter": 2.0}, "max_iter"), ({"max_iter": True}, "max_iter"),
])
def test_cox_options(kwargs, field) -> None:
    from npctrial.survival import cox_ph

    df = pd.DataFrame({"t": T, "e": E, "x": [0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.4, 0.8]})
    with pytest.raises(ValidationError) as err:
        cox_ph(df, "t", "e", ["x"], **kwargs)
    assert err.value.field == field
