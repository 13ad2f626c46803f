"""Events and patients for time-to-event endpoints (log-rank test, one-arm exponential test).

References
- Schoenfeld D. The asymptotic properties of nonparametric tests for comparing survival
  distributions. Biometrika 1981;68:316-319; Schoenfeld DA. Sample-size formula for the
  proportional-hazards regression model. Biometrics 1983;39:499-503.
- Freedman LS. Tables of the number of patients required in clinical trials using the logrank
  test. Stat Med 1982;1:121-129.
- Lachin JM, Foulkes MA. Evaluation of sample size and power for analyses of survival with
  allowance for nonuniform patient entry, losses to follow-up, noncompliance, and
  stratification. Biometrics 1986;42:507-519 (log-hazard-ratio form as gsDesign::nSurvival).
- One arm: the MLE of an exponential hazard has var(log lambda_hat) = 1/D (Lawless 2003,
  Statistical Models and Methods for Lifetime Data, section 2.2), giving the same event formula
  as Schoenfeld with pi(1 - pi) = 1.

Formulas (statistics.md section 11; z_a = z_{1 - alpha/sided}, z_b = z_{power}):

1. Schoenfeld: ``D = (z_a + z_b)^2 / (pi (1 - pi) ln(HR)^2)``, pi = fraction in one arm.
2. Freedman: ``D = (z_a + z_b)^2 (1 + k HR)^2 / (k (1 - HR)^2)``, k = n_E / n_C (k = 1: 1:1).
3. Event probability with uniform accrual over R, analysis at T = R + F, exponential hazard
   lambda and dropout hazard eta:
   ``P = lambda/(lambda + eta) {1 - [e^{-(lambda+eta)(T-R)} - e^{-(lambda+eta)T}] / ((lambda+eta) R)}``.
   Patients ``N = D / sum_i pi_i P_i``.
4. Lachin-Foulkes: ``N = [z_a / sqrt(P(lambda_bar) xi0 xi1) + z_b sqrt(1/(xi0 P0) + 1/(xi1 P1))]^2
   / ln(lambda0/lambda1)^2`` with ``lambda_bar = xi0 lambda0 + xi1 lambda1``; events
   ``N (xi0 P0 + xi1 P1)``.
Counts are rounded up; the unrounded values are kept as ``*_exact``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
from scipy import stats

from npctrial.design._validate import check_positive, check_probability
from npctrial.errors import ValidationError

LN2 = math.log(2.0)


@dataclass(frozen=True)
class SurvivalDesign:
    """Required events (and patients when accrual is given) for a time-to-event design.

    Hazards are per unit of the time scale used for ``accrual_time`` and ``follow_up``;
    ``hazard_ratio`` is experimental versus control (< 1 = benefit); ``allocation`` is the
    fraction randomised to the experimental arm.
    """

    method: str
    hazard_ratio: float
    alpha: float
    power: float
    sided: int
    allocation: float
    events_exact: float
    events: int
    hazard_control: float | None = None
    accrual_time: float | None = None
    follow_up: float | None = None
    dropout: float = 0.0
    patients_exact: float | None = None
    patients: int | None = None
    probability_of_event: float | None = None

    @property
    def hazard_experimental(self) -> float | None:
        return None if self.hazard_control is None else self.hazard_control * self.hazard_ratio

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "method": self.method, "hazard_ratio": self.hazard_ratio, "alpha": self.alpha,
            "sided": self.sided, "power": self.power, "allocation": self.allocation,
            "events_exact": self.events_exact, "events": self.events,
            "hazard_control": self.hazard_control, "accrual_time": self.accrual_time,
            "follow_up": self.follow_up, "dropout": self.dropout,
            "probability_of_event": self.probability_of_event,
            "patients_exact": self.patients_exact, "patients": self.patients,
        }])

    def summary(self) -> str:
        one_arm = self.method == "one-arm exponential"
        test = ("a one-sample test of the exponential hazard against the historical value"
                if one_arm else "a log-rank test")
        alloc = "" if one_arm else (
            f"; {self.allocation:.0%} of patients allocated to the experimental arm")
        lines = [
            f"{self.method} design: {self.events} events ({self.events_exact:.2f} before rounding "
            f"up) give power {self.power:g} for {test} with {self.sided}-sided alpha "
            f"{self.alpha:g}, assuming proportional hazards with hazard ratio "
            f"{self.hazard_ratio:.4g}{alloc}."
        ]
        if self.patients is not None and self.hazard_control is not None:
            lam = self.hazard_control
            ref = "historical" if one_arm else "control"
            lines.append(
                f"Assuming exponential survival ({ref} hazard {lam:.4g}, median "
                f"{LN2 / lam:.3g}; experimental hazard {lam * self.hazard_ratio:.4g}, median "
                f"{LN2 / (lam * self.hazard_ratio):.3g}), uniform accrual over "
                f"{self.accrual_time:g}, {self.follow_up:g} of further follow-up and dropout "
                f"hazard {self.dropout:g}: each patient has an event with probability "
                f"{self.probability_of_event:.4f}, so {self.patients} patients "
                f"({self.patients_exact:.2f}) are needed."
            )
        return "\n".join(lines)


def compute_event_probability(hazard: float, accrual_time: float, follow_up: float,
                              dropout: float = 0.0) -> float:
    """P(event observed by the analysis) for uniform accrual, exponential event and dropout."""
    lam = check_positive(hazard, "hazard")
    r = check_positive(accrual_time, "accrual_time", allow_zero=True)
    f = check_positive(follow_up, "follow_up", allow_zero=True)
    eta = check_positive(dropout, "dropout", allow_zero=True)
    if r + f <= 0:
        raise ValidationError("accrual_time + follow_up must be > 0", field="follow_up")
    h = lam + eta
    if r == 0:
        return lam / h * (1.0 - math.exp(-h * f))
    t = r + f
    return lam / h * (1.0 - (math.exp(-h * (t - r)) - math.exp(-h * t)) / (h * r))


def _z(alpha: float, power: float, sided: int) -> tuple[float, float]:
    if sided not in (1, 2):
        raise ValidationError(f"sided must be 1 or 2, got {sided!r}", field="sided")
    alpha = check_probability(alpha, "alpha")
    power = check_probability(power, "power")
    return float(stats.norm.isf(alpha / sided)), float(stats.norm.ppf(power))


def _check_hr(hazard_ratio: float) -> float:
    hr = check_positive(hazard_ratio, "hazard_ratio")
    if hr == 1.0:
        raise ValidationError("hazard_ratio must differ from 1", field="hazard_ratio")
    return hr


def _control_hazard(hazard_ratio: float | None, median_control: float | None,
                    median_experimental: float | None, hazard_control: float | None
                    ) -> tuple[float, float]:
    """(control hazard, HR) from any consistent combination of medians, hazard and HR."""
    if median_control is not None and hazard_control is not None:
        raise ValidationError("give median_control or hazard_control, not both",
                              field="hazard_control")
    lam0 = None
    if median_control is not None:
        lam0 = LN2 / check_positive(median_control, "median_control")
    elif hazard_control is not None:
        lam0 = check_positive(hazard_control, "hazard_control")
    if median_experimental is not None:
        lam1 = LN2 / check_positive(median_experimental, "median_experimental")
        if lam0 is None:
            raise ValidationError("median_experimental needs median_control or hazard_control",
                                  field="median_control")
        hr = lam1 / lam0
        if hazard_ratio is not None and not math.isclose(hr, hazard_ratio, rel_tol=1e-6):
            raise ValidationError(
                f"hazard_ratio {hazard_ratio} contradicts the medians (ratio {hr:.6g})",
                field="hazard_ratio",
            )
        return lam0, _check_hr(hr)
    if lam0 is None:
        raise ValidationError("give median_control or hazard_control", field="median_control")
    if hazard_ratio is None:
        raise ValidationError("give hazard_ratio or median_experimental", field="hazard_ratio")
    return lam0, _check_hr(hazard_ratio)


def _with_patients(design: SurvivalDesign, hazard_control: float | None,
                   median_control: float | None, accrual_time: float | None,
                   follow_up: float | None, dropout: float) -> SurvivalDesign:
    """Add the patients needed for ``design``'s events (step 3 of the module docstring)."""
    if median_control is not None and hazard_control is not None:
        raise ValidationError("give median_control or hazard_control, not both",
                              field="hazard_control")
    if median_control is not None:
        hazard_control = LN2 / check_positive(median_control, "median_control")
    if accrual_time is None and follow_up is None:
        return design
    if hazard_control is None or accrual_time is None or follow_up is None:
        field = ("hazard_control" if hazard_control is None
                 else "accrual_time" if accrual_time is None else "follow_up")
        raise ValidationError(
            "patients need hazard_control (or median_control), accrual_time and follow_up",
            field=field,
        )
    lam0 = check_positive(hazard_control, "hazard_control")
    lam1 = lam0 * design.hazard_ratio
    pi = design.allocation
    p_event = (1 - pi) * compute_event_probability(lam0, accrual_time, follow_up, dropout) + \
        pi * compute_event_probability(lam1, accrual_time, follow_up, dropout)
    n_exact = design.events_exact / p_event
    return replace(design, hazard_control=lam0, accrual_time=float(accrual_time),
                    follow_up=float(follow_up), dropout=float(dropout), probability_of_event=p_event,
                    patients_exact=n_exact, patients=math.ceil(n_exact - 1e-9))


