"""Events and patients for survival designs: published checks, cross-checks between formulas."""

from __future__ import annotations

import math

import pytest
from scipy import integrate, stats

from npctrial.design import (
    compute_event_probability,
    freedman_events,
    lachin_foulkes,
    one_arm_survival,
    schoenfeld_events,
)
from npctrial.errors import ValidationError

# statistics.md section 11 checks (alpha .05 two-sided, power .8, 1:1); HR 0.5 by hand from the
# Schoenfeld (1983) formula: (1.959964 + 0.841621)^2 / (0.25 ln(0.5)^2) = 65.35 -> 66 events.
SCHOENFELD = [(0.7, 246.8, 247), (0.6, 120.3, 121), (0.5, 65.35, 66)]
FREEDMAN = [(0.7, 252.0, 253), (0.6, 125.6, 126)]


@pytest.mark.parametrize(("hr", "exact", "events"), SCHOENFELD)
def test_schoenfeld_published(hr, exact, events):
    d = schoenfeld_events(hr, 0.05, 0.8)
    assert d.events_exact == pytest.approx(exact, abs=0.05)
    assert d.events == events


@pytest.mark.parametrize(("hr", "exact", "events"), FREEDMAN)
def test_freedman_published(hr, exact, events):
    d = freedman_events(hr, 0.05, 0.8)
    assert d.events_exact == pytest.approx(exact, abs=0.05)
    assert d.events == events


@pytest.mark.parametrize("hr", [0.5, 0.6, 0.7, 0.8, 0.9, 1.25, 1.5])
def test_freedman_over_schoenfeld_ratio(hr):
    # 1:1: D_F / D_S = (1 + HR)^2 ln(HR)^2 / (4 (1 - HR)^2) >= 1, -> 1 as HR -> 1
    ratio = freedman_events(hr).events_exact / schoenfeld_events(hr).events_exact
    assert ratio == pytest.approx((1 + hr) ** 2 * math.log(hr) ** 2 / (4 * (1 - hr) ** 2),
                                  rel=1e-12)
    assert ratio >= 1.0


def test_freedman_approaches_schoenfeld_as_hr_tends_to_one():
    ratios = [freedman_events(hr).events_exact / schoenfeld_events(hr).events_exact
              for hr in (0.5, 0.7, 0.9, 0.99)]
    assert ratios == sorted(ratios, reverse=True)
    assert ratios[-1] == pytest.approx(1.0, abs=1e-4)


def test_unequal_allocation():
    z2 = (stats.norm.isf(0.025) + stats.norm.ppf(0.9)) ** 2
    s = schoenfeld_events(0.7, 0.05, 0.9, allocation=2 / 3)
    assert s.events_exact == pytest.approx(z2 / ((2 / 9) * math.log(0.7) ** 2), rel=1e-12)
    f = freedman_events(0.7, 0.05, 0.9, allocation=2 / 3)  # k = 2 experimental per control
    assert f.events_exact == pytest.approx(z2 * (1 + 2 * 0.7) ** 2 / (2 * 0.3**2), rel=1e-12)
    # allocation is symmetric for Schoenfeld
    assert schoenfeld_events(0.7, allocation=1 / 3).events_exact == pytest.approx(
        schoenfeld_events(0.7, allocation=2 / 3).events_exact, rel=1e-12
    )


def test_lachin_foulkes_gsdesign_check():
    # statistics.md 11 (gsDesign nSurvival): lambda0 .2, lambda1 .1, eta .1, T 2, R .5,
    # one-sided alpha .025, beta .1 -> N 429.6 -> 430, D 90.1 -> 91
    d = lachin_foulkes(hazard_control=0.2, hazard_ratio=0.5, dropout=0.1, accrual_time=0.5,
                       follow_up=1.5, alpha=0.025, power=0.9, sided=1)
    assert d.patients_exact == pytest.approx(429.6, abs=0.05)
    assert d.patients == 430
    assert d.events_exact == pytest.approx(90.1, abs=0.05)
    assert d.events == 91
    by_median = lachin_foulkes(median_control=math.log(2) / 0.2,
                               median_experimental=math.log(2) / 0.1, dropout=0.1,
                               accrual_time=0.5, follow_up=1.5, alpha=0.025, power=0.9, sided=1)
    assert by_median.patients_exact == pytest.approx(d.patients_exact, rel=1e-12)


@pytest.mark.parametrize(("lam", "r", "f", "eta"),
                         [(0.2, 0.5, 1.5, 0.1), (0.05, 3, 2, 0.0), (1.0, 2, 0.5, 0.3), (0.3, 0, 2, 0)])
