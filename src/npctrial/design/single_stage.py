"""Single-stage phase II designs for a binary endpoint (response, adverse-event rate).

- A'Hern RP. Sample size tables for exact single-stage phase II designs. Stat Med
  2001;20:859-866: exact binomial.
- Fleming TR. One-sample multiple testing procedure for phase II clinical trials. Biometrics
  1982;38:143-151: normal approximation (the one-stage case, K = 1).

Algorithm (A'Hern, statistics.md section 10):

1. For n = 1, 2, ...: the cut-off ``r`` is the smallest count with ``P(X >= r | n, p0) <= alpha``.
2. The design is the first ``n`` for which ``P(X >= r | n, p1) >= power``. Exact designs are
   saw-toothed: a larger ``n`` is not always feasible, so the search does not stop at a bound.

Fleming (1982, section 2 with K = 1):

1. ``n = ceil( [(z_{1-a} sqrt(p0 q0) + z_{1-b} sqrt(p1 q1)) / (p1 - p0)]^2 )``.
2. Reject H0 when ``X >= r`` with ``r = round(n p0 + z_{1-a} sqrt(n p0 q0)) + 1``.
3. The exact binomial alpha and power of that rule are reported alongside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from npctrial.design._validate import check_count, check_probability
from npctrial.errors import ValidationError

_TOL = 1e-12


@dataclass(frozen=True)
class SingleStageDesign:
    """Enrol ``n`` patients; the treatment is promising if at least ``r`` respond."""

    method: str
    p0: float
    p1: float
    alpha: float
    power: float
    n: int
    r: int
    alpha_actual: float
    power_actual: float

    def rejection_probability(self, p: float) -> float:
        """P(X >= r | n, p)."""
        return float(stats.binom.sf(self.r - 1, self.n, p))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "method": self.method, "p0": self.p0, "p1": self.p1, "alpha": self.alpha,
            "power": self.power, "n": self.n, "r": self.r, "alpha_actual": self.alpha_actual,
            "power_actual": self.power_actual,
        }])

    def summary(self) -> str:
        ref = "A'Hern 2001, exact binomial" if self.method == "ahern" else \
            "Fleming 1982, normal approximation"
        return (
            f"Single-stage phase II design ({ref}). Assumptions: a response rate of {self.p0:g} "
            f"or less is uninteresting (H0) and {self.p1:g} is the target (H1); one-sided type I "
            f"error at most {self.alpha:g}, power at least {self.power:g}; responses independent "
            f"with a constant probability.\n"
            f"Enrol {self.n} patients; the treatment is promising if {self.r} or more respond.\n"
            f"Exact type I error {self.alpha_actual:.4f}, exact power {self.power_actual:.4f}."
        )


def _check(p0: float, p1: float, alpha: float, power: float) -> tuple[float, float, float, float]:
    p0 = check_probability(p0, "p0")
    p1 = check_probability(p1, "p1")
    if p1 <= p0:
        raise ValidationError(f"p1 must be greater than p0 (got p0={p0}, p1={p1})", field="p1")
    return p0, p1, check_probability(alpha, "alpha"), check_probability(power, "power")


def ahern_single_stage(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, *,
                       n_max: int = 2000) -> SingleStageDesign:
    """Smallest exact single-stage design (A'Hern 2001); ``alpha`` one-sided."""
    p0, p1, alpha, power = _check(p0, p1, alpha, power)
    n_max = check_count(n_max, "n_max", minimum=1)
    step = 200
    for start in range(1, n_max + 1, step):
        ns = np.arange(start, min(start + step, n_max + 1))
        ks = np.arange(0, int(ns[-1]) + 2)
        # tail0[n, r] = P(X >= r | n, p0)
        tail0 = stats.binom.sf(ks[None, :] - 1, ns[:, None], p0)
        ok = (tail0 <= alpha + _TOL) & (ks[None, :] <= ns[:, None] + 1)
        r = np.argmax(ok, axis=1)
        pw = stats.binom.sf(r - 1, ns, p1)
        hit = np.flatnonzero((r <= ns) & (pw >= power - _TOL))
        if hit.size:
            i = int(hit[0])
            n, rr = int(ns[i]), int(r[i])
            return SingleStageDesign("ahern", p0, p1, alpha, power, n, rr,
                                     float(tail0[i, rr]), float(pw[i]))
    raise ValidationError(
        f"no single-stage design with n <= n_max={n_max} for p0={p0}, p1={p1}", field="n_max"
    )


def fleming_single_stage(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8
                         ) -> SingleStageDesign:
    """Fleming's (1982) one-stage design by the normal approximation; ``alpha`` one-sided."""
    p0, p1, alpha, power = _check(p0, p1, alpha, power)
    za, zb = stats.norm.isf(alpha), stats.norm.ppf(power)
    n_exact = ((za * math.sqrt(p0 * (1 - p0)) + zb * math.sqrt(p1 * (1 - p1))) / (p1 - p0)) ** 2
    n = math.ceil(n_exact - 1e-9)
    r = int(np.floor(n * p0 + za * math.sqrt(n * p0 * (1 - p0)) + 0.5)) + 1
    return SingleStageDesign(
        "fleming", p0, p1, alpha, power, n, r,
        float(stats.binom.sf(r - 1, n, p0)), float(stats.binom.sf(r - 1, n, p1)),
    )