def _events_design(method: str, events_of: Callable[[float, float, float], float], hazard_ratio: float,
                   alpha: float, power: float, allocation: float, sided: int,
                   patients: dict[str, float | None]) -> SurvivalDesign:
    """The design of ``method`` with d = ``events_of(hr, za + zb, pi)`` events; patients when accrual is given."""
    hr = _check_hr(hazard_ratio)
    za, zb = _z(alpha, power, sided)
    pi = check_probability(allocation, "allocation")
    d = events_of(hr, za + zb, pi)
    design = SurvivalDesign(method, hr, float(alpha), float(power), sided, pi, d, math.ceil(d - 1e-9))
    return _with_patients(design, patients["hazard_control"], patients["median_control"],
                          patients["accrual_time"], patients["follow_up"], float(patients["dropout"] or 0.0))


def schoenfeld_events(hazard_ratio: float, alpha: float = 0.05, power: float = 0.8,
                      allocation: float = 0.5, sided: int = 2, *,
                      hazard_control: float | None = None, median_control: float | None = None,
                      accrual_time: float | None = None, follow_up: float | None = None,
                      dropout: float = 0.0) -> SurvivalDesign:
    """Schoenfeld (1983) events for a log-rank test, d = (za + zb)^2 / (pi (1 - pi) log(HR)^2);
    patients too if accrual is given."""
    return _events_design("Schoenfeld", lambda hr, z, pi: z ** 2 / (pi * (1 - pi) * math.log(hr) ** 2),
                          hazard_ratio, alpha, power, allocation, sided,
                          dict(hazard_control=hazard_control, median_control=median_control,
                               accrual_time=accrual_time, follow_up=follow_up, dropout=dropout))


