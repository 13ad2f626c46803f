"""nelson_aalen: ctype 1 against R's survfit cumhaz/std.chaz in every reference KM analysis;
ctype 2 (Fleming-Harrington ties) against the published formula and lifelines."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import nelson_aalen
from tests.conftest import REFS
from tests.survival._r_refs import analyses, assert_r_equal, inputs

KM = analyses("kaplan_meier")


@pytest.mark.parametrize(("ds", "a"), [pytest.param(ds, a, id=f"{ds}-{a['id']}") for ds, a in KM])
def test_ctype1_matches_r_cumhaz(ds: str, a: dict[str, Any]) -> None:
    res = nelson_aalen(**inputs(ds, a), ctype=1)
    assert list(res.labels) == [c["stratum"] for c in a["curves"]]
    for ours, ref in zip(res.curves, a["curves"], strict=True):
        assert_r_equal(ours.time, ref["time"], f"{ds}/{a['id']} time")
        assert_r_equal(ours.cumhaz, ref["cumhaz"], f"{ds}/{a['id']} cumhaz")
        assert_r_equal(ours.std_chaz, ref["std.chaz"], f"{ds}/{a['id']} std.chaz")


def test_ctype2_hand_computed_ties() -> None:
    # n = 5 at t=1 with 2 tied events: 1/5 + 1/4 ; variance 1/25 + 1/16; then t=2: n=3, d=1
    res = nelson_aalen([1, 1, 2, 3, 3], [1, 1, 1, 0, 0], ctype=2)
    c = res.curves[0]
    np.testing.assert_allclose(c.cumhaz, [1 / 5 + 1 / 4, 1 / 5 + 1 / 4 + 1 / 3, 1 / 5 + 1 / 4 + 1 / 3], rtol=1e-15)
    np.testing.assert_allclose(c.std_chaz[:2] ** 2, [1 / 25 + 1 / 16, 1 / 25 + 1 / 16 + 1 / 9], rtol=1e-14)
    r1 = nelson_aalen([1, 1, 2, 3, 3], [1, 1, 1, 0, 0], ctype=1).curves[0]
    np.testing.assert_allclose(r1.cumhaz[:2], [2 / 5, 2 / 5 + 1 / 3], rtol=1e-15)


def test_ctype2_many_ties_uses_exact_harmonic_sums() -> None:
    # 100 tied events among 150 at risk (beyond the loop threshold): digamma identity
    t = np.r_[np.ones(100), np.full(50, 2.0)]
    e = np.r_[np.ones(100), np.zeros(50)]
    c = nelson_aalen(t, e, ctype=2).curves[0]
    exact = sum(1 / (150 - k) for k in range(100))
    exact_v = sum(1 / (150 - k) ** 2 for k in range(100))
    assert c.cumhaz[0] == pytest.approx(exact, rel=1e-12)
    assert c.std_chaz[0] ** 2 == pytest.approx(exact_v, rel=1e-12)


@pytest.mark.parametrize("dataset", ["lung", "veteran"])
def test_ctype2_agrees_with_lifelines_default(dataset: str) -> None:
    from lifelines import NelsonAalenFitter

    df = pd.read_csv(REFS / "data" / f"{dataset}.csv")
    ev = (df["status"] == (2 if dataset == "lung" else 1)).astype(int)
    ours = nelson_aalen(df["time"], ev, ctype=2).curves[0]
    naf = NelsonAalenFitter().fit(df["time"], ev)  # nelson_aalen_smoothing=True (ties one by one)
    theirs = naf.cumulative_hazard_.iloc[1:, 0].to_numpy()  # lifelines adds a row at t=0
    np.testing.assert_allclose(ours.cumhaz, theirs, rtol=1e-10)


def test_log_and_plain_bands() -> None:
    from scipy.stats import norm

    z = norm.ppf(0.975)
    c = nelson_aalen([1, 2, 3, 4], [1, 1, 0, 1]).curves[0]
    np.testing.assert_allclose(c.lower, c.cumhaz * np.exp(-z * c.std_chaz / c.cumhaz))
    p = nelson_aalen([1, 2, 3, 4], [1, 1, 0, 1], conf_type="plain").curves[0]
    np.testing.assert_allclose(p.upper, p.cumhaz + z * p.std_chaz)
    np.testing.assert_allclose(c.surv, np.exp(-c.cumhaz))


def test_at_and_frames() -> None:
    res = nelson_aalen([1, 2, 3, 4], [1, 1, 0, 1], group=[0, 0, 1, 1])
    tab = res.at([0.5, 2])
    assert tab["cumhaz"].iloc[0] == 0.0
    assert len(res.to_frame()) == 4
    assert "ctype=1" in res.summary()


@pytest.mark.parametrize(("kw", "field"), [({"ctype": 3}, "ctype"), ({"conf_type": "arcsin"}, "conf_type")])
def test_invalid(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        nelson_aalen([1, 2], [1, 1], **kw)
    assert exc.value.field == field


@pytest.mark.parametrize("estimator", ["kaplan_meier", "nelson_aalen"])
def test_curve_lookup_by_label_and_position(estimator: str) -> None:
    import npctrial.survival as surv

    fit = getattr(surv, estimator)
    res = fit([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1], group=pd.Series(["a", "b", "a", "b"], name="arm"))
    assert res.labels == ("arm=a", "arm=b")
    assert res.curve("arm=b") is res.curves[1]
    assert res.curve(0) is res.curves[0]
    with pytest.raises(ValidationError, match=r"no curve labelled 'arm=c'; curves are \['arm=a', 'arm=b'\]"):
        res.curve("arm=c")
