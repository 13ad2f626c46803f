"""Endpoint derivation (shared/domain/endpoints.md) and the AE-rate endpoint."""

from __future__ import annotations

import datetime as dt

import pytest
from statsmodels.stats.proportion import proportion_confint

from npctrial.domain.endpoints import (
    DAYS_PER_MONTH,
    Failure,
    PatientCourse,
    compute_ae_rate,
    derive_endpoint,
    derive_endpoints,
    derive_worst_grades,
)
from npctrial.domain.protocol import load_protocol
from npctrial.errors import ValidationError

D0 = dt.date(2024, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def course(**kw) -> PatientCourse:
    base = {"patient_id": "P", "enrolment": D0, "assessments": (day(90), day(180), day(270))}
    base.update(kw)
    return PatientCourse(**base)


def test_censored_at_last_adequate_assessment() -> None:
    v = derive_endpoint(course(last_contact=day(400)), "PFS")
    assert (v.time_days, v.status, v.end_date) == (270, 0, day(270))
    os_ = derive_endpoint(course(last_contact=day(400)), "OS")
    assert (os_.time_days, os_.status) == (400, 0)


def test_progression_and_death_are_pfs_events_first_one_counts() -> None:
    c = course(failures=(Failure("distant", day(200)), Failure("local", day(150))), death=day(300))
    pfs = derive_endpoint(c, "PFS")
    assert (pfs.time_days, pfs.status) == (150, 1)
    assert derive_endpoint(c, "DMFS").time_days == 200
    assert derive_endpoint(c, "LRRFS").time_days == 150
    os_ = derive_endpoint(c, "OS")
    assert (os_.time_days, os_.status) == (300, 1)


def test_death_without_failure_is_event_for_composite_and_competing_for_site_only() -> None:
    c = course(death=day(320))
    assert (derive_endpoint(c, "DMFS").status, derive_endpoint(c, "DMFS").time_days) == (1, 320)
    site = derive_endpoint(c, "DMFS", convention="site_only")
    assert (site.status, site.time_days) == (2, 320)


def test_site_only_other_site_failure_does_not_stop_follow_up() -> None:
    c = course(failures=(Failure("local", day(100)),), death=day(320))
    dm = derive_endpoint(c, "DMFS", convention="site_only")
    assert (dm.status, dm.time_days) == (2, 320)
    c2 = course(failures=(Failure("local", day(100)), Failure("distant", day(250))), death=day(320))
    dm2 = derive_endpoint(c2, "DMFS", convention="site_only")
    assert (dm2.status, dm2.time_days) == (1, 250)
    c3 = course(failures=(Failure("local", day(100)),))
    assert derive_endpoint(c3, "DMFS", convention="site_only").status == 0


def test_same_day_event_is_day_zero_and_no_assessment_censors_at_origin() -> None:
    assert derive_endpoint(course(failures=(Failure("progression", D0),)), "PFS").time_days == 0
    v = derive_endpoint(PatientCourse("P", D0), "PFS")
    assert (v.time_days, v.status, v.reason) == (0, 0, "no assessment")


def test_contacts_before_the_origin_are_no_follow_up() -> None:
    # only a baseline scan and a screening visit before enrolment: censored at the origin, day 0
    # (a negative time would be an impossible follow-up)
    c = PatientCourse("P", D0, assessments=(day(-10),), last_contact=day(-3))
    os_ = derive_endpoint(c, "OS")
    assert (os_.time_days, os_.status, os_.end_date, os_.reason) == (0, 0, D0, "no follow-up")
    assert derive_endpoint(c, "PFS").time_days == 0


def test_cutoff_drops_later_records() -> None:
    c = course(failures=(Failure("regional", day(250)),), death=day(400), last_contact=day(400))
    v = derive_endpoint(c, "PFS", cutoff=day(200))
    assert (v.time_days, v.status) == (180, 0)
    o = derive_endpoint(c, "OS", cutoff=day(200))
    assert (o.time_days, o.status) == (180, 0)


def test_new_therapy_and_missed_assessments() -> None:
    c = course(failures=(Failure("distant", day(300)),), new_therapy=day(200))
    v = derive_endpoint(c, "PFS")
    assert (v.time_days, v.status, v.reason) == (180, 0, "new anticancer therapy")
    assert derive_endpoint(c, "PFS", censor_at_new_therapy=False).status == 1
    late = course(death=day(500))
    assert derive_endpoint(late, "PFS").status == 1
    gap = derive_endpoint(late, "PFS", max_assessment_gap_days=180)
    assert (gap.time_days, gap.status) == (270, 0)


def test_origin_randomisation_and_protocol_spec() -> None:
    spec = load_protocol("ccrt-nimotuzumab").endpoint("PFS")
    c = course(randomisation=day(10), failures=(Failure("progression", day(110)),))
    v = derive_endpoint(c, spec)
    assert (v.origin, v.time_days) == ("randomisation", 100)
    assert v.time_months == pytest.approx(100 / DAYS_PER_MONTH)
    with pytest.raises(ValidationError, match="origin 'rt_end' has no date"):
        derive_endpoint(c, "PFS", origin="rt_end")


def test_inconsistent_dates_raise() -> None:
    with pytest.raises(ValidationError, match="after death"):
        course(death=day(100))
    with pytest.raises(ValidationError, match="before origin"):
        derive_endpoint(course(failures=(Failure("local", day(-5)),)), "PFS")
    with pytest.raises(ValidationError, match="failure site"):
        Failure("bone", D0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown endpoint"):
        derive_endpoint(course(), "EFS")


def test_failures_given_as_mappings() -> None:
    c = course(failures=({"site": "local", "date": "2024-02-15"},))
    assert c.failures == (Failure("local", dt.date(2024, 2, 15)),)
    with pytest.raises(ValidationError, match=r"failures\[0\]: unknown key 'sitex'") as exc:
        course(failures=({"sitex": "local", "date": "2024-02-15"},))
    assert exc.value.row == 0
    with pytest.raises(ValidationError, match=r"failures\[1\]: missing 'date'"):
        course(failures=({"site": "local", "date": D0}, {"site": "distant"}))


def test_derive_endpoints_frame() -> None:
    frame = derive_endpoints([course(patient_id="A"), course(patient_id="B", death=day(300))])
    assert len(frame) == 8
    assert set(frame.endpoint) == {"OS", "PFS", "DMFS", "LRRFS"}
    row = frame[(frame.patient_id == "B") & (frame.endpoint == "OS")].iloc[0]
    assert (row.time_days, row.status) == (300, 1)


# --------------------------------------------------------------------------- AE rate


def test_ae_rate_matches_r_binom_test_example() -> None:
    # endpoints.md: x = 3, n = 20 -> 0.03207-0.37893 (R binom.test, 5 decimals)
    rate = compute_ae_rate([3, 4, 3] + [0, 1, 2] * 5 + [1, 2])
    assert (rate.x, rate.n) == (3, 20)
    assert rate.lower == pytest.approx(0.03207, abs=5e-6)
    assert rate.upper == pytest.approx(0.37893, abs=5e-6)


@pytest.mark.parametrize("n", [1, 5, 20, 97])
def test_ae_rate_closed_forms_at_the_extremes(n: int) -> None:
    # x = 0: upper = 1 - (alpha/2)^(1/n); x = n: lower = (alpha/2)^(1/n)  (Clopper & Pearson 1934)
    none = compute_ae_rate([0] * n)
    assert none.lower == 0.0
    assert none.upper == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-10)
    every = compute_ae_rate([3] * n)
    assert every.upper == 1.0
    assert every.lower == pytest.approx(0.025 ** (1 / n), rel=1e-10)


@pytest.mark.parametrize(("x", "n", "conf"), [(1, 10, 0.95), (7, 31, 0.9), (12, 40, 0.99), (29, 30, 0.95)])
def test_ae_rate_agrees_with_statsmodels_beta_interval(x: int, n: int, conf: float) -> None:
    rate = compute_ae_rate([3] * x + [2] * (n - x), confidence=conf)
    lo, hi = proportion_confint(x, n, alpha=1 - conf, method="beta")
    assert rate.lower == pytest.approx(lo, rel=1e-9)
    assert rate.upper == pytest.approx(hi, rel=1e-9)


def test_min_grade_boundary_and_worst_grades() -> None:
    worst = derive_worst_grades([("a", 2), ("a", 3), ("b", 2), ("c", 1)], ["a", "b", "c", "d"])
    assert worst == {"a": 3, "b": 2, "c": 1, "d": 0}
    assert compute_ae_rate(worst).x == 1  # grade 3 counts for grade >= 3
    assert compute_ae_rate(worst, min_grade=2).x == 2
    assert compute_ae_rate(worst, min_grade=1).x == 3
    assert "1/4" in compute_ae_rate(worst).summary()
    with pytest.raises(ValidationError, match="not in the safety population"):
        derive_worst_grades([("z", 1)], ["a"])
    with pytest.raises(ValidationError, match="grade must be an integer"):
        derive_worst_grades([("a", 6)], ["a"])
    with pytest.raises(ValidationError, match="at least one"):
        compute_ae_rate([])


def test_first_failure_site_and_simultaneous_window() -> None:
    from npctrial.domain.endpoints import derive_first_failure

    assert derive_first_failure(course()) is None
    c = course(failures=(Failure("distant", day(130)), Failure("local", day(100)), Failure("regional", day(131))))
    ff = derive_first_failure(c)
    assert ff is not None and ff.date == day(100) and ff.pattern == "local+distant"  # 30 days: in; 31: out
    assert derive_first_failure(c, simultaneous_days=31).pattern == "local+regional+distant"  # type: ignore[union-attr]
    assert derive_first_failure(c, simultaneous_days=0).pattern == "local"  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="simultaneous_days"):
        derive_first_failure(c, simultaneous_days=-1)
