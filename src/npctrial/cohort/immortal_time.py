"""Immortal time: comparing patients by something that happens during follow-up.

Grouping patients by an event that occurs after the time origin (distant metastasis counted from
the start of RT; remission duration as a covariate of survival from RT) credits the group with
the event with the time before it, during which its patients could not die: immortal-time bias
(Suissa, Am J Epidemiol 2008; Anderson, Cain & Gelber, J Clin Oncol 1983). This module finds
such comparisons and gives the analyses that avoid the bias:

* :func:`find_immortal_time`: a grouping or covariate computed from a date that falls after
  the origin of the survival time (for some patients) - a warning naming both dates.
* :func:`landmark_analysis`: at each landmark L, the patients alive and under follow-up at L
  (:func:`npctrial.survival.landmark`), grouped by their status at L, followed from L;
  Kaplan-Meier, log-rank test and the hazard ratio of the status.
* :func:`time_dependent_cox`: the status as a time-dependent covariate, 0 until the date it
  arises and 1 after (:func:`npctrial.survival.time_varying`, R's ``tmerge``), in a Cox model
  next to the same model with the status fixed at baseline (the biased version).
* Survival from the event date is an ordinary duration from that date (``derived`` duration
  with ``start`` at the event date), analysed in the patients who had the event.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from npctrial.cohort.cox_table import hr_text
from npctrial.cohort.plan import AnalysisPlan
from npctrial.cohort.survival_tables import SurvivalAnalysis, survival_analysis
from npctrial.cohort.tables import format_p_value, p_statement
from npctrial.cohort.units import format_time, landmarks_for
from npctrial.cohort.values import check_columns
from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.survival import cox_ph, landmark, time_varying


def find_immortal_time(plan: AnalysisPlan, frame: pd.DataFrame, time: str, factors: Sequence[str],
                       where: str) -> list[str]:
    """One message per factor of ``factors`` computed from a date later than the origin of
    ``time`` in at least one row of ``frame`` (the variables' ``dates`` and ``origin`` come from
    the plan)."""
    origin = plan.variable(time).origin
    if origin is None or origin not in frame:
        return []
    out = []
    start = frame[origin]
    for factor in factors:
        later = []
        for d in sorted(plan.variable(factor).dates - {origin}):
            if d in frame and bool((frame[d] > start).any()):
                later.append((d, int((frame[d] > start).sum())))
        if later:
            dates = ", ".join(f"{plan.label(d)} ({n} patients)" for d, n in later)
            out.append(f"{where}: {plan.label(factor)!r} is known only after the time origin ({plan.label(origin)}): "
                       f"it depends on {dates}. Comparing it from {plan.label(origin)} carries immortal-time bias; "
                       "use a landmark analysis, a time-dependent covariate, or survival from the event date.")
    return out


@dataclass(frozen=True)
class LandmarkAnalysis:
    """One Kaplan-Meier analysis per landmark, and the summary table (one row per landmark)."""

    name: str
    title: str
    analyses: tuple[SurvivalAnalysis, ...]
    table: pd.DataFrame
    notes: tuple[str, ...]
    hazard_ratios: tuple[float, ...] = ()  # per landmark, unrounded


def _status_at(frame: pd.DataFrame, status: str, status_time: str, at: float, labels: Mapping[str, str]) -> pd.Series:
    arisen = (frame[status] == 1) & (frame[status_time] <= at)
    return pd.Series(np.where(arisen, labels["1"], labels["0"]), index=frame.index, dtype=object)


def landmark_analysis(
    frame: pd.DataFrame, *, name: str, title: str, time: str, event: str, status: str, status_time: str,
    at: Sequence[float], labels: Mapping[str, str] | None = None, unit: str | None = "months",
    after: Sequence[float] | None = None,
) -> LandmarkAnalysis:
    """Landmark analyses of ``status`` (0/1, arising at ``status_time`` on the scale of ``time``).

    Per landmark L: 1. the landmark cohort: alive and under follow-up at L
    (:func:`npctrial.survival.landmark`: follow-up ending at or before L excludes); 2. the group
    is the status at L (arisen at or before L); 3. time is counted from L; 4. Kaplan-Meier by
    group with the log-rank test (rates at ``after``, times since L: 1, 2 and 3 years by default),
    and the Cox hazard ratio of the status at L (Efron ties).
    """
    check_columns(frame, [time, event, status, status_time], f"landmark analysis {name!r}")
    labels = dict(labels or {"1": f"{status} by the landmark", "0": f"no {status} by the landmark"})
    data = frame[[time, event, status, status_time]].dropna(subset=[time, event, status])
    rows, analyses, hrs = [], [], []
    notes = _left_out(len(frame), len(data), [time, event, status])
    for lm in at:
        cohort = landmark(data, time, event, float(lm))
        lmd = cohort.data.assign(_group=lambda d, lm=lm: _status_at(d, status, status_time, float(lm), labels))
        n_groups = lmd["_group"].nunique()
        an = survival_analysis(lmd, name=f"{name}_{format_time(lm)}", title=f"{title}, landmark {format_time(lm)}",
                               time=time, event=event, group="_group", group_order=[labels["1"], labels["0"]],
                               landmarks=list(after) if after is not None else list(landmarks_for(unit)[:3]),
                               unit=unit)
        analyses.append(an)
        hr = lo = hi = np.nan
        if n_groups == 2 and lmd[event].sum() > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", StatisticalWarning)
                fit = cox_ph(lmd.assign(_x=(lmd["_group"] == labels["1"]).astype(float)), time, event, ["_x"])
            hr, (lo, hi) = float(fit.hazard_ratio[0]), fit.conf_int[0]
        hrs.append(hr)
        counts = lmd["_group"].value_counts()
        rows.append({"Landmark": format_time(lm), "At risk": len(lmd), labels["1"]: int(counts.get(labels["1"], 0)),
                     labels["0"]: int(counts.get(labels["0"], 0)), "Events after": int(lmd[event].sum()),
                     "HR (95% CI)": hr_text(hr, lo, hi) if np.isfinite(hr) else "NA",
                     "p value (log-rank)": format_p_value(an.logrank_p) or "NA"})
        gone = "; ".join(f"{reason}: {n}" for reason, n in cohort.excluded.items() if n)
        notes.append(f"Landmark {format_time(lm)}: {cohort.n_subjects} of {cohort.n_subjects_before} patients alive "
                     f"and followed at the landmark" + (f" (excluded - {gone})" if gone else "") + "; "
                     f"{p_statement(an.logrank_p)} (log-rank).")
    notes.append(f"HR: {labels['1']} vs {labels['0']}, Cox model from the landmark (Efron ties).")
    return LandmarkAnalysis(name, title, tuple(analyses), pd.DataFrame(rows), tuple(notes), tuple(hrs))


@dataclass(frozen=True)
class TimeDependentCox:
    """The status as a time-dependent covariate, next to the same model with it fixed at baseline."""

    name: str
    title: str
    table: pd.DataFrame
    notes: tuple[str, ...]
    estimates: pd.DataFrame  # term, hr (time-dependent), hr_fixed: unrounded
    n_intervals: int = 0


def _fit_rows(fit: object, labels: Mapping[str, str]) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for k, term in enumerate(fit.names):  # type: ignore[attr-defined]
        lo, hi = fit.conf_int[k]  # type: ignore[attr-defined]
        out[labels.get(term, term)] = (float(fit.hazard_ratio[k]), float(lo), float(hi), float(fit.p[k]))  # type: ignore[attr-defined]
    return out


def time_dependent_cox(
    frame: pd.DataFrame, *, name: str, title: str, time: str, event: str, status: str, status_time: str,
    covariates: Sequence[str] = (), categorical: Sequence[str] = (), labels: Mapping[str, str] | None = None,
    levels: Mapping[str, Sequence[str]] | None = None,
) -> TimeDependentCox:
    """Cox models of ``status`` (0/1 arising at ``status_time``): time-dependent and fixed.

    1. Patients complete in time, event, status and ``covariates``; each patient one base row.
    2. :func:`npctrial.survival.time_varying` splits follow-up at ``status_time`` for the patients
       whose status becomes 1 during follow-up (0 before, 1 after; R's ``tmerge`` with ``tdc``).
    3. ``cox_ph(entry="tstart")`` with the time-dependent status and ``covariates`` (Efron ties;
       categorical covariates against their first level in ``levels`` order).
    4. For comparison, the same model with the status fixed at baseline (immortal-time bias).
    """
    check_columns(frame, [time, event, status, status_time, *covariates], f"time-dependent Cox {name!r}")
    labels = dict(labels or {})
    cols = list(dict.fromkeys([time, event, status, status_time, *covariates]))
    base = frame[cols].dropna(subset=[time, event, status, *covariates]).copy()
    if base.empty:
        raise ValidationError(f"time-dependent Cox {name!r}: no complete rows", field=name)
    base["_id"] = np.arange(len(base))
    for c in categorical:
        present = set(base[c].dropna().map(str))
        order = [lv for lv in (levels or {}).get(c, ()) if lv in present]
        base[c] = pd.Categorical(base[c].map(str), categories=order + sorted(present - set(order)))
    arises = base[(base[status] == 1) & base[status_time].notna()]
    changes = pd.DataFrame({"_id": arises["_id"], "_t": arises[status_time], "_status_td": 1.0})
    tv = time_varying(base.drop(columns=[status, status_time]), changes, id="_id", time=time, event=event,
                      change_time="_t", columns=["_status_td"], initial={"_status_td": 0.0})
    names = {"_status_td": f"{labels.get(status, status)} (time-dependent)", status: f"{labels.get(status, status)} "
             "(fixed at baseline)"}
    names.update({c: labels.get(c, c) for c in covariates})
    cats = [c for c in covariates if c in categorical]
    for c in cats:
        cat = base[c].cat.categories
        names.update({f"{c}{lv}": f"{labels.get(c, c)}: {lv} vs {cat[0]}" for lv in cat[1:]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        td = cox_ph(tv.data, "tstop", event, ["_status_td", *covariates], categorical=cats, entry="tstart")
        fixed = cox_ph(base, time, event, [status, *covariates], categorical=cats)
    td_rows, fixed_rows = _fit_rows(td, names), _fit_rows(fixed, names)
    fixed_rows = {names["_status_td"] if k == names[status] else k: v for k, v in fixed_rows.items()}
    rows = []
    for term, (hr, lo, hi, p) in td_rows.items():
        shown = term.replace(" (time-dependent)", "")
        f = fixed_rows.get(term)
        rows.append({"Term": shown, "HR (95% CI), time-dependent": hr_text(hr, lo, hi), "p value": _p(p),
                     "HR (95% CI), fixed at baseline": hr_text(*f[:3]) if f else "",
                     "p value, fixed": _p(f[3]) if f else ""})
    counts = tv.counts.get("_status_td", {})
    ignored = {k: v for k, v in counts.items() if k in ("trailing", "late") and v}
    notes = _left_out(len(frame), len(base), [time, event, status, *covariates])
    notes += [f"Time-dependent: {td.n} intervals of {len(base)} patients ({td.n_events} events); "
             f"{labels.get(status, status)} is 0 until {status_time} and 1 after it (R tmerge/tdc).",
             "Fixed at baseline: the same model with the status known from the origin, which credits the patients "
             "with the event with the time before it (immortal-time bias); shown for comparison only."]
    if ignored:
        notes.append("Status arising at or after the end of follow-up (no interval to act on): "
                     + ", ".join(f"{k} {v}" for k, v in ignored.items()) + ".")
    estimates = pd.DataFrame({"term": list(td_rows), "hr": [v[0] for v in td_rows.values()],
                              "hr_fixed": [fixed_rows.get(t, (np.nan,))[0] for t in td_rows]})
    return TimeDependentCox(name, title, pd.DataFrame(rows), tuple(notes), estimates, len(tv.data))


def _left_out(n_before: int, n_after: int, columns: Sequence[str]) -> list[str]:
    """The note for the patients left out because one of ``columns`` is unknown (none: no note)."""
    if n_before == n_after:
        return []
    return [f"{n_before - n_after} of {n_before} patients left out: {', '.join(columns)} not known for them."]


def _p(p: float) -> str:
    return (format_p_value(p) or "NA") + ("*" if np.isfinite(p) and p < 0.05 else "")
