"""Nelson-Aalen cumulative hazard with both tie conventions (R ``survfit`` ``ctype`` 1 and 2).

Algorithm (Nelson 1972, Aalen 1978; Fleming & Harrington 1991 for ties; R survival 3.5
``survfitkm.c``):
  1. risk sets at every distinct time as for Kaplan-Meier (timefix, censored at t at risk);
  2. ``ctype=1``: H increment d/n, variance increment d/n^2;
     ``ctype=2`` (Fleming-Harrington, lifelines' default): the d tied events leave one at a
     time, increment sum_{k=0}^{d-1} 1/(n - k), variance sum 1/(n - k)^2 (with case weights
     each event carries w_d/d: sum (w_d/d)/(n - k w_d/d));
  3. survival exp(-H) (R ``stype=2``) and a pointwise band for H on the log scale
     (H exp(-/+ z se/H)) or plain (H -/+ z se, floored at 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.confidence import check_conf_level
from npctrial.survival.distributions import norm_ppf
from npctrial.survival.grouping import CurveSet, as_survival_data, build_curve_codes
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.survival.plotting import StepCurve
from npctrial.survival.risk_sets import apply_timefix, risk_table

__all__ = ["NelsonAalenCurve", "NelsonAalenResult", "nelson_aalen"]

_LOOP_MAX_TIES = 64


@dataclass(frozen=True)
class NelsonAalenCurve(FrozenResult):
    label: str
    n: int
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    cumhaz: np.ndarray
    std_chaz: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def surv(self) -> np.ndarray:
        """exp(-H): the Breslow / Fleming-Harrington survival estimate."""
        return np.exp(-self.cumhaz)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "curve": self.label,
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "cumhaz": self.cumhaz,
                "std_chaz": self.std_chaz,
                "lower": self.lower,
                "upper": self.upper,
                "surv": self.surv,
            }
        )


@dataclass(frozen=True)
class NelsonAalenResult(CurveSet[NelsonAalenCurve], FrozenResult):
    """Nelson-Aalen cumulative hazards (one curve per group/stratum combination)."""

    curves: tuple[NelsonAalenCurve, ...]
    ctype: int
    conf_type: str
    conf_level: float
    n_dropped: int = 0

    def at(self, times: Any) -> pd.DataFrame:
        """H(t), its SE and band at the given times (step function, 0 before the first time)."""
        t = np.sort(np.atleast_1d(np.asarray(times, dtype=np.float64)))
        frames = []
        for c in self.curves:
            i = np.searchsorted(c.time, t, side="right")

            def pick(x: np.ndarray, i: np.ndarray = i) -> np.ndarray:
                return np.concatenate([[0.0], x])[i]

            frames.append(
                pd.DataFrame(
                    {
                        "curve": c.label,
                        "time": t,
                        "cumhaz": pick(c.cumhaz),
                        "std_chaz": pick(c.std_chaz),
                        "lower": pick(c.lower),
                        "upper": pick(c.upper),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([c.to_frame() for c in self.curves], ignore_index=True)

    def step_curves(self, kind: str = "cumhaz") -> list[StepCurve]:
        """Plot-ready cumulative-hazard curves (``kind`` is ignored: always the hazard)."""
        return [StepCurve(c.label, c.time, c.cumhaz, c.lower, c.upper, c.time[c.n_censor > 0], c.time, c.n_risk, 0.0)
                for c in self.curves]

    @staticmethod
    def plot_ylabel(kind: str) -> str:
        """The y-axis label :func:`plot_survival` uses."""
        return "Cumulative hazard"

    def summary(self) -> str:
        lines = [f"Nelson-Aalen cumulative hazard (ctype={self.ctype}, {self.conf_type} band)"]
        lines.append(f"{'':<20}{'n':>8}{'events':>8}{'H(max t)':>12}{'se':>10}")
        for c in self.curves:
            lines.append(
                f"{c.label:<20}{c.n:>8d}{c.n_event.sum():>8.0f}{c.cumhaz[-1]:>12.4g}{c.std_chaz[-1]:>10.4g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def hazard_increments(
    n_risk: np.ndarray, n_event: np.ndarray, ctype: int, n_event_count: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Step 2: (hazard increment, variance increment) per time.

    ``n_event_count`` is the unweighted number of tied events (defaults to ``n_event``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if ctype == 1:
            inc = np.where(n_event > 0, n_event / n_risk, 0.0)
            vinc = np.where(n_event > 0, n_event / n_risk**2, 0.0)
            return inc, vinc
        d = n_event if n_event_count is None else n_event_count
        d = np.rint(d).astype(np.int64)
        has = d > 0
        a = np.where(has, n_event / np.maximum(d, 1), 1.0)  # weight per tied event
        m = np.where(has, n_risk / a, 1.0)  # n in units of one event's weight
        inc = np.zeros(n_risk.shape[0])
        vinc = np.zeros(n_risk.shape[0])
        if not has.any():
            return inc, vinc
        if int(d.max()) <= _LOOP_MAX_TIES:
            for k in range(int(d.max())):
                sel = d > k
                term = 1.0 / (m[sel] - k)
                inc[sel] += term
                vinc[sel] += term**2
        else:
            # heavy ties only: scipy's import cost stays off the rest
            from scipy.special import polygamma, psi

            one = d == 1
            inc[one] = 1.0 / m[one]
            vinc[one] = inc[one] ** 2
            many = d > 1
            inc[many] = psi(m[many] + 1) - psi(m[many] - d[many] + 1)
            vinc[many] = polygamma(1, m[many] - d[many] + 1) - polygamma(1, m[many] + 1)
        return inc, vinc


@without_huge_page_hint
def nelson_aalen(
    time: Any,
    event: Any = None,
    *,
    group: Any = None,
    strata: Any = None,
    weights: Any = None,
    entry: Any = None,
    ctype: Literal[1, 2] = 1,
    conf_type: Literal["log", "plain"] = "log",
    conf_level: float = 0.95,
    status_coding: str = "standard",
    na_action: str = "raise",
    timefix: bool = True,
) -> NelsonAalenResult:
    """Nelson-Aalen cumulative hazard per group (R ``survfit(..., ctype=1|2)`` ``cumhaz``/``std.chaz``)."""
    if ctype not in (1, 2):
        raise ValidationError(f"ctype must be 1 or 2, got {ctype!r}", field="ctype")
    if conf_type not in ("log", "plain"):
        raise ValidationError(f"conf_type must be 'log' or 'plain', got {conf_type!r}", field="conf_type")
    check_conf_level(conf_level)
    data = as_survival_data(
        time,
        event,
        group=group,
        strata=strata,
        weights=weights,
        entry=entry,
        status_coding=status_coding,
        na_action=na_action,
    )
    codes, labels = build_curve_codes(data)
    t, en = data.time, data.entry
    if timefix:
        t, en = apply_timefix(t, en)
    status = data.status
    z = float(norm_ppf(1 - (1 - float(conf_level)) / 2))
    curves = []
    for k, label in enumerate(labels):
        idx = np.flatnonzero(codes == k) if len(labels) > 1 else np.arange(data.n)
        w = None if data.weights is None else data.weights[idx]
        rt = risk_table(t[idx], status[idx], entry=None if en is None else en[idx], weights=w)
        count = None
        if w is not None and ctype == 2:
            count = risk_table(t[idx], status[idx], grid=rt.time).n_event
        inc, vinc = hazard_increments(rt.n_risk, rt.n_event, ctype, count)
        h = np.cumsum(inc)
        se = np.sqrt(np.cumsum(vinc))
        with np.errstate(divide="ignore", invalid="ignore"):
            if conf_type == "log":
                f = np.exp(z * se / h)
                lower = np.where(h > 0, h / f, 0.0)
                upper = np.where(h > 0, h * f, 0.0)
            else:
                lower = np.maximum(h - z * se, 0.0)
                upper = h + z * se
        curves.append(
            NelsonAalenCurve(
                label=label,
                n=int(idx.shape[0]),
                time=rt.time,
                n_risk=rt.n_risk,
                n_event=rt.n_event,
                n_censor=rt.n_censor,
                cumhaz=h,
                std_chaz=se,
                lower=lower,
                upper=upper,
            )
        )
    return NelsonAalenResult(
        curves=tuple(curves),
        ctype=int(ctype),
        conf_type=conf_type,
        conf_level=float(conf_level),
        n_dropped=data.n_dropped,
    )
