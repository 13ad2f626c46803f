"""cumulative_incidence and gray_test against cmprsk::cuminc: mgus2 and the simulated cases of
cmprsk.json (ties, zero times, three groups and causes, strata, rho = 1, small random data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.survival.competing_risks import cumulative_incidence, gray_test
from tests.rrefs import CLOSED_FORM, analysis, load_ref, read_data
from tests.survival._competing_refs import analyses, assert_close, dataset, ids, num

CUMINC = analyses("cuminc")
RTOL = CLOSED_FORM


def test_references_present() -> None:
    assert CUMINC, "no cuminc analysis found in the reference files"


def _fit(name: str, a: dict):
    df = dataset(name, a)
    assert "group = sex" in a["call"] and "cencode = 0" in a["call"]
    return cumulative_incidence(df["etime"], df["event"], group=df["sex"], censor_code=0)


@pytest.mark.parametrize(("name", "a"), CUMINC, ids=ids(CUMINC))
def test_cuminc_curves_match_r(name: str, a: dict) -> None:
    res = _fit(name, a)
    assert [cv.name for cv in res.curves] == [c["name"] for c in a["curves"]]
    for c in a["curves"]:
        cv = res.curve(c["group"], int(c["cause"]))
        assert_close(cv.time, c["time"], RTOL, f"{c['name']} time")
        assert_close(cv.est, c["est"], RTOL, f"{c['name']} est")
        assert_close(cv.var, c["var"], RTOL, f"{c['name']} var")


@pytest.mark.parametrize(("name", "a"), CUMINC, ids=ids(CUMINC))
def test_gray_test_matches_r(name: str, a: dict) -> None:
    res = _fit(name, a)
    gt = a["grays_test"]
    assert [str(c) for c in res.tests.causes] == gt["cause"]
    assert_close(res.tests.statistic, gt["stat"], RTOL, "Gray statistic")
    assert_close(res.tests.p, gt["p"], RTOL, "Gray p")
    assert_close(res.tests.df, gt["df"], 0.0, "Gray df")
    df = dataset(name, a)
    alone = gray_test(df["etime"], df["event"], df["sex"])
    assert_close(alone.statistic, gt["stat"], RTOL, "gray_test statistic")
    one = gray_test(df["etime"], df["event"], df["sex"], cause=2)
    assert_close(one.statistic, gt["stat"][1:], RTOL, "gray_test cause=2")


@pytest.mark.parametrize(("name", "a"), CUMINC, ids=ids(CUMINC))
def test_timepoints_match_r(name: str, a: dict) -> None:
    res = _fit(name, a)
    at = a["at_times"]
    times = num(at["times"])
    for i, row in enumerate(at["est"]["rownames"]):
        group, cause = row.split(" ")
        est, var = res.curve(group, int(cause)).at(times)
        assert_close(est, at["est"]["values"][i], RTOL, f"{row} est at times")
        assert_close(var, at["var"]["values"][i], RTOL, f"{row} var at times")
    frame = res.at(times)
    assert len(frame) == len(times) * len(res.curves)


# --------------------------------------------------------------------------------------------
# simulated data (cmprsk.json): three groups and causes, ties and zero times, strata, rho = 1
# --------------------------------------------------------------------------------------------

TIES = read_data("cr_ties")
SIMULATED = [a for a in load_ref("cmprsk")["analyses"] if a["type"] == "cuminc"]


def _group_of(a: dict) -> pd.Series:
    if "ifelse(group == 'a', 'x', 'y')" in a["call"]:
        return TIES["group"].map({"a": "x", "b": "y", "c": "y"})
    assert "time, event, group" in a["call"], a["call"]
    return TIES["group"]


@pytest.mark.parametrize("a", SIMULATED, ids=[a["id"] for a in SIMULATED])
def test_simulated_ties_three_causes_match_cuminc(a: dict) -> None:
    stratified = "strata = stratum" in a["call"]
    rho = 1.0 if "rho = 1" in a["call"] else 0.0
    res = cumulative_incidence(TIES["time"], TIES["event"], group=_group_of(a),
                               strata=TIES["stratum"] if stratified else None, rho=rho)
    assert [cv.name for cv in res.curves] == [c["name"] for c in a["curves"]]
    for c in a["curves"]:
        cv = res.curve(c["group"], int(c["cause"]))
        assert_close(cv.time, c["time"], 0.0, f"{c['name']} time")
        assert_close(cv.est, c["est"], CLOSED_FORM, f"{c['name']} est")
        assert_close(cv.var, c["var"], CLOSED_FORM, f"{c['name']} var")
    gt = a["grays_test"]
    assert [str(c) for c in res.tests.causes] == gt["cause"]
    assert_close(res.tests.statistic, gt["stat"], CLOSED_FORM, "Gray stat")
    assert_close(res.tests.p, gt["p"], CLOSED_FORM, "Gray p")
    assert_close(res.tests.df, gt["df"], 0.0, "Gray df")
    at = a["at_times"]
    for i, row in enumerate(at["est"]["rownames"]):
        group, cause = row.split(" ")
        est, var = res.curve(group, int(cause)).at(num(at["times"]))
        assert_close(est, at["est"]["values"][i], CLOSED_FORM, f"{row} est at times")
        assert_close(var, at["var"]["values"][i], CLOSED_FORM, f"{row} var at times")


@pytest.mark.parametrize("a", SIMULATED[1:3], ids=[a["id"] for a in SIMULATED[1:3]])
def test_gray_test_alone_matches_cuminc_per_cause(a: dict) -> None:
    rho = 1.0 if "rho = 1" in a["call"] else 0.0
    for k, cause in enumerate(a["grays_test"]["cause"]):
        res = gray_test(TIES["time"], TIES["event"], TIES["group"], strata=TIES["stratum"],
                        cause=int(cause), rho=rho)
        assert res.df[0] == 2
        assert_close(res.statistic, [a["grays_test"]["stat"][k]], CLOSED_FORM, "gray_test stat")


def test_cif_when_everyone_fails_and_last_time_is_the_cause() -> None:
    # S reaches 0 at the last time, which is a cause-1 failure
    a = analysis("cmprsk", "cuminc_everyone_fails")
    t, e = num(a["time"]), num(a["event"]).astype(int)
    res = cumulative_incidence(t, e)
    for c in a["curves"]:
        cv = res.curve(cause=int(c["cause"]))
        assert_close(cv.time, c["time"], 0.0, "everyone-fails time")
        assert_close(cv.est, c["est"], CLOSED_FORM, "everyone-fails est")
        assert_close(cv.var, c["var"], CLOSED_FORM, "everyone-fails var")
    # all-cause incidence reaches 1 at the end
    total = res.curve(cause=1).est[-1] + res.curve(cause=2).est[-1]
    assert total == pytest.approx(1.0, rel=1e-12)


SMALL = analysis("cmprsk", "cuminc_small_random")["cases"]


@pytest.mark.parametrize("case", SMALL, ids=[f"small{i}" for i in range(len(SMALL))])
def test_small_random_data_sets_match_cuminc(case: dict) -> None:
    t, e = num(case["time"]), num(case["event"]).astype(int)
    res = cumulative_incidence(t, e)
    assert [f"1 {cv.cause}" for cv in res.curves] == [c["name"] for c in case["curves"]]
    for c in case["curves"]:
        cv = res.curve(cause=int(c["cause"]))
        assert_close(cv.time, c["time"], 0.0, "small time")
        assert_close(cv.est, c["est"], CLOSED_FORM, "small est")
        assert_close(cv.var, c["var"], CLOSED_FORM, "small var")


def test_single_cause_cif_is_one_minus_km() -> None:
    # one cause only: F(t) = 1 - KM(t) (hand KM on a tiny example)
    t = np.array([1.0, 2, 3, 3, 5])
    e = np.array([1, 0, 1, 1, 0])
    cv = cumulative_incidence(t, e).curve()
    # KM: 4/5 at 1, then at 3: n=3, d=2 -> 4/5 * 1/3
    assert cv.est[-1] == pytest.approx(1 - 0.8 / 3, rel=1e-14)
    assert cv.time.tolist() == [0.0, 1.0, 1.0, 3.0, 3.0, 5.0]


def _synthetic(seed: int, n: int) -> pd.DataFrame:
    """Tied, zero-including data for behaviour checks that need no R value."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "time": np.round(rng.exponential(8.0, n)),
            "event": rng.choice([0, 1, 2, 3], n, p=[0.3, 0.3, 0.25, 0.15]),
            "group": rng.choice(["a", "b", "c"], n),
            "stratum": rng.integers(0, 2, n),
        }
    )