def freedman_events(hazard_ratio: float, alpha: float = 0.05, power: float = 0.8,
                    allocation: float = 0.5, sided: int = 2, *,
                    hazard_control: float | None = None, median_control: float | None = None,
                    accrual_time: float | None = None, follow_up: float | None = None,
                    dropout: float = 0.0) -> SurvivalDesign:
    """Freedman (1982) events for a log-rank test, d = (za + zb)^2 (1 + k HR)^2 / (k (1 - HR)^2)
    with k = pi / (1 - pi); patients too if accrual is given."""
    return _events_design("Freedman",
                          lambda hr, z, pi: z ** 2 * (1 + pi / (1 - pi) * hr) ** 2 / (pi / (1 - pi) * (1 - hr) ** 2),
                          hazard_ratio, alpha, power, allocation, sided,
                          dict(hazard_control=hazard_control, median_control=median_control,
                               accrual_time=accrual_time, follow_up=follow_up, dropout=dropout))


def lachin_foulkes(hazard_ratio: float | None = None, *, median_control: float | None = None,
                   median_experimental: float | None = None, hazard_control: float | None = None,
                   accrual_time: float, follow_up: float, dropout: float = 0.0,
                   allocation: float = 0.5, alpha: float = 0.05, power: float = 0.8,
                   sided: int = 2) -> SurvivalDesign:
    """Lachin-Foulkes (1986) patients and events, uniform accrual, exponential survival."""
    lam0, hr = _control_hazard(hazard_ratio, median_control, median_experimental, hazard_control)
    za, zb = _z(alpha, power, sided)
    xi1 = check_probability(allocation, "allocation")
    xi0 = 1 - xi1
    lam1 = lam0 * hr
    p0 = compute_event_probability(lam0, accrual_time, follow_up, dropout)
    p1 = compute_event_probability(lam1, accrual_time, follow_up, dropout)
    pbar = compute_event_probability(xi0 * lam0 + xi1 * lam1, accrual_time, follow_up, dropout)
    n = (za / math.sqrt(pbar * xi0 * xi1) + zb * math.sqrt(1 / (xi0 * p0) + 1 / (xi1 * p1))) ** 2 \
        / math.log(lam0 / lam1) ** 2
    p_event = xi0 * p0 + xi1 * p1
    d = n * p_event
    return SurvivalDesign(
        "Lachin-Foulkes", hr, float(alpha), float(power), sided, xi1, d, math.ceil(d - 1e-9),
        hazard_control=lam0, accrual_time=float(accrual_time), follow_up=float(follow_up),
        dropout=float(dropout), patients_exact=n, patients=math.ceil(n - 1e-9),
        probability_of_event=p_event,
    )


