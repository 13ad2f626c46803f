"""aalen_johansen against R's multi-state survfit (references) and the IJ definition."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npctrial.errors import ValidationError
from npctrial.survival.aalen_johansen import aalen_johansen
from npctrial.survival.competing_risks import cumulative_incidence
from tests.rrefs import CLOSED_FORM
from tests.survival._competing_refs import analyses, assert_close, dataset, ids, num

AJ = analyses("aalen_johansen")
RTOL = CLOSED_FORM


def test_references_present() -> None:
    assert AJ


def _fit(name: str, a: dict):
    df = dataset(name, a)
    m = re.search(r"labels = c\(([^)]*)\)", a["call"])
    labels = [s.strip().strip("'\"") for s in m.group(1).split(",")]
    assert labels[0] == "censor" and "factor(event, 0:2" in a["call"] and "~ sex" in a["call"]
    return aalen_johansen(df["etime"], df["event"], group=df["sex"], state_names=labels[1:])


@pytest.mark.parametrize(("name", "a"), AJ, ids=ids(AJ))
def test_pstate_and_std_err_match_survfit(name: str, a: dict) -> None:
    res = _fit(name, a)
    assert list(res.states) == a["states"]
    assert [c.stratum for c in res.curves] == [c["stratum"] for c in a["curves"]]
    for c in a["curves"]:
        cv = res.curve(c["stratum"])
        assert_close(cv.time, c["time"], 0.0, f"{c['stratum']} time")
        assert_close(cv.n_risk, num(c["n.risk"]["values"]), 0.0, f"{c['stratum']} n.risk")
        assert_close(cv.n_event, num(c["n.event"]["values"]), 0.0, f"{c['stratum']} n.event")
        assert_close(cv.pstate, num(c["pstate"]["values"]), RTOL, f"{c['stratum']} pstate")
        assert_close(cv.std_err, num(c["std.err"]["values"]), RTOL, f"{c['stratum']} std.err")


@pytest.mark.parametrize(("name", "a"), AJ, ids=ids(AJ))
def test_pstate_equals_cuminc_estimate(name: str, a: dict) -> None:
    # the reference note: pstate for a cause equals cmprsk's cuminc est
    res = _fit(name, a)
    df = dataset(name, a)
    ci = cumulative_incidence(df["etime"], df["event"], group=df["sex"])
    for j, cause in enumerate((1, 2), start=1):
        for cv in res.curves:
            est, _ = ci.curve(cv.stratum.split("=")[1], cause).at(cv.time)
            np.testing.assert_allclose(cv.pstate[:, j], est, rtol=1e-12, atol=1e-300)


# --------------------------------------------------------------------------------------------
# the infinitesimal jackknife by its definition: d estimate / d case weight (complex step)
# --------------------------------------------------------------------------------------------


def _weighted_aj(time: np.ndarray, cause: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Aalen-Johansen with case weights (complex allowed) at every distinct time."""
    ut = np.unique(time)
    p = np.zeros((len(ut), k + 1), dtype=complex)
    s = 1.0 + 0j
    f = np.zeros(k, dtype=complex)
    for j, t in enumerate(ut):
        n = w[time >= t].sum()
        dk = np.array([w[(time == t) & (cause == c)].sum() for c in range(1, k + 1)])
        f = f + s * dk / n
        s = s * (1 - dk.sum() / n)
        p[j, 0] = s
        p[j, 1:] = f
    return p


