"""Survival analyses of a cohort: KM with log-rank and landmark rates, cumulative incidence
with Gray's test, and the uni-/multivariate Cox table (the paper's Table 4).

Computations come from :mod:`npctrial.survival`; this module selects the rows, runs the
analyses named in the config and lays out the results.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from npctrial.cohort.values import as_level
from npctrial.errors import SmallSampleWarning, StatisticalWarning, ValidationError
from npctrial.survival import (
    KaplanMeierResult,
    StepCurve,
    cox_ph,
    cox_univariate,
    cumulative_incidence,
    kaplan_meier,
    logrank_test,
    pairwise_logrank,
)


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def select_rows(frame: pd.DataFrame, subset: Mapping[str, Sequence[str]] | None) -> pd.DataFrame:
    """Rows whose values (as text) are in ``subset[column]`` for every column given."""
    if not subset:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for col, allowed in subset.items():
        vals = frame[col].map(as_level)
        keep &= vals.isin([str(a) for a in allowed]).to_numpy()
    return frame.loc[keep]


def _complete(frame: pd.DataFrame, cols: Sequence[str | None]) -> pd.DataFrame:
    return frame.dropna(subset=[c for c in cols if c is not None])


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

    def to_frame(self) -> pd.DataFrame:
        return self.rates.copy()

    def summary(self) -> str:
        lines = [self.title, self.rates.to_string(index=False)]
        if self.logrank_p is not None:
            lines.append(f"Log-rank chi-square = {self.logrank_chisq:.3f}, df = {self.logrank_df}, "
                         f"p = {_fmt_p(self.logrank_p)}")
        return "\n".join(lines)


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
) -> SurvivalAnalysis:
    """Kaplan-Meier by group, log-rank test (pairwise with Holm adjustment on request) and
    survival (or, with ``failure``, cumulative event) rates with 95 % log CIs at ``landmarks``."""
    data = _complete(frame, [time, event, group])
    n_excl = len(frame) - len(data)
    g, levels = _group_values(data, group, group_order)
    # integer codes in display order so curves come out in that order
    code = np.array([levels.index(v) for v in g])
    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=float)
    if len(t) == 0:
        raise ValidationError(f"survival analysis {name!r} has no complete rows", field=name)
    km = kaplan_meier(t, e, group=pd.Series(np.array(levels, dtype=object)[code], name="group")) if group else kaplan_meier(t, e)
    chisq = df = p = None
    pw = None
    if group and len(levels) >= 2:
        lr = logrank_test(t, e, pd.Series(code, name="group"))
        chisq, df, p = float(lr.chisq), int(lr.df), float(lr.p)
        if pairwise and len(levels) >= 3:
            res = pairwise_logrank(t, e, pd.Series(np.array(levels, dtype=object)[code], name="group"))
            pw = res.to_frame()
    rows = []
    for label, cname in zip(levels, curve_labels(km, levels), strict=True):
        curve = km.curve(cname)
        for lm in landmarks:
            s, lo, hi = _at(curve, lm)
            if failure:
                s, lo, hi = 1 - s, 1 - hi, 1 - lo
            rows.append({"Group": label, "Time": lm, "N": curve.n, "Events": int(curve.events),
                         ("Cumulative rate (%)" if failure else "Survival (%)"): round(100 * s, 1),
                         "95% CI": f"{100 * lo:.1f}-{100 * hi:.1f}" if np.isfinite(lo) and np.isfinite(hi) else "NA"})
    rates = pd.DataFrame(rows)
    return SurvivalAnalysis(name, title, km, levels, chisq, df, p, pw, rates, failure, len(data), n_excl)


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


def median_follow_up(frame: pd.DataFrame, time: str, event: str) -> tuple[float, float, float]:
    """Median follow-up by the reverse Kaplan-Meier method (censoring as the event): (median, min, max)."""
    data = _complete(frame, [time, event])
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

    def to_frame(self) -> pd.DataFrame:
        return self.rates.copy()


def competing_risk_analysis(
    frame: pd.DataFrame, *, name: str, title: str, time: str, event: str, competing: str,
    group: str | None = None, group_order: Sequence[str] | None = None,
    landmarks: Sequence[float] = (12, 24, 36, 60),
) -> CompetingRiskAnalysis:
    """Aalen-Johansen cumulative incidence of ``event`` with ``competing`` (e.g. death without
    the event) as competing risk, Gray's test across groups; rates with 95 % CIs (log-log) at
    ``landmarks``, next to 1 - KM which treats the competing event as censoring."""
    data = _complete(frame, [time, event, competing, group])
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
                # log(-log(1 - F)) type interval as cmprsk users usually report: use log-log on F
                se = math.sqrt(v_) / (e_ * abs(math.log(e_)))
                z = 1.959963984540054
                lo, hi = e_ ** math.exp(z * se), e_ ** math.exp(-z * se)
                ci_text = f"{100 * lo:.1f}-{100 * hi:.1f}"
            else:
                ci_text = "NA"
            s = _at(kc, lm)[0]
            rows.append({"Group": lv, "Time": lm, "Cumulative incidence (%)": round(100 * e_, 1) if np.isfinite(e_) else None,
                         "95% CI": ci_text, "1 - KM (%)": round(100 * (1 - s), 1) if np.isfinite(s) else None})
    stat = p = None
    if res.tests is not None:
        stat, p = float(res.tests.statistic[0]), float(res.tests.p[0])
    return CompetingRiskAnalysis(name, title, levels, tuple(curves), pd.DataFrame(rows), stat, p)


@dataclass(frozen=True)
class CoxTable:
    """Table 4: univariate HRs for every covariate, multivariate HRs for the selected ones."""

    title: str
    frame: pd.DataFrame
    n: int
    n_events: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    forest: pd.DataFrame | None = None  # term, hr, lower, upper (univariate)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> str:
        return "\n".join([self.title, self.frame.to_string(index=False), *self.notes])


def _term_label(term: str, cov: str, reference: Any, ordinal: Sequence[str] = ()) -> str:
    """'T2 vs T1' for a treatment-contrast term of a categorical covariate (``reference`` is its
    reference level); 'per step' for ordinal scores, 'per unit' for other numeric covariates."""
    if reference is not None and term.startswith(cov):
        return f"{term[len(cov):]} vs {reference}"
    if term == cov:
        return "per step" if cov in ordinal else "per unit"
    return term


def cox_table(
    frame: pd.DataFrame, *, title: str, time: str, event: str, covariates: Sequence[str],
    categorical: Sequence[str] = (), multivariate: Sequence[str] | None = None,
    screen_p: float | None = None, labels: Mapping[str, str] | None = None,
    reference: Mapping[str, Any] | None = None, ordinal: Sequence[str] = (),
) -> CoxTable:
    """Univariate Cox model per covariate, then a multivariate model on ``multivariate`` (or on
    the covariates with univariate p < ``screen_p``), laid out as the paper's Table 4.

    1. Keep the rows complete in time, event and every covariate (one analysis set for all models).
    2. Univariate screen: :func:`npctrial.survival.cox_univariate` (Efron ties, Wald p, treatment
       contrasts against ``reference`` or the first level of a categorical covariate).
    3. Multivariate model: :func:`npctrial.survival.cox_ph` on the chosen covariates.
    4. Diagnostics: events per variable < 10 (SmallSampleWarning, Peduzzi et al. 1996) and the
       proportional-hazards test of Grambsch and Therneau (1994), R's ``cox.zph``, at 0.05
       (StatisticalWarning); both are also kept as notes under the table.
    """
    labels = dict(labels or {})
    reference = dict(reference or {})
    cols = list(dict.fromkeys([time, event, *covariates]))
    data = frame[cols].dropna().copy()
    for c in categorical:
        data[c] = data[c].map(as_level)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        screen = cox_univariate(data, time, event, list(covariates), categorical=list(categorical),
                                reference={c: v for c, v in reference.items() if c in covariates})
    uni: dict[str, tuple[str, float, float, float, float]] = {}
    term_labels: dict[str, str] = {}
    for r in screen.itertuples(index=False):
        uni[r.term] = (r.covariate, float(r.hazard_ratio), float(r.lower), float(r.upper), float(r.p))
        term_labels[r.term] = _term_label(r.term, r.covariate, r.reference if isinstance(r.reference, str) else None,
                                         ordinal)
    forest = [{"term": f"{labels.get(cov, cov)}: {term_labels[term]}", "hr": hr, "lower": lo, "upper": hi, "p": p}
              for term, (cov, hr, lo, hi, p) in uni.items()]
    chosen = list(multivariate) if multivariate is not None else [
        c for c in covariates if screen_p is not None and any(v[0] == c and v[4] < screen_p for v in uni.values())]
    multi: dict[str, tuple[float, float, float, float]] = {}
    n_events = int(data[event].sum())
    if chosen:
        n_params = 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatisticalWarning)
            fit = cox_ph(data, time, event, chosen, categorical=[c for c in chosen if c in categorical],
                         reference={c: v for c, v in reference.items() if c in chosen} or None)
        for w in caught:
            notes.append(f"Warning: {w.message}")
        n_params = len(fit.names)
        for k, term in enumerate(fit.names):
            lo, hi = fit.conf_int[k]
            multi[term] = (float(fit.hazard_ratio[k]), float(lo), float(hi), float(fit.p[k]))
        epv = n_events / max(n_params, 1)
        if epv < 10:
            msg = f"{n_events} events for {n_params} parameters: {epv:.1f} events per variable (< 10)"
            warnings.warn(msg, SmallSampleWarning, stacklevel=2)
            notes.append("Warning: " + msg)
        try:
            zph = fit.zph()
            tab = zph.to_frame()
            bad = [str(i) for i, p in zip(tab.index, tab["p"], strict=True) if p < 0.05]
            if bad:
                msg = f"proportional hazards rejected (cox.zph p < 0.05) for: {', '.join(bad)}"
                warnings.warn(msg, StatisticalWarning, stacklevel=2)
                notes.append("Warning: " + msg)
            else:
                notes.append(f"Proportional hazards: cox.zph global p = {float(tab['p'].iloc[-1]):.3f}.")
        except Exception as exc:  # pragma: no cover - diagnostics must not stop the report
            notes.append(f"cox.zph not available: {exc}")
    rows = []
    for term, (cov, hr, lo, hi, p) in uni.items():
        star = "*" if p < 0.05 else ""
        row = {"Variable": labels.get(cov, cov), "Term": term_labels[term], "HR": f"{hr:.3f}", "95% CI": f"{lo:.3f}-{hi:.3f}",
               "p value": _fmt_p(p) + star, "HR (multi)": "", "95% CI (multi)": "", "p value (multi)": ""}
        if term in multi:
            mh, ml, mu, mp = multi[term]
            row.update({"HR (multi)": f"{mh:.3f}", "95% CI (multi)": f"{ml:.3f}-{mu:.3f}",
                        "p value (multi)": _fmt_p(mp) + ("*" if mp < 0.05 else "")})
        rows.append(row)
    notes.insert(0, f"Cox proportional hazards models (Efron ties), n = {len(data)}, events = {n_events}; "
                    "multivariate: " + (", ".join(labels.get(c, c) for c in chosen) or "none") + ". * p < 0.05.")
    return CoxTable(title, pd.DataFrame(rows), len(data), n_events, tuple(notes), pd.DataFrame(forest))