def test_results_have_summary_and_frames() -> None:
    df = _synthetic(5, 60)
    res = cumulative_incidence(df["time"], df["event"], group=df["group"])
    text = res.summary([5, 10])
    assert "Tests:" in text and "a 1" in text
    frame = res.to_frame()
    assert set(frame.columns) >= {"curve", "group", "cause", "time", "est", "var", "std_err"}
    assert len(frame) == sum(len(cv.time) for cv in res.curves)
    assert list(res.tests.to_frame().index) == [1, 2, 3]


def test_at_is_nan_past_the_last_time() -> None:
    cv = cumulative_incidence([1.0, 2, 3], [1, 2, 0]).curve(cause=1)
    est, _ = cv.at([0.5, 1, 3, 3.5])
    assert est[:3].tolist() == [0.0, 1 / 3, 1 / 3]
    assert np.isnan(est[3])


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def test_negative_time_names_the_row() -> None:
    with pytest.raises(ValidationError, match="row 1"):
        cumulative_incidence([1.0, -2.0, 3.0], [1, 2, 0])


def test_mismatched_lengths() -> None:
    with pytest.raises(ValidationError, match="length"):
        cumulative_incidence([1.0, 2.0], [1, 2, 0])


def test_non_integer_event_code() -> None:
    with pytest.raises(ValidationError, match="event"):
        cumulative_incidence([1.0, 2.0], [1.5, 0])


