"""logrank_test against every R survdiff analysis in ../shared/refs, plus published cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import LogRankResult, logrank_test, pairwise_logrank
from npctrial.survival.logrank import adjust_pvalues
from tests.survival._r_refs import analyses, assert_r_equal, inputs, r_array

SD = analyses("survdiff")
CASES = [pytest.param(ds, a, id=f"{ds}-{a['id']}") for ds, a in SD]
FIELDS = ["groups", "n", "obs", "exp", "var", "chisq", "df", "p", "obs_by_stratum", "exp_by_stratum"]
_cache: dict[tuple[str, str], LogRankResult] = {}


def fit(ds: str, a: dict[str, Any]) -> LogRankResult:
    key = (ds, a["id"])
    if key not in _cache:
        _cache[key] = logrank_test(**inputs(ds, a), rho=a["rho"])
    return _cache[key]


def test_every_reference_file_has_survdiff_analyses() -> None:
    assert {ds for ds, _ in SD} == {"lung", "veteran", "ovarian", "mgus2", "bladder"}
    assert {a["rho"] for _, a in SD} == {0, 1}
    assert any(a["stratified"] for _, a in SD)


@pytest.mark.parametrize(("ds", "a"), CASES)
@pytest.mark.parametrize("field", FIELDS)
def test_survdiff_field_matches_r(ds: str, a: dict[str, Any], field: str) -> None:
    res = fit(ds, a)
    where = f"{ds}/{a['id']} {field}"
    if field == "groups":
        assert list(res.groups) == a["groups"]
        if a["stratified"]:
            # R names strata "ph.ecog=0" for numeric and "squamous" for factor columns:
            # compare the level part
            def level(x: str) -> str:
                return x.split("=", 1)[-1]

            assert [level(x) for x in res.strata or ()] == [level(x) for x in a["strata"]["names"]]
        return
    if field in ("obs_by_stratum", "exp_by_stratum"):
        if a[field] is None:
            assert getattr(res, field) is None
        else:
            assert_r_equal(getattr(res, field), r_array(a[field]), where)
        return
    assert_r_equal(getattr(res, field), r_array(a[field]).reshape(np.shape(getattr(res, field))), where)


def test_tiny_vector_statistics_md_section_13() -> None:
    # R survival 3.5-3: O = (3, 4), E = (3.11746, 3.88254), V11 = 1.536997, chisq = 0.008976549
    t = [1, 2, 2, 3, 4, 5, 5, 7, 8, 9]
    e = [1, 1, 1, 1, 0, 1, 1, 0, 1, 0]
    x = [1, 2, 1, 2, 1, 2, 1, 2, 2, 1]
    res = logrank_test(t, e, x)
    np.testing.assert_allclose(res.obs, [3, 4])
    np.testing.assert_allclose(res.exp, [3.11746, 3.88254], rtol=2e-6)
    assert res.var[0, 0] == pytest.approx(1.536997, rel=1e-6)
    assert res.chisq == pytest.approx(0.008976549, rel=1e-6)
    assert res.df == 1


def test_two_group_hand_computation() -> None:
    # group A: events at 1, 3; group B: events at 2, censored at 4
    # t=1: n=(2,2) d=1 -> E_A = .5, V = 1*(4-1)/(3) * .5*.5 = .25
    # t=2: n=(1,2) d=1 (B) -> E_A = 1/3, V = 1*2/2*(1/3)(2/3) = 2/9
    # t=3: n=(1,1) d=1 (A) -> E_A = .5, V = .25
    res = logrank_test([1, 3, 2, 4], [1, 1, 1, 0], ["A", "A", "B", "B"])
    assert res.obs.tolist() == [2, 1]
    assert res.exp[0] == pytest.approx(0.5 + 1 / 3 + 0.5, rel=1e-14)
    v = 0.25 + 2 / 9 + 0.25
    assert res.var[0, 0] == pytest.approx(v, rel=1e-14)
    assert res.chisq == pytest.approx((2 - 4 / 3) ** 2 / v, rel=1e-14)


def test_fleming_harrington_weights_use_left_continuous_pooled_km() -> None:
    # same data; pooled S(t-) = 1, 3/4, 3/4*2/3 = 1/2 ; G(0, 1): w = 1 - S(t-) = 0, 1/4, 1/2
    res = logrank_test([1, 3, 2, 4], [1, 1, 1, 0], ["A", "A", "B", "B"], rho=0, gamma=1)
    assert res.obs[0] == pytest.approx(0 * 1 + 0.5 * 1, rel=1e-14)
    assert res.exp[0] == pytest.approx(0.25 / 3 + 0.5 * 0.5, rel=1e-14)
    assert res.var[0, 0] == pytest.approx(0.25**2 * 2 / 9 + 0.5**2 * 0.25, rel=1e-14)
    assert "Fleming-Harrington" in res.summary()


def test_trend_test_formula() -> None:
    rng = np.random.default_rng(4)
    t = rng.exponential(size=60).round(2)
    e = rng.integers(0, 2, 60)
    g = np.repeat([0, 1, 2], 20)
    full = logrank_test(t, e, g)
    tr = logrank_test(t, e, g, trend=True, scores=[1, 2, 4])
    c = np.array([1.0, 2.0, 4.0])
    expected = (c @ (full.obs - full.exp)) ** 2 / (c @ full.var @ c)
    assert tr.chisq == pytest.approx(expected, rel=1e-12)
    assert tr.df == 1


def test_two_group_trend_equals_logrank() -> None:
    res = logrank_test([1, 3, 2, 4, 5], [1, 1, 1, 0, 1], [0, 0, 1, 1, 1])
    tr = logrank_test([1, 3, 2, 4, 5], [1, 1, 1, 0, 1], [0, 0, 1, 1, 1], trend=True)
    assert tr.chisq == pytest.approx(res.chisq, rel=1e-12)


def test_pairwise_holm_and_bonferroni() -> None:
    rng = np.random.default_rng(1)
    t = rng.exponential(size=90)
    e = rng.integers(0, 2, 90)
    g = np.repeat(["a", "b", "c"], 30)
    pw = pairwise_logrank(t, e, g, adjust="holm")
    tab = pw.to_frame()
    assert list(zip(tab.group1, tab.group2, strict=True)) == [
        ("group=a", "group=b"),
        ("group=a", "group=c"),
        ("group=b", "group=c"),
    ]
    sub = (g == "a") | (g == "c")
    direct = logrank_test(t[sub], e[sub], g[sub])
    assert tab.p.iloc[1] == pytest.approx(direct.p, rel=1e-12)
    bonf = pairwise_logrank(t, e, g, adjust="bonferroni").to_frame()
    np.testing.assert_allclose(bonf.p_adjusted, np.minimum(1, 3 * tab.p))


def test_adjust_pvalues_matches_r_p_adjust_definition() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03), "holm") = 0.03 0.06 0.06
    np.testing.assert_allclose(adjust_pvalues(np.array([0.01, 0.04, 0.03]), "holm"), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(adjust_pvalues(np.array([0.5, 0.4]), "bonferroni"), [1.0, 0.8])


def test_singular_variance_warns_and_uses_generalised_inverse() -> None:
    from npctrial.errors import StatisticalWarning

    # each stratum holds one subject of one group: E > 0 for both groups but every death
    # happens with a single subject at risk (n_j = 1 adds no variance), so V = 0
    with pytest.warns(StatisticalWarning, match="singular"):
        res = logrank_test([1, 2], [1, 1], ["a", "b"], strata=["s1", "s2"])
    assert np.isfinite(res.chisq)


def test_single_group_raises_as_r() -> None:
    # R survdiff stops: "There is only 1 group" (tests/data/refs/cox_parity.json)
    with pytest.raises(ValidationError, match="There is only 1 group") as err:
        logrank_test([1, 2, 3], [1, 1, 0], [1, 1, 1])
    assert err.value.field == "group"
    with pytest.raises(ValidationError, match="There is only 1 group"):
        pairwise_logrank([1, 2, 3], [1, 1, 0], ["a", "a", "a"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"rho": -1}, "rho"), ({"gamma": float("nan")}, "gamma"), ({"group": None}, "group")],
)
def test_invalid_arguments(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"time": [1, 2, 3], "event": [1, 0, 1], "group": [0, 1, 1]} | kwargs
    with pytest.raises(ValidationError) as exc:
        logrank_test(**args)
    assert exc.value.field == field


def test_summary_and_frame() -> None:
    res = logrank_test([1, 3, 2, 4], [1, 1, 1, 0], ["A", "A", "B", "B"])
    assert "Chisq=" in res.summary()
    assert list(res.to_frame().index) == ["group=A", "group=B"]
