"""Survival analyses of a cohort: KM with log-rank and landmark rates, median follow-up, and
cumulative incidence with Gray's test (the Cox table is in :mod:`npctrial.cohort.cox_table`).

Computations come from :mod:`npctrial.survival`; this module selects the rows, runs the
analyses named in the config and lays out the results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.cohort.tables import format_p_value, p_statement
from npctrial.cohort.units import format_time
from npctrial.cohort.values import as_level, check_columns
from npctrial.errors import ValidationError
from npctrial.survival import (
    KaplanMeierResult,
    StepCurve,
    cumulative_incidence,
    kaplan_meier,
    logrank_test,
    pairwise_logrank,
)


def select_rows(frame: pd.DataFrame, subset: Mapping[str, Sequence[str]] | None) -> pd.DataFrame:
    """Rows whose values (as text) are in ``subset[column]`` for every column given."""
    if not subset:
        return frame
    check_columns(frame, list(subset), "subset")
    keep = np.ones(len(frame), dtype=bool)
    for col, allowed in subset.items():
        vals = frame[col].map(as_level)
        keep &= vals.isin([str(a) for a in allowed]).to_numpy()
    return frame.loc[keep]


def _complete(frame: pd.DataFrame, cols: Sequence[str | None], analysis: str) -> pd.DataFrame:
    """The rows complete in ``cols``; a ValidationError names a column the frame lacks."""
    wanted = [c for c in cols if c is not None]
    check_columns(frame, wanted, analysis)
    return frame.dropna(subset=wanted)


@dataclass(frozen=True)
class SurvivalAnalysis:
    """KM curves of one endpoint by group, the log-rank test and landmark rates."""

    name: str
    title: str
    km: KaplanMeierResult
    groups: tuple[str, ...]
    logrank_chisq: float | None
    logrank_df: int | None
    logrank_p: float | None
    pairwise: pd.DataFrame | None
    rates: pd.DataFrame
    failure: bool
    n: int
    n_excluded: int
    medians: pd.DataFrame
    unit: str | None = None
    extra_notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.rates.copy()

    @property
    def notes(self) -> tuple[str, ...]:
        """The footnotes of the rates table: the log-rank test and rows excluded as incomplete."""
        out = []
        if self.logrank_p is not None:
            out.append(f"Log-rank test: chi-square = {self.logrank_chisq:.3f}, df = {self.logrank_df}, "
                       f"{p_statement(self.logrank_p)}.")
        if self.n_excluded:
            out.append(f"{self.n_excluded} rows with missing values excluded.")
        return tuple(out) + self.extra_notes

    def summary(self) -> str:
        return "\n".join([self.title, self.rates.to_string(index=False), *self.notes])


def _group_values(frame: pd.DataFrame, group: str | None, order: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    if group is None:
        return np.array(["All"] * len(frame), dtype=object), ("All",)
    vals = frame[group].map(as_level)
    present = sorted(set(vals))
    levels = [v for v in (order or []) if v in present] + [v for v in present if v not in (order or [])]
    return vals.to_numpy(dtype=object), tuple(levels)


def survival_analysis(
    frame: pd.DataFrame,
    *,
    name: str,
    title: str,
    time: str,
    event: str,
    group: str | None = None,
    group_order: Sequence[str] | None = None,
    landmarks: Sequence[float] = (12, 24, 36, 60),
    pairwise: bool = False,
    failure: bool = False,
    unit: str | None = "months",
    entry: str | None = None,
) -> SurvivalAnalysis:
    """Kaplan-Meier by group, log-rank test (pairwise with Holm adjustment on request) and
    survival (or, with ``failure``, cumulative event) rates with 95 % log CIs at ``landmarks``.
    ``unit`` is the unit of ``time`` (months as in a study config by default; None if unknown);
    ``entry`` names the start of counting-process (entry, time] rows.

    1. Keep the rows complete in time, event and group; order the groups as ``group_order``.
    2. Kaplan-Meier per group with Greenwood variance and log-transformed CIs (Kaplan and Meier
       1958; R ``survfit(conf.type = "log")``).
    3. Log-rank test across groups (Mantel 1966; R ``survdiff``); with ``pairwise`` and three or
       more groups, every pair with Holm's adjustment (Holm 1979).
    4. Rates at each landmark as R ``summary(fit, times =)``: the estimate in force at that time,
       NA past the last follow-up; with ``failure`` 1 - S with the bounds swapped; the number at
       risk at that time and the events up to it.
    5. Median per group with its 95 % CI, as R's ``print(survfit)`` (the first time the curve,
       or its lower/upper band, is at or below 0.5; "NR" when it never is).
    """
    data = _complete(frame, [time, event, group, entry], f"survival analysis {name!r}")
    n_excl = len(frame) - len(data)
    g, levels = _group_values(data, group, group_order)
    # integer codes in display order so curves come out in that order
    code = np.array([levels.index(v) for v in g])
    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=float)
    if len(t) == 0:
        raise ValidationError(f"survival analysis {name!r} has no complete rows", field=name)
    start = data[entry].to_numpy(dtype=float) if entry else None
    km = kaplan_meier(t, e, entry=start, group=pd.Series(np.array(levels, dtype=object)[code], name="group")
                      if group else None)
    chisq = df = p = None
    pw = None
    extra: tuple[str, ...] = ()
    if group and len(levels) >= 2 and entry:
        extra = ("Counting-process (entry, time] rows: curves by the group in force on each interval (Simon and "
                 "Makuch 1984); no log-rank test, see the Cox model for the comparison.",)
    elif group and len(levels) >= 2:
        lr = logrank_test(t, e, pd.Series(code, name="group"))
        chisq, df, p = float(lr.chisq), int(lr.df), float(lr.p)
        if pairwise and len(levels) >= 3:
            res = pairwise_logrank(t, e, pd.Series(np.array(levels, dtype=object)[code], name="group"))
            pw = _pairwise_table(res.to_frame())
    rates, medians = _rates_and_medians(km, levels, landmarks, failure, unit)
    return SurvivalAnalysis(name, title, km, levels, chisq, df, p, pw, rates, failure, len(data), n_excl, medians, unit,
                            extra)


def _ci_text(lo: float, hi: float, scale: float = 100.0, digits: int = 1) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "NA"
    return f"{scale * lo:.{digits}f}-{scale * hi:.{digits}f}"


def _median_text(value: float, digits: int = 1) -> str:
    """A median or a bound: 'NR' (not reached) when the curve never falls to it."""
    return f"{value:.{digits}f}" if np.isfinite(value) else "NR"


def _rates_and_medians(km: KaplanMeierResult, levels: Sequence[str], landmarks: Sequence[float], failure: bool,
                       unit: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rates at each landmark with the numbers at risk and the events so far (R ``summary(fit,
    times =)``), and each group's median with its 95 % CI (R's ``print(fit)``)."""
    rows, med_rows = [], []
    rate_col = "Cumulative rate (%)" if failure else "Survival (%)"
    suffix = f" ({unit})" if unit else ""
    for label, cname in zip(levels, curve_labels(km, levels), strict=True):
        curve = km.curve(cname)
        at = curve.at(np.asarray(landmarks, dtype=float))
        events_so_far = np.cumsum(at["n_event"].to_numpy())
        for k, lm in enumerate(landmarks):
            past_end = lm > curve.time[-1]
            s, lo, hi = (math.nan,) * 3 if past_end else (float(at["surv"].iloc[k]), float(at["lower"].iloc[k]),
                                                           float(at["upper"].iloc[k]))
            if failure:
                s, lo, hi = 1 - s, 1 - hi, 1 - lo
            rows.append({"Group": label, "Time": format_time(lm), "At risk": int(at["n_risk"].iloc[k]),
                         "Events so far": int(events_so_far[k]),
                         rate_col: round(100 * s, 1) if np.isfinite(s) else None, "95% CI": _ci_text(lo, hi)})
        med, lo, hi = curve.median()
        med_rows.append({"Group": label, "N": curve.n, "Events": int(curve.events),
                         f"Median{suffix}": _median_text(med),
                         "95% CI": f"{_median_text(lo) if np.isfinite(lo) else 'NA'}-{_median_text(hi)}"})
    return pd.DataFrame(rows), pd.DataFrame(med_rows)