def test_only_censored() -> None:
    with pytest.raises(ValidationError, match="censoring code"):
        cumulative_incidence([1.0, 2.0], [0, 0])


def test_gray_needs_two_groups_and_a_present_cause() -> None:
    with pytest.raises(ValidationError, match="two levels"):
        gray_test([1.0, 2.0, 3.0], [1, 2, 0], ["a", "a", "a"])
    with pytest.raises(ValidationError, match="cause 5"):
        gray_test([1.0, 2.0, 3.0], [1, 2, 0], ["a", "b", "a"], cause=5)


def test_gray_singular_variance_warns() -> None:
    # cause 2 occurs only after group b has left: its score variance is 0. cmprsk reports
    # stat = -1 and p = 1 (R); we keep stat = -1 but give p NaN with a warning (divergence:
    # a p-value of 1 would read as "no difference" where nothing can be tested).
    a = analysis("cmprsk", "gray_singular")
    with pytest.warns(StatisticalWarning, match="singular"):
        res = gray_test(num(a["time"]), num(a["event"]).astype(int), a["group"], cause=2)
    assert a["grays_test"]["stat"][1] == -1.0 and a["grays_test"]["p"][1] == 1
    assert res.statistic[0] == -1.0 and np.isnan(res.p[0])
    both = gray_test(num(a["time"]), num(a["event"]).astype(int), a["group"], cause=1)
    assert_close(both.statistic, a["grays_test"]["stat"][:1], CLOSED_FORM, "Gray stat (regular cause)")


