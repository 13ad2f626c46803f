"""Kaplan-Meier estimator with Greenwood variance, as R ``survfit(Surv(time, event) ~ group)``.

Algorithm (per curve; R survival 3.5 ``survfitKM`` / ``survfitkm.c``, Kaplan & Meier 1958,
Greenwood 1926):
  1. merge times equal within R's ``timefix`` tolerance (pooled over all curves);
  2. at every distinct time t_j (events and censorings) count n_j at risk (censored at t_j
     are at risk at t_j; with delayed entry, entry < t_j <= time), d_j events, c_j censored;
  3. S(t) = prod_{t_j <= t} (1 - d_j/n_j);
  4. std_err = sqrt(sum d_j / (n_j (n_j - d_j))) (Greenwood; the SE of -log S, R's
     ``std.err``; Inf once n_j = d_j), std_err_surv = S * std_err (NaN where S = 0);
  5. Nelson-Aalen cumhaz = sum d_j/n_j, std_chaz = sqrt(sum d_j/n_j^2) (R stores both);
  6. pointwise bands by :func:`~npctrial.survival.confidence.confidence_band`.
With case weights, n_j and d_j are weighted sums (R's non-robust variance; R switches to the
infinitesimal-jackknife variance for non-integer weights, which is not reproduced here).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.confidence import check_conf, confidence_band
from npctrial.survival.grouping import CurveSet, as_survival_data, build_curve_codes
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.survival.plotting import StepCurve, plot_survival
from npctrial.survival.quantiles import median_table_rule, quantile_rule
from npctrial.survival.risk_sets import (
    RiskTable,
    distinct_sorted,
    group_masks,
    integer_time_table,
    risk_table,
    take_rows,
    timefix_cuts,
)
from npctrial.survival.sorted_runs import find_runs, sort_with_payload, timefix_keep, timefix_map

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["KaplanMeierCurve", "KaplanMeierResult", "kaplan_meier"]


@dataclass(frozen=True)
class KaplanMeierCurve(FrozenResult):
    """One Kaplan-Meier curve: R ``survfit`` columns at every distinct time."""

    label: str
    n: int
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    std_err_surv: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cumhaz: np.ndarray
    std_chaz: np.ndarray
    n_enter: np.ndarray | None = None

    @property
    def events(self) -> float:
        return float(self.n_event.sum())

    def median(self) -> tuple[float, float, float]:
        """(median, lower, upper) by R's summary-table rule (``survmean``/``minmin``)."""
        return (
            median_table_rule(self.surv, self.time),
            median_table_rule(self.lower, self.time),
            median_table_rule(self.upper, self.time),
        )

    def quantile(self, probs: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(quantile, lower, upper) arrays by R's ``quantile.survfit`` rule."""
        p = np.asarray(probs, dtype=np.float64)
        return (
            quantile_rule(self.time, self.surv, p),
            quantile_rule(self.time, self.lower, p),
            quantile_rule(self.time, self.upper, p),
        )

    def rmean(self, tau: float) -> tuple[float, float]:
        """Restricted mean survival up to ``tau`` and its SE (R ``survmean``).

        Steps: 1. rectangles under the step curve from 0 to tau; 2. variance
        sum_j h_j A_j^2 with h_j = d_j/(n_j(n_j - d_j)) (0 when n_j = d_j) and A_j the area
        between t_j and tau (Miller 1981, pp. 195-196).
        """
        n = self.n_risk
        d = self.n_event
        with np.errstate(divide="ignore", invalid="ignore"):
            hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
        keep = np.flatnonzero(self.time <= tau)
        if keep.shape[0] == 0:
            ttime = np.array([tau])
            tsurv = np.array([1.0])
            hh = np.array([0.0])
        else:
            ttime = np.concatenate([self.time[keep], [tau]])
            tsurv = np.concatenate([self.surv[keep], [self.surv[keep[-1]]]])
            hh = np.concatenate([hh[keep], [0.0]])
        m = ttime.shape[0]
        delta = np.diff(np.concatenate([[0.0], ttime]))
        rect = delta * np.concatenate([[1.0], tsurv[: m - 1]])
        after = np.cumsum(rect[1:][::-1])
        var = float(np.sum(after**2 * hh[::-1][1:]))
        return float(rect.sum()), float(np.sqrt(var))

    def at(self, times: np.ndarray, *, extend: bool = True) -> pd.DataFrame:
        """R ``summary(fit, times=, extend=)`` for this curve.

        n_risk is the number at risk at the first observed time >= t (0 past the end);
        n_event/n_censor count the interval since the previous requested time; surv, the SE
        of S (``std_err``) and the band are those of the last observed time <= t.
        """
        t = np.asarray(times, dtype=np.float64)
        t = t[t >= 0]
        if not extend:
            t = t[t <= self.time[-1]]
        i1 = np.searchsorted(self.time, t, side="right")  # number of times <= t
        i2 = np.searchsorted(self.time, t, side="left")  # first index with time >= t

        def pick(x: np.ndarray, before: float) -> np.ndarray:
            return np.concatenate([[before], x])[i1]

        cum_e = np.concatenate([[0.0], np.cumsum(self.n_event)])[i1]
        cum_c = np.concatenate([[0.0], np.cumsum(self.n_censor)])[i1]
        return pd.DataFrame(
            {
                "curve": self.label,
                "time": t,
                "n_risk": np.concatenate([self.n_risk, [0.0]])[i2],
                "n_event": np.diff(np.concatenate([[0.0], cum_e])),
                "n_censor": np.diff(np.concatenate([[0.0], cum_c])),
                "surv": pick(self.surv, 1.0),
                "std_err": pick(self.std_err_surv, 0.0),
                "lower": pick(self.lower, 1.0),
                "upper": pick(self.upper, 1.0),
            }
        )

    def to_frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {
            "curve": self.label,
            "time": self.time,
            "n_risk": self.n_risk,
            "n_event": self.n_event,
            "n_censor": self.n_censor,
            "surv": self.surv,
            "std_err": self.std_err,
            "std_err_surv": self.std_err_surv,
            "lower": self.lower,
            "upper": self.upper,
            "cumhaz": self.cumhaz,
            "std_chaz": self.std_chaz,
        }
        if self.n_enter is not None:
            data["n_enter"] = self.n_enter
        return pd.DataFrame(data)


@dataclass(frozen=True)
class KaplanMeierResult(CurveSet[KaplanMeierCurve], FrozenResult):
    """Kaplan-Meier curves (one per group/stratum combination, R's strata order)."""

    curves: tuple[KaplanMeierCurve, ...]
    conf_type: str
    conf_level: float
    n_dropped: int = 0

    # ---- summaries -----------------------------------------------------------------------
    def _common_tau(self, tau: float | str) -> list[float]:
        if isinstance(tau, str):
            if tau == "common":
                return [max(float(c.time[-1]) for c in self.curves)] * len(self.curves)
            if tau == "individual":
                return [float(c.time[-1]) for c in self.curves]
            raise ValidationError(
                f"tau must be a number, 'common' or 'individual', got {tau!r}", field="tau"
            )
        tau_f = float(tau)
        if not np.isfinite(tau_f) or tau_f < 0:
            raise ValidationError(f"tau must be a finite number >= 0, got {tau!r}", field="tau")
        return [tau_f] * len(self.curves)

    def median(self) -> pd.DataFrame:
        """Median survival and its CI per curve (R ``summary(fit)$table`` rule)."""
        rows = [c.median() for c in self.curves]
        return pd.DataFrame(rows, columns=["median", "lower", "upper"], index=list(self.labels))

    def quantile(self, probs: float | Sequence[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Quantiles of the event-time distribution with CI (R ``quantile.survfit``).

        Long frame: curve, prob, quantile, lower, upper.
        """
        p = np.atleast_1d(np.asarray(probs, dtype=np.float64))
        if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
            raise ValidationError(f"probs must lie in [0, 1], got {p.tolist()}", field="probs")
        frames = []
        for c in self.curves:
            q, lo, up = c.quantile(p)
            frames.append(
                pd.DataFrame({"curve": c.label, "prob": p, "quantile": q, "lower": lo, "upper": up})
            )
        return pd.concat(frames, ignore_index=True)

    def rmean(self, tau: float | str = "common") -> pd.DataFrame:
        """Restricted mean survival per curve with SE; ``tau="common"`` = largest time of all
        curves (R ``print(fit, rmean="common")``), ``"individual"`` = each curve's last time."""
        taus = self._common_tau(tau)
        rows = [(*c.rmean(t), t) for c, t in zip(self.curves, taus, strict=True)]
        return pd.DataFrame(rows, columns=["rmean", "se_rmean", "tau"], index=list(self.labels))

    def summary_table(self, tau: float | str = "common") -> pd.DataFrame:
        """R ``summary(fit, rmean=...)$table``: records, n_max, n_start, events, rmean,
        se_rmean, median, lower, upper."""
        rm = self.rmean(tau)
        med = self.median()
        rows = []
        for c in self.curves:
            rows.append(
                {
                    "records": c.n,
                    "n_max": float(np.max(c.n_risk)),
                    "n_start": float(c.n_risk[0]),
                    "events": c.events,
                    "rmean": rm.loc[c.label, "rmean"],
                    "se_rmean": rm.loc[c.label, "se_rmean"],
                    "median": med.loc[c.label, "median"],
                    "lower": med.loc[c.label, "lower"],
                    "upper": med.loc[c.label, "upper"],
                }
            )
        return pd.DataFrame(rows, index=list(self.labels))

    def at(self, times: float | Sequence[float], *, extend: bool = True) -> pd.DataFrame:
        """Survival at fixed times per curve (R ``summary(fit, times=, extend=)``)."""
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if np.any(~np.isfinite(t)):
            raise ValidationError("times must be finite", field="times")
        t = np.sort(t)
        return pd.concat([c.at(t, extend=extend) for c in self.curves], ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        """All curves stacked (one row per curve and distinct time)."""
        return pd.concat([c.to_frame() for c in self.curves], ignore_index=True)

    def summary(self) -> str:
        """Readable table like R's ``print(survfit)``."""
        tab = self.summary_table()
        level = f"{self.conf_level:g}"
        lines = [
            f"Kaplan-Meier estimate ({self.conf_type} confidence bands, level {level})",
            f"{'':<20}{'n':>8}{'events':>8}{'rmean*':>10}{'se':>8}{'median':>9}"
            f"{level + 'LCL':>10}{level + 'UCL':>10}",
        ]
        for label, r in tab.iterrows():
            lines.append(
                f"{str(label):<20}{r['records']:>8.0f}{r['events']:>8.0f}{r['rmean']:>10.4g}"
                f"{r['se_rmean']:>8.4g}{_fmt(r['median']):>9}{_fmt(r['lower']):>10}"
                f"{_fmt(r['upper']):>10}"
            )
        tau = max(float(c.time[-1]) for c in self.curves)
        lines.append(f"    * restricted mean with upper limit = {tau:g}")
        if self.n_dropped:
            lines.append(f"  ({self.n_dropped} observations deleted due to missingness)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def step_curves(self, kind: str = "survival") -> list[StepCurve]:
        """Plot-ready curves: "survival" (S with its band), "failure" (1 - S) or "cumhaz"."""
        out = []
        for c in self.curves:
            cens = c.time[c.n_censor > 0]
            if kind == "survival":
                v, lo, up, start = c.surv, c.lower, c.upper, 1.0
            elif kind == "failure":
                v, lo, up, start = 1 - c.surv, 1 - c.upper, 1 - c.lower, 0.0
            else:
                v, lo, up, start = c.cumhaz, None, None, 0.0
            out.append(StepCurve(c.label, c.time, v, lo, up, cens, c.time, c.n_risk, start))
        return out

    @staticmethod
    def plot_ylabel(kind: str) -> str:
        """The y-axis label :func:`plot_survival` uses for ``kind``."""
        return {"survival": "Survival probability", "failure": "Cumulative event probability"}.get(
            kind, "Cumulative hazard")

    def plot(self, ax: Axes | None = None, *, at_risk_table: bool = True, **kwargs: Any) -> Axes:
        """Step plot with censor marks and a numbers-at-risk table (see :func:`plot_survival`)."""
        return plot_survival(self, ax=ax, at_risk_table=at_risk_table, **kwargs)


def _fmt(x: float) -> str:
    return "NA" if not np.isfinite(x) else f"{x:.4g}"


def km_curve_from_counts(
    label: str,
    n: int,
    time: np.ndarray,
    n_risk: np.ndarray,
    n_event: np.ndarray,
    n_censor: np.ndarray,
    *,
    conf_type: str,
    conf_level: float,
    n_enter: np.ndarray | None = None,
) -> KaplanMeierCurve:
    """Steps 3-6 of the module algorithm from the counts of one curve."""
    # terms are 0 where n_event = 0. Computed in place, each array allocated once (curves can
    # have millions of points): with every n_risk > 0 (always without weights) d/n etc. are
    # already 0 there; a zero-weight risk set (0/0) needs the mask.
    no_event = None if n_risk.shape[0] == 0 or n_risk.min() > 0 else n_event == 0

    def event_ratio(den: np.ndarray) -> np.ndarray:
        np.divide(n_event, den, out=den)
        if no_event is not None:
            den[no_event] = 0.0
        return den

    with np.errstate(divide="ignore", invalid="ignore"):
        frac = event_ratio(np.array(n_risk, dtype=np.float64))
        surv = np.subtract(1.0, frac)
        np.cumprod(surv, out=surv)
        cumhaz = np.cumsum(frac, out=frac)
        # Greenwood term d / (n (n - d)); Inf once n = d (division by 0)
        den = np.subtract(n_risk, n_event, dtype=np.float64)
        np.multiply(n_risk, den, out=den)
        std_err = event_ratio(den)
        np.cumsum(std_err, out=std_err)
        np.sqrt(std_err, out=std_err)
        std_err_surv = surv * std_err
        std_chaz = event_ratio(np.multiply(n_risk, n_risk, dtype=np.float64))
        np.cumsum(std_chaz, out=std_chaz)
        np.sqrt(std_chaz, out=std_chaz)
    lower, upper = confidence_band(surv, std_err, conf_type, conf_level)
    return KaplanMeierCurve(
        label=label,
        n=n,
        time=time,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        surv=surv,
        std_err=std_err,
        std_err_surv=std_err_surv,
        lower=lower,
        upper=upper,
        cumhaz=cumhaz,
        std_chaz=std_chaz,
        n_enter=n_enter,
    )


@without_huge_page_hint
def kaplan_meier(
    time: Any,
    event: Any = None,
    *,
    group: Any = None,
    strata: Any = None,
    weights: Any = None,
    entry: Any = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    status_coding: str = "standard",
    na_action: str = "raise",
    timefix: bool = True,
) -> KaplanMeierResult:
    """Kaplan-Meier curves with Greenwood SE and pointwise bands, as R ``survfit``.

    ``time`` may also be a validated :class:`SurvivalData` (then ``event`` etc. are taken from
    it). ``group`` and ``strata`` each give one curve per level (per combination when both are
    given), labelled R-style (``"sex=1"``; ``"group=a, strata=b"``). Arrays, lists and pandas
    Series are accepted; a Series name becomes the label prefix.
    """
    check_conf(conf_type, conf_level)
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
    status = data.status
    w = data.weights
    if w is not None and np.any(w != np.floor(w)):
        warnings.warn(
            "non-integer weights: std_err is the weighted Greenwood SE; R survfit reports robust "
            "(infinitesimal-jackknife) standard errors in this case",
            StatisticalWarning,
            stacklevel=2,
        )
    en_all = data.entry
    masks = group_masks(codes, len(labels))
    t_k: list[np.ndarray] = [take_rows(data.time, m) for m in masks]  # type: ignore[misc]
    s_k: list[np.ndarray] = [take_rows(status, m) for m in masks]  # type: ignore[misc]
    if w is None and en_all is None:
        tables = _unweighted_tables(t_k, s_k, timefix=timefix)
    else:
        tables = _general_tables(t_k, s_k, masks, en_all, w, timefix=timefix)
    curves = [
        km_curve_from_counts(
            labels[k],
            int(t_k[k].shape[0]),
            rt.time,
            rt.n_risk,
            rt.n_event,
            rt.n_censor,
            conf_type=conf_type,
            conf_level=conf_level,
            n_enter=rt.n_enter,
        )
        for k, rt in enumerate(tables)
    ]
    return KaplanMeierResult(
        curves=tuple(curves), conf_type=conf_type, conf_level=float(conf_level), n_dropped=data.n_dropped
    )


def _unweighted_tables(t_k: list[np.ndarray], s_k: list[np.ndarray], *, timefix: bool) -> list[RiskTable]:
    """Steps 1-2 for unweighted right-censored curves: one packed sort per curve
    (:mod:`~npctrial.survival.sorted_runs`); R's timefix on the pooled distinct times."""
    by_table = _integer_tables(t_k, s_k, timefix=timefix)
    if by_table is not None:
        return by_table
    sorted_k = [sort_with_payload(t, s) for t, s in zip(t_k, s_k, strict=True)]
    fix = None
    if timefix and len(sorted_k) > 1:
        fix = timefix_map(np.unique(np.concatenate([distinct_sorted(v) for v, _ in sorted_k])))
    tables = []
    for v, ev in sorted_k:
        runs = find_runs(v, timefix=timefix and len(sorted_k) == 1, fix=fix)
        assert ev is not None
        n_event = runs.total(ev)
        n_censor = runs.size
        n_censor -= n_event
        tables.append(RiskTable(runs.time, runs.at_risk, n_event, n_censor))
    return tables


def _integer_tables(t_k: list[np.ndarray], s_k: list[np.ndarray], *, timefix: bool) -> list[RiskTable] | None:
    """Steps 1-2 without a sort when every curve's times are whole numbers over a short range
    (:func:`~npctrial.survival.risk_sets.integer_time_table`) and R's timefix, applied to the
    pooled distinct times, merges none of them; None otherwise."""
    tables = []
    for t, s in zip(t_k, s_k, strict=True):
        table = integer_time_table(t, np.asarray(s, dtype=bool), None, 1, timefix=False) if len(t) else None
        if table is None:
            return None
        tables.append(table)
    pooled = tables[0][0] if len(tables) == 1 else np.unique(np.concatenate([tb[0] for tb in tables]))
    if timefix and timefix_keep(pooled) is not None:
        return None
    out = []
    for grid, rows, events in tables:
        r, e = rows[0].astype(np.float64), events[0].astype(np.float64)
        out.append(RiskTable(grid, np.cumsum(r[::-1])[::-1], e, r - e))
    return out


def _general_tables(
    t_k: list[np.ndarray],
    s_k: list[np.ndarray],
    masks: list[np.ndarray | None],
    en_all: np.ndarray | None,
    w: np.ndarray | None,
    *,
    timefix: bool,
) -> list[RiskTable]:
    """Steps 1-2 with case weights and/or delayed entry (:func:`risk_table`)."""
    e_k = [take_rows(en_all, m) for m in masks]
    w_k = [take_rows(w, m) for m in masks]
    # sort each curve's times once; R's timefix looks at the pooled distinct times and its
    # (monotone) merge map is applied to sorted arrays only
    sorted_k = [np.sort(t) if w is None else None for t in t_k]
    cuts = None
    if timefix:
        uniq = [distinct_sorted(x) if x is not None else np.unique(t) for x, t in zip(sorted_k, t_k, strict=True)]
        if en_all is not None:
            uniq.append(np.unique(en_all))
        cuts = timefix_cuts(np.unique(np.concatenate(uniq)))
    return [
        risk_table(t_k[k], s_k[k], entry=e_k[k], weights=w_k[k], sorted_time=sorted_k[k], cuts=cuts)
        for k in range(len(masks))
    ]