def _pairwise_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The pairwise log-rank frame laid out like the other report tables (levels without the
    ``group=`` prefix, chi-square to 3 decimals, p and Holm-adjusted p as printed)."""
    def level(label: object) -> str:
        return str(label).split("=", 1)[-1]

    return pd.DataFrame({
        "Group 1": raw["group1"].map(level),
        "Group 2": raw["group2"].map(level),
        "Chi-square": raw["chisq"].map(lambda v: f"{v:.3f}"),
        "df": raw["df"].astype(int),
        "p value": raw["p"].map(format_p_value),
        "p value (Holm)": raw["p_adjusted"].map(format_p_value),
    })


def curve_labels(km: KaplanMeierResult, levels: Sequence[str]) -> list[str]:
    """The KM curve label of each level, in ``levels`` order (labels look like ``"group=III"``)."""
    by_level = {lb.split("=", 1)[-1]: lb for lb in km.labels}
    if len(levels) == 1 and len(km.labels) == 1:
        return [km.labels[0]]
    return [by_level[lv] for lv in levels]


def _at(curve: Any, t: float) -> tuple[float, float, float]:
    """S, lower, upper at time t (right-continuous; NaN past the last follow-up)."""
    if t > curve.time[-1]:
        return math.nan, math.nan, math.nan
    i = int(np.searchsorted(curve.time, t, side="right")) - 1
    if i < 0:
        return 1.0, 1.0, 1.0
    return float(curve.surv[i]), float(curve.lower[i]), float(curve.upper[i])


def compute_median_follow_up(frame: pd.DataFrame, time: str, event: str) -> tuple[float, float, float]:
    """Median follow-up by the reverse Kaplan-Meier method (censoring as the event): (median, min, max)."""
    data = _complete(frame, [time, event], "median follow-up")
    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=float)
    rev = kaplan_meier(t, 1.0 - e)
    med = rev.curve(rev.labels[0]).median()[0]
    return float(med), float(t.min()), float(t.max())


@dataclass(frozen=True)
class CompetingRiskAnalysis:
    """Cumulative incidence of the event (cause 1) with a competing event (cause 2), Gray's test."""

    name: str
    title: str
    groups: tuple[str, ...]
    curves: tuple[StepCurve, ...]  # cause-1 incidence per group, with censor times and numbers at risk
    rates: pd.DataFrame
    gray_statistic: float | None
    gray_p: float | None
    competing_label: str = "death"
    n_excluded: int = 0

    def to_frame(self) -> pd.DataFrame:
        return self.rates.copy()

    @property
    def notes(self) -> tuple[str, ...]:
        """The footnotes of the rates table: the estimator (naming the competing event), Gray's
        test and the rows excluded as incomplete."""
        if self.competing_label.strip().lower() == "death":
            out = ["Cumulative incidence: Aalen-Johansen with death as competing risk; "
                   "1 - KM censors deaths and overestimates the incidence."]
        else:
            out = [f"Cumulative incidence: Aalen-Johansen with {self.competing_label} as competing risk; "
                   "1 - KM censors it and overestimates the incidence."]
        if self.gray_p is not None:
            out.append(f"Gray's test: statistic = {self.gray_statistic:.3f}, {p_statement(self.gray_p)}.")
        if self.n_excluded:
            out.append(f"{self.n_excluded} rows with missing values excluded.")
        return tuple(out)

    def summary(self) -> str:
        return "\n".join([self.title, self.rates.to_string(index=False), *self.notes])