def _ij_std_err(time: np.ndarray, cause: np.ndarray, k: int) -> np.ndarray:
    h = 1e-30
    n = len(time)
    total = 0.0
    for i in range(n):
        w = np.ones(n, dtype=complex)
        w[i] += 1j * h
        total = total + (_weighted_aj(time, cause, w, k).imag / h) ** 2
    return np.sqrt(total)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_std_err_is_the_infinitesimal_jackknife(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 45
    t = np.round(rng.exponential(5.0, n))  # ties, including censorings tied with events
    e = rng.choice([0, 1, 2, 3], n, p=[0.3, 0.3, 0.25, 0.15])
    cv = aalen_johansen(t, e).curve()
    np.testing.assert_allclose(cv.pstate, _weighted_aj(t, e, np.ones(n, complex), 3).real, rtol=1e-12)
    np.testing.assert_allclose(cv.std_err, _ij_std_err(t, e, 3), rtol=1e-9, atol=1e-15)


def test_std_err_when_everyone_fails_at_the_end() -> None:
    # the last time empties the risk set (S = 0) with two causes tied there
    t = np.array([1.0, 1, 2, 3, 3, 4, 5, 5, 5])
    e = np.array([1, 0, 2, 1, 0, 2, 1, 2, 1])
    cv = aalen_johansen(t, e).curve()
    assert cv.pstate[-1, 0] == 0.0
    np.testing.assert_allclose(cv.std_err, _ij_std_err(t, e, 2), rtol=1e-9, atol=1e-15)


def test_groups_results_and_frames() -> None:
    t = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    e = np.array([1, 2, 0, 1, 2, 1, 0, 2])
    g = np.array(["b", "a", "a", "b", "a", "b", "b", "a"])
    res = aalen_johansen(t, e, group=g, state_names=("relapse", "death"))
    assert [c.stratum for c in res.curves] == ["group=a", "group=b"]
    assert res.states == ("(s0)", "relapse", "death")
    p, se = res.curve("b").at([0.5, 1.0, 100.0])
    assert p[0].tolist() == [1.0, 0.0, 0.0] and se[0].tolist() == [0.0, 0.0, 0.0]
    assert p[1].tolist() == [0.75, 0.25, 0.0]
    assert np.isnan(p[2]).all()
    frame = res.to_frame()
    assert len(frame) == 8 and "pstate_relapse" in frame.columns
    assert "P(death)" in res.summary()
    assert len(res.at([2.0, 4.0])) == 4


def test_times_equal_up_to_rounding_are_merged_like_survfit_timefix() -> None:
    t = np.array([1.0, 0.1 + 0.2, 0.3, 2.0, 2.0 + 1e-12, 5.0])  # 0.1 + 0.2 != 0.3 in floating point
    e = np.array([1, 2, 1, 0, 2, 1])
    fuzzy = aalen_johansen(t, e).curve()
    exact = aalen_johansen(np.array([1.0, 0.3, 0.3, 2.0, 2.0, 5.0]), e).curve()
    assert len(fuzzy.time) == 4
    np.testing.assert_array_equal(fuzzy.pstate, exact.pstate)
    np.testing.assert_array_equal(fuzzy.std_err, exact.std_err)


def test_validation() -> None:
    with pytest.raises(ValidationError, match="state_names"):
        aalen_johansen([1.0, 2.0], [1, 2], state_names=("only",))
    with pytest.raises(ValidationError, match="time"):
        aalen_johansen([np.nan, 2.0], [1, 2])


def test_missing_values_dropped_only_when_asked() -> None:
    t = np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    e = np.array([1, 2, 2, 0, 1])
    with pytest.raises(ValidationError, match="row 1"):
        aalen_johansen(t, e)
    res = aalen_johansen(t, e, na_action="drop")
    ref = aalen_johansen(np.delete(t, 1), np.delete(e, 1))
    assert res.n_dropped == 1 and res.n == 4
    np.testing.assert_array_equal(res.curve().std_err, ref.curve().std_err)


@pytest.mark.parametrize(("name", "a"), AJ, ids=ids(AJ))
def test_labelled_events_as_r_factor_match_survfit(name: str, a: dict) -> None:
    # the R call's own factor: factor(event, 0:2, labels = c('censor', 'pcm', 'death'))
    df = dataset(name, a)
    labels = re.search(r"labels = c\(([^)]*)\)", a["call"]).group(1)
    labels = [s.strip().strip("'\"") for s in labels.split(",")]
    status = pd.Categorical.from_codes(df["event"].to_numpy(), categories=labels)
    res = aalen_johansen(df["etime"], status, group=df["sex"], censor_code=labels[0])
    assert list(res.states) == a["states"]
    for c in a["curves"]:
        cv = res.curve(c["stratum"])
        assert_close(cv.pstate, num(c["pstate"]["values"]), RTOL, f"{c['stratum']} pstate")
        assert_close(cv.std_err, num(c["std.err"]["values"]), RTOL, f"{c['stratum']} std.err")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 3)), min_size=2, max_size=40
    ).filter(lambda rows: any(e for _, e in rows))
)
def test_event_free_state_se_is_greenwood_and_states_sum_to_one(rows: list) -> None:
    # For the all-cause Kaplan-Meier, the infinitesimal jackknife variance equals Greenwood's
    # (Therneau, survival "methods" vignette); state probabilities always add to 1.
    t = np.array([float(r[0]) for r in rows])
    e = np.array([r[1] for r in rows])
    cv = aalen_johansen(t, e).curve()
    np.testing.assert_allclose(cv.pstate.sum(axis=1), 1.0, rtol=1e-12)
    n = cv.n_risk[:, 0]
    d = cv.n_event.sum(axis=1)
    s = cv.pstate[:, 0]
    alive = s > 0
    greenwood = s * np.sqrt(np.cumsum(np.where(n > d, d / (n * np.maximum(n - d, 1)), 0.0)))
    np.testing.assert_allclose(cv.std_err[alive, 0], greenwood[alive], rtol=1e-10, atol=1e-15)