def test_missing_values_raise_or_are_dropped_and_counted() -> None:
    df = _synthetic(12, 50)
    holed = df.copy()
    holed.loc[4, "time"] = np.nan
    holed.loc[9, "group"] = None
    with pytest.raises(ValidationError, match="row 4"):
        cumulative_incidence(holed["time"], holed["event"], group=holed["group"])
    res = cumulative_incidence(holed["time"], holed["event"], group=holed["group"], na_action="drop")
    ref = cumulative_incidence(df["time"].drop([4, 9]), df["event"].drop([4, 9]),
                               group=df["group"].drop([4, 9]))
    assert res.n_dropped == 2 and res.n == 48
    for a, b in zip(res.curves, ref.curves, strict=True):
        np.testing.assert_array_equal(a.est, b.est)
    np.testing.assert_array_equal(res.tests.statistic, ref.tests.statistic)
    g = gray_test(holed["time"], holed["event"], holed["group"], na_action="drop")
    np.testing.assert_array_equal(g.statistic, ref.tests.statistic)


def test_singular_gray_variance_also_warns_from_cumulative_incidence() -> None:
    with pytest.warns(StatisticalWarning, match="singular"):
        res = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 1, 0, 2], group=["a", "b", "b", "a"])
    assert res.tests.statistic[1] == -1.0


def test_plot_draws_one_line_per_curve() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = _synthetic(13, 60)
    res = cumulative_incidence(df["time"], df["event"], group=df["group"])
    fig, ax = plt.subplots()
    out = res.plot(ax)
    assert out is ax
    assert len(ax.get_lines()) >= len(res.curves)
    assert ax.get_ylabel() == "Cumulative incidence"
    plt.close(fig)


def test_labelled_events_give_the_coded_results() -> None:
    df = _synthetic(14, 80)
    names = {0: "censored", 1: "relapse", 2: "death", 3: "second cancer"}
    labels = df["event"].map(names)
    coded = cumulative_incidence(df["time"], df["event"], group=df["group"])
    text = cumulative_incidence(df["time"], labels, group=df["group"], censor_code="censored")
    # plain strings: causes in sorted order, as R's factor()
    assert text.causes == ("death", "relapse", "second cancer")
    for code, lab in ((1, "relapse"), (2, "death"), (3, "second cancer")):
        for g in text.groups:
            np.testing.assert_array_equal(text.curve(g, lab).est, coded.curve(g, code).est)
            np.testing.assert_array_equal(text.curve(g, lab).var, coded.curve(g, code).var)
        assert text.curve("a", lab).name == f"a {lab}"
    g = gray_test(df["time"], labels, df["group"], cause="death", censor_code="censored")
    assert g.causes == ("death",)
    assert g.statistic[0] == coded.tests.statistic[1]
    # categorical: its category order
    cat = pd.Categorical(labels, categories=["censored", "relapse", "death", "second cancer"])
    res = cumulative_incidence(df["time"], cat, group=df["group"], censor_code="censored")
    assert res.causes == ("relapse", "death", "second cancer")


def test_censor_code_must_match_the_event_type() -> None:
    with pytest.raises(ValidationError, match="censor_code"):
        cumulative_incidence([1.0, 2.0], ["relapse", "censored"])
    with pytest.raises(ValidationError, match="censor_code"):
        cumulative_incidence([1.0, 2.0], [1, 0], censor_code="censored")


def test_gray_variance_does_not_depend_on_the_time_chunking() -> None:
    from npctrial.survival.gray import _gray_stratum

    df = _synthetic(16, 200).sort_values("time", kind="stable")
    m = np.where(df["event"] == 0, 0, np.where(df["event"] == 1, 1, 2))
    g = pd.Categorical(df["group"]).codes.astype(np.int64)
    t = df["time"].to_numpy(float)
    s_one, v_one = _gray_stratum(t, m, g, 3, 0.0)
    s_small, v_small = _gray_stratum(t, m, g, 3, 0.0, chunk=3)
    np.testing.assert_array_equal(s_one, s_small)
    np.testing.assert_allclose(v_small, v_one, rtol=1e-12)