def test_event_probability_by_numerical_integration(lam, r, f, eta):
    t = r + f
    h = lam + eta

    def p_given_entry(e: float) -> float:  # event before dropout and before T - e
        return lam / h * (1 - math.exp(-h * (t - e)))

    expected = (integrate.quad(p_given_entry, 0, r)[0] / r) if r > 0 else p_given_entry(0)
    assert compute_event_probability(lam, r, f, eta) == pytest.approx(expected, rel=1e-10)


def test_patients_from_events_and_cross_check_with_lachin_foulkes():
    s = schoenfeld_events(0.6, median_control=3.0, accrual_time=3, follow_up=2)
    lam0 = math.log(2) / 3
    pbar = (compute_event_probability(lam0, 3, 2) + compute_event_probability(0.6 * lam0, 3, 2)) / 2
    assert s.patients_exact == pytest.approx(s.events_exact / pbar, rel=1e-12)
    lf = lachin_foulkes(0.6, median_control=3.0, accrual_time=3, follow_up=2)
    # both are asymptotic approximations of the same test: within 5 %
    assert lf.patients_exact == pytest.approx(s.patients_exact, rel=0.05)
    # the summary states the patient count rounded up from the independent computation above
    assert f"{math.ceil(s.events_exact / pbar)} patients" in s.summary()


def test_one_arm_landmark_and_median_agree():
    # 1-year PFS 70 % -> 80 %: exponential hazards -ln(.7), -ln(.8); one-sided alpha .05
    d = one_arm_survival(landmark=1, rate_null=0.7, rate_alt=0.8, accrual_time=2, follow_up=3)
    lam0, lam1 = -math.log(0.7), -math.log(0.8)
    z2 = (stats.norm.isf(0.05) + stats.norm.ppf(0.8)) ** 2
    assert d.events_exact == pytest.approx(z2 / math.log(lam0 / lam1) ** 2, rel=1e-12)
    assert d.patients_exact == pytest.approx(
        d.events_exact / compute_event_probability(lam1, 2, 3), rel=1e-12
    )
    m = one_arm_survival(median_null=math.log(2) / lam0, median_alt=math.log(2) / lam1)
    assert m.events_exact == pytest.approx(d.events_exact, rel=1e-12)
    # one arm needs a quarter of the two-arm Schoenfeld events (pi(1-pi) = 1/4), same z's
    two = schoenfeld_events(lam1 / lam0, alpha=0.05, power=0.8, sided=1)
    assert two.events_exact == pytest.approx(4 * d.events_exact, rel=1e-12)


def test_bad_input():
    with pytest.raises(ValidationError, match="hazard_ratio must differ from 1"):
        schoenfeld_events(1.0)
    with pytest.raises(ValidationError, match="hazard_ratio must be > 0"):
        freedman_events(-0.5)
    with pytest.raises(ValidationError, match="sided must be 1 or 2"):
        schoenfeld_events(0.7, sided=3)
    with pytest.raises(ValidationError, match="median_control"):
        lachin_foulkes(0.7, accrual_time=1, follow_up=1)
    with pytest.raises(ValidationError, match="contradicts the medians"):
        lachin_foulkes(0.7, median_control=2, median_experimental=4, accrual_time=1, follow_up=1)
    with pytest.raises(ValidationError, match="landmark"):
        one_arm_survival(rate_null=0.5)
    with pytest.raises(ValidationError, match="accrual_time"):
        schoenfeld_events(0.7, median_control=2, follow_up=1)


@pytest.mark.parametrize("events_fn", [schoenfeld_events, freedman_events])
def test_control_hazard_given_once(events_fn):
    # a median and a hazard for the same control arm must not be silently reconciled
    with pytest.raises(ValidationError, match="not both") as exc:
        events_fn(0.7, median_control=2.0, hazard_control=0.5, accrual_time=1, follow_up=1)
    assert exc.value.field == "hazard_control"
    # the median route is the hazard route with lambda = ln 2 / median
    by_median = events_fn(0.7, median_control=2.0, accrual_time=3, follow_up=2)
    by_hazard = events_fn(0.7, hazard_control=math.log(2) / 2.0, accrual_time=3, follow_up=2)
    assert by_median.patients_exact == pytest.approx(by_hazard.patients_exact, rel=1e-12)
    with pytest.raises(ValidationError, match="median_control must be > 0"):
        events_fn(0.7, median_control=0, accrual_time=1, follow_up=1)
    with pytest.raises(ValidationError, match="hazard_control") as missing:
        events_fn(0.7, accrual_time=1, follow_up=1)
    assert missing.value.field == "hazard_control"
