"""rmst: against R survmean (summary_table rmean, se(rmean)) in every reference KM analysis,
and the published difference/ratio formulas."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.survival import rmst
from tests.survival._r_refs import analyses, assert_r_equal, inputs, r_array

KM = analyses("kaplan_meier")


@pytest.mark.parametrize(("ds", "a"), [pytest.param(ds, a, id=f"{ds}-{a['id']}") for ds, a in KM])
def test_matches_r_restricted_mean_at_common_tau(ds: str, a: dict[str, Any]) -> None:
    kw = inputs(ds, a)
    kw.pop("strata", None)
    # R's rmean="common": the largest follow-up time in the data
    t = pd.to_numeric(kw["time"])
    tau = float(t.max())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = rmst(kw.pop("time"), kw.pop("event"), tau, **kw)
    tab = r_array(a["summary_table"]["log"])
    cols = a["summary_table"]["log"]["colnames"]
    assert_r_equal(res.estimate, tab[:, cols.index("rmean")], f"{ds}/{a['id']} rmean")
    assert_r_equal(res.std_err, tab[:, cols.index("se(rmean)")], f"{ds}/{a['id']} se(rmean)")


def test_hand_computed_single_group() -> None:
    res = rmst([1, 2, 3], [1, 1, 1], 3)
    assert res.estimate[0] == pytest.approx(2.0, rel=1e-15)
    assert res.std_err[0] == pytest.approx(math.sqrt(2 / 9), rel=1e-14)
    assert res.difference is None


def test_two_groups_difference_and_ratio() -> None:
    from scipy.stats import norm

    t = [1, 2, 3, 1, 4, 5, 6]
    e = [1, 1, 1, 1, 1, 0, 1]
    g = ["a", "a", "a", "b", "b", "b", "b"]
    res = rmst(t, e, 3, group=g)
    r0, r1 = res.estimate
    s0, s1 = res.std_err
    z = norm.ppf(0.975)
    d, sd, lo, up, p = res.difference  # type: ignore[misc]
    assert d == pytest.approx(r1 - r0)
    assert sd == pytest.approx(math.hypot(s0, s1))
    assert (lo, up) == pytest.approx((d - z * sd, d + z * sd))
    assert p == pytest.approx(2 * norm.sf(abs(d) / sd))
    ratio, rlo, rup, _ = res.ratio  # type: ignore[misc]
    slr = math.sqrt((s0 / r0) ** 2 + (s1 / r1) ** 2)
    assert ratio == pytest.approx(r1 / r0)
    assert (rlo, rup) == pytest.approx((r1 / r0 * math.exp(-z * slr), r1 / r0 * math.exp(z * slr)))
    frame = res.to_frame()
    assert frame.index.tolist()[-2:] == ["difference (group=b - group=a)", "ratio (group=b / group=a)"]
    assert "tau = 3" in res.summary()


def test_agrees_with_lifelines_value() -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    rng = np.random.default_rng(3)
    t = rng.exponential(10, 200).round(1)
    e = rng.integers(0, 2, 200)
    kmf = KaplanMeierFitter().fit(t, e)
    ours = rmst(t, e, 12.0).estimate[0]
    assert ours == pytest.approx(restricted_mean_survival_time(kmf, t=12.0), rel=1e-9)


def test_tau_beyond_follow_up_warns() -> None:
    with pytest.warns(StatisticalWarning, match="beyond the last observed time"):
        rmst([1, 2, 3], [1, 0, 0], 10)


@pytest.mark.parametrize("tau", [None, 0, -1, float("inf")])
def test_invalid_tau(tau: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        rmst([1, 2], [1, 1], tau)
    assert exc.value.field == "tau"
