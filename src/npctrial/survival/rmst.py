"""Restricted mean survival time (RMST) per group, with the two-group difference and ratio.

Algorithm (Royston & Parmar 2013; Uno et al. 2014, R ``survRM2::rmst2``; R ``survmean``):
  1. Kaplan-Meier curve per group (:func:`~npctrial.survival.kaplan_meier`);
  2. RMST(tau) = integral_0^tau S(t) dt (rectangles under the step curve, the last value carried
     forward to tau);
  3. Var = sum_{t_j <= tau} A_j^2 d_j / (n_j (n_j - d_j)), A_j = integral_{t_j}^tau S(t) dt
     (Greenwood/delta method; terms with n_j = d_j are 0, as R ``survmean`` and ``survRM2``);
  4. CI RMST +/- z SE; for two groups (second minus first level) the difference with SE
     sqrt(V1 + V2) and the ratio with a CI on the log scale, SE(log ratio) =
     sqrt(V1/R1^2 + V2/R2^2).
A :class:`~npctrial.errors.StatisticalWarning` is issued when tau lies beyond a group's last
observed time (the curve is then extrapolated flat, which survRM2 refuses).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.confidence import check_conf_level
from npctrial.survival.distributions import norm_ppf, norm_sf
from npctrial.survival.kaplan_meier import kaplan_meier
from npctrial.survival.memory_pages import without_huge_page_hint

__all__ = ["RMSTResult", "rmst"]


@dataclass(frozen=True)
class RMSTResult(FrozenResult):
    """RMST per group; for two groups also ``difference`` and ``ratio`` (second vs first)."""

    tau: float
    conf_level: float
    groups: tuple[str, ...]
    estimate: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    difference: tuple[float, float, float, float, float] | None = None
    ratio: tuple[float, float, float, float] | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per group, plus 'difference' and 'ratio' rows for two groups."""
        rows = [
            {"term": g, "estimate": e, "std_err": s, "lower": lo, "upper": up, "p": np.nan}
            for g, e, s, lo, up in zip(self.groups, self.estimate, self.std_err, self.lower, self.upper, strict=True)
        ]
        if self.difference is not None:
            e, s, lo, up, p = self.difference
            rows.append({"term": f"difference ({self.groups[1]} - {self.groups[0]})", "estimate": e, "std_err": s, "lower": lo, "upper": up, "p": p})
        if self.ratio is not None:
            e, lo, up, p = self.ratio
            rows.append({"term": f"ratio ({self.groups[1]} / {self.groups[0]})", "estimate": e, "std_err": np.nan, "lower": lo, "upper": up, "p": p})
        return pd.DataFrame(rows).set_index("term")

    def summary(self) -> str:
        lvl = f"{self.conf_level:g}"
        lines = [f"Restricted mean survival time up to tau = {self.tau:g} ({lvl} CI)"]
        tab = self.to_frame()
        lines.append(f"{'':<34}{'estimate':>10}{'se':>9}{'lower':>10}{'upper':>10}{'p':>9}")
        for term, r in tab.iterrows():
            p = "" if np.isnan(r["p"]) else f"{r['p']:.3g}"
            se = "" if np.isnan(r["std_err"]) else f"{r['std_err']:.4g}"
            lines.append(
                f"{str(term):<34}{r['estimate']:>10.4g}{se:>9}{r['lower']:>10.4g}{r['upper']:>10.4g}{p:>9}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@without_huge_page_hint
def rmst(
    time: Any,
    event: Any = None,
    tau: float | None = None,
    *,
    group: Any = None,
    conf_level: float = 0.95,
    status_coding: str = "standard",
    na_action: str = "raise",
) -> RMSTResult:
    """Restricted mean survival time up to ``tau`` per group (and difference/ratio for two)."""
    if tau is None or not np.isfinite(float(tau)) or float(tau) <= 0:
        raise ValidationError(f"tau must be a finite number > 0, got {tau!r}", field="tau")
    check_conf_level(conf_level)
    tau = float(tau)
    km = kaplan_meier(
        time, event, group=group, status_coding=status_coding, na_action=na_action
    )
    z = float(norm_ppf(1 - (1 - float(conf_level)) / 2))
    est: list[float] = []
    se: list[float] = []
    for c in km.curves:
        if tau > c.time[-1]:
            warnings.warn(
                f"tau = {tau:g} is beyond the last observed time {c.time[-1]:g} of {c.label}; "
                "the curve is carried forward flat",
                StatisticalWarning,
                stacklevel=2,
            )
        m, sd_m = c.rmean(tau)
        est.append(m)
        se.append(sd_m)
    e = np.array(est)
    s = np.array(se)
    diff = ratio = None
    if len(km.curves) == 2:
        d = e[1] - e[0]
        sd = float(np.sqrt(s[0] ** 2 + s[1] ** 2))
        pd_ = float(2 * norm_sf(abs(d) / sd)) if sd > 0 else float("nan")
        diff = (float(d), sd, float(d - z * sd), float(d + z * sd), pd_)
        lr = float(np.log(e[1] / e[0]))
        slr = float(np.sqrt(s[0] ** 2 / e[0] ** 2 + s[1] ** 2 / e[1] ** 2))
        pr = float(2 * norm_sf(abs(lr) / slr)) if slr > 0 else float("nan")
        ratio = (float(np.exp(lr)), float(np.exp(lr - z * slr)), float(np.exp(lr + z * slr)), pr)
    return RMSTResult(
        tau=tau,
        conf_level=float(conf_level),
        groups=km.labels,
        estimate=e,
        std_err=s,
        lower=e - z * s,
        upper=e + z * s,
        difference=diff,
        ratio=ratio,
    )