def competing_risk_analysis(
    frame: pd.DataFrame, *, name: str, title: str, time: str, event: str, competing: str,
    group: str | None = None, group_order: Sequence[str] | None = None,
    landmarks: Sequence[float] = (12, 24, 36, 60), competing_label: str | None = None,
) -> CompetingRiskAnalysis:
    """Aalen-Johansen cumulative incidence of ``event`` with ``competing`` (e.g. death without
    the event) as competing risk, Gray's test across groups; rates with 95 % CIs (log-log) at
    ``landmarks``, next to 1 - KM which treats the competing event as censoring.

    1. Code each row 1 (event), 2 (competing event without the event) or 0 (censored).
    2. Aalen-Johansen cumulative incidence of cause 1 per group with the ``cmprsk::cuminc``
       variance, and Gray's test across groups (Gray 1988).
    3. 95 % CI at each landmark on the log(-log F) scale: F ** exp(+-z se / (F |log F|))
       (delta method; Choudhury 2002, Stat Med 21:1129-44), NA where F is 0 or 1.
    4. 1 - KM of the event with competing events censored, for comparison.
    """
    data = _complete(frame, [time, event, competing, group], f"competing-risk analysis {name!r}")
    g, levels = _group_values(data, group, group_order)
    code = np.array([levels.index(v) for v in g])
    t = data[time].to_numpy(dtype=float)
    ev = np.where(data[event].to_numpy(dtype=float) == 1, 1, np.where(data[competing].to_numpy(dtype=float) == 1, 2, 0))
    res = cumulative_incidence(t, ev, group=pd.Series(code, name="group"))
    curves = []
    rows = []
    for ci, lv in enumerate(levels):
        cv = res.curve(str(ci) if str(ci) in res.groups else res.groups[ci], 1)
        t_g = np.sort(t[code == ci])
        curves.append(StepCurve(lv, cv.time, cv.est, censor_time=np.unique(t[(code == ci) & (ev == 0)]),
                                risk_time=t_g, n_risk=len(t_g) - np.arange(len(t_g), dtype=float), start_value=0.0))
        est, var = cv.at(list(landmarks))
        km = kaplan_meier(t[code == ci], (ev[code == ci] == 1).astype(float))
        kc = km.curve(km.labels[0])
        for lm, e_, v_ in zip(landmarks, est, var, strict=True):
            if np.isfinite(e_) and 0 < e_ < 1 and np.isfinite(v_):
                se = math.sqrt(v_) / (e_ * abs(math.log(e_)))
                z = 1.959963984540054
                lo, hi = e_ ** math.exp(z * se), e_ ** math.exp(-z * se)
                ci_text = f"{100 * lo:.1f}-{100 * hi:.1f}"
            else:
                ci_text = "NA"
            s = _at(kc, lm)[0]
            rows.append({"Group": lv, "Time": format_time(lm), "Cumulative incidence (%)": round(100 * e_, 1) if np.isfinite(e_) else None,
                         "95% CI": ci_text, "1 - KM (%)": round(100 * (1 - s), 1) if np.isfinite(s) else None})
    stat = p = None
    if res.tests is not None:
        stat, p = float(res.tests.statistic[0]), float(res.tests.p[0])
    return CompetingRiskAnalysis(name, title, levels, tuple(curves), pd.DataFrame(rows), stat, p,
                                 competing_label or competing, len(frame) - len(data))