def one_arm_survival(*, median_null: float | None = None, median_alt: float | None = None,
                     landmark: float | None = None, rate_null: float | None = None,
                     rate_alt: float | None = None, alpha: float = 0.05, power: float = 0.8,
                     sided: int = 1, accrual_time: float | None = None,
                     follow_up: float | None = None, dropout: float = 0.0) -> SurvivalDesign:
    """Single-arm design against a historical median or landmark survival rate (exponential).

    Give either ``median_null`` and ``median_alt`` or ``landmark`` with ``rate_null`` and
    ``rate_alt`` (e.g. 1-year PFS 0.70 -> 0.80: ``landmark=1, rate_null=0.7, rate_alt=0.8``).
    Events ``D = (z_a + z_b)^2 / ln(lambda0/lambda1)^2``; patients from the event probability
    under the alternative hazard.
    """
    if median_null is not None or median_alt is not None:
        if landmark is not None or rate_null is not None or rate_alt is not None:
            raise ValidationError("give medians or a landmark rate, not both", field="landmark")
        if median_null is None or median_alt is None:
            raise ValidationError("give both median_null and median_alt", field="median_alt")
        lam0 = LN2 / check_positive(median_null, "median_null")
        lam1 = LN2 / check_positive(median_alt, "median_alt")
    else:
        if landmark is None or rate_null is None or rate_alt is None:
            raise ValidationError(
                "give median_null and median_alt, or landmark with rate_null and rate_alt",
                field="landmark",
            )
        t = check_positive(landmark, "landmark")
        lam0 = -math.log(check_probability(rate_null, "rate_null")) / t
        lam1 = -math.log(check_probability(rate_alt, "rate_alt")) / t
    hr = _check_hr(lam1 / lam0)
    za, zb = _z(alpha, power, sided)
    d = (za + zb) ** 2 / math.log(hr) ** 2
    design = SurvivalDesign("one-arm exponential", hr, float(alpha), float(power), sided, 1.0, d,
                            math.ceil(d - 1e-9), hazard_control=lam0)
    if accrual_time is None and follow_up is None:
        return design
    if accrual_time is None or follow_up is None:
        raise ValidationError("patients need both accrual_time and follow_up",
                              field="accrual_time" if accrual_time is None else "follow_up")
    p_event = compute_event_probability(lam1, accrual_time, follow_up, dropout)
    n = d / p_event
    return replace(design, accrual_time=float(accrual_time), follow_up=float(follow_up),
                    dropout=float(dropout), probability_of_event=p_event, patients_exact=n,
                    patients=math.ceil(n - 1e-9))


