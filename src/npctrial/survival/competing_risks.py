"""Cumulative incidence with Gray's variance, and Gray's k-sample test (``cmprsk::cuminc``).

``cumulative_incidence`` returns, per group and cause, the Aalen-Johansen cumulative incidence
function (CIF) as the step function ``cmprsk::cuminc`` returns (corner points, starting at 0)
with its Aalen-type delta-method variance (the values cmprsk reports). ``gray_test`` compares the CIF
of one cause across groups (Gray RJ, Ann Stat 1988;16:1141-54), stratified if asked.

Both are written from the published formulas as cumulative sums over the sorted distinct
times (one sort plus O(n) work) and checked against cmprsk 2.2-11's outputs
(``tests/data/refs``). Groups are the sorted factor levels and causes the sorted distinct
non-censoring codes (or a label factor's levels), as ``cuminc`` orders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival._competing_input import Cause, validate_competing
from npctrial.survival.data import Factor, SurvivalData
from npctrial.survival.dense_rank import integer_ranks
from npctrial.survival.gray import GrayTestResult, _gray, gray_test
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.survival.plotting import plot_survival

__all__ = [
    "CIFCurve",
    "Cause",
    "CumulativeIncidenceResult",
    "GrayTestResult",
    "cumulative_incidence",
    "gray_test",
]


# --------------------------------------------------------------------------------------------
# cumulative incidence
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CIFCurve(FrozenResult):
    """One cumulative incidence curve as ``cmprsk::cuminc`` returns it.

    ``time``/``est``/``var`` are the corners of the step function: (0, 0), then for every
    distinct time with an event of this cause the value just before and just after the jump,
    and finally the largest follow-up time of the group.
    """

    group: str
    cause: Cause
    time: np.ndarray
    est: np.ndarray
    var: np.ndarray

    @property
    def name(self) -> str:
        """cmprsk's name: ``"<group> <cause>"``."""
        return f"{self.group} {self.cause}"

    def at(self, times: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(est, var) at ``times`` as ``cmprsk::timepoints``: right-continuous, NaN past the end."""
        t = np.asarray(times, dtype=np.float64)
        x = self.time
        k = np.searchsorted(x, t, side="right") - 1
        last = x.shape[0] - 1
        idx = np.where(k >= last, last, k + 1)
        est = self.est[np.clip(idx, 0, last)].astype(np.float64)
        var = self.var[np.clip(idx, 0, last)].astype(np.float64)
        outside = (k < 0) | (t > x[last])
        est[outside] = np.nan
        var[outside] = np.nan
        return est, var


def _run_counts(
    time: np.ndarray, any_event: np.ndarray, cause_event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distinct times, at risk, events of the cause, all events) of one group sorted by time."""
    n = time.shape[0]
    starts = np.flatnonzero(np.concatenate(([True], time[1:] != time[:-1])))
    n_risk = (n - starts).astype(np.float64)
    d1 = np.add.reduceat(cause_event.astype(np.float64), starts)
    d_all = np.add.reduceat(any_event.astype(np.float64), starts)
    return time[starts], n_risk, d1, d_all


def _cif_one(
    ut: np.ndarray, n_risk: np.ndarray, d1: np.ndarray, d_all: np.ndarray, last_time: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIF and its delta-method variance for one group from its counts per distinct time
    (:func:`_run_counts` or :func:`_integer_time_counts`; times without events are skipped).

    1. At each distinct event time t_j: n_j at risk, d1_j events of the cause, d2_j of the
       other causes; S_j the all-cause Kaplan-Meier after t_j (S_{j-1} before) and
       F_j = sum_{i <= j} S_{i-1} d1_i / n_i (Aalen-Johansen; Kalbfleisch & Prentice 2002, 8.2).
    2. Delta method (Aalen 1978; Gray 1988; Pintilie 2006, sec. 4.2.2): one event at t_j moves
       F(t), t >= t_j, by S_{j-1}/n_j * (1 - (F(t) - F_j) / S_j) if it is of the cause and by
       -S_{j-1}/n_j * (F(t) - F_j) / S_j if it is of another cause (0 once S_j = 0: nothing is
       left to fail). The d tied events of one kind have the binomial variance factor
       (n_j - d) / (n_j - 1).
    3. Var F(t) = sum_{t_j <= t} [kind-1 and kind-2 terms] (factor x d x influence^2). Each
       influence is beta_j - F(t) alpha_j, so the sum is A(t) - 2 F(t) B(t) + F(t)^2 C(t) with
       cumulative sums A = sum w beta^2, B = sum w alpha beta, C = sum w alpha^2.
    4. The corner points (0, 0), (t, F(t-)), (t, F(t)), ..., (largest time, F), as cmprsk.
    """
    keep = d_all > 0
    ut, n_risk, d1, d_all = ut[keep], n_risk[keep], d1[keep], d_all[keep]
    d2 = d_all - d1
    surv = np.cumprod((n_risk - d_all) / n_risk)
    s_before = np.concatenate(([1.0], surv[:-1]))
    f = np.cumsum(s_before * d1 / n_risk)

    def tied_weight(d: np.ndarray) -> np.ndarray:  # d x (n - d)/(n - 1) x (S_{j-1}/n_j)^2
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(d > 1, (n_risk - d) / (n_risk - 1.0), 1.0)
        return factor * d * (s_before / n_risk) ** 2

    with np.errstate(divide="ignore"):
        alpha = np.where(surv > 0, 1.0 / surv, 0.0)  # d influence / d F(t), per unit S_{j-1}/n_j
    w1 = np.where(d1 > 0, tied_weight(d1), 0.0)
    w2 = np.where((d2 > 0) & (surv > 0), tied_weight(d2), 0.0)
    beta1, beta2 = 1.0 + f * alpha, f * alpha  # the influence at F(t) = 0, each kind
    big_a = np.cumsum(w1 * beta1**2 + w2 * beta2**2)
    big_b = np.cumsum((w1 * beta1 + w2 * beta2) * alpha)
    big_c = np.cumsum((w1 + w2) * alpha**2)
    var = big_a - 2.0 * f * big_b + f * f * big_c

    jumps = d1 > 0
    tj, fj, vj = ut[jumps], f[jumps], var[jumps]
    m = tj.shape[0]
    x = np.empty(2 * m + 2)
    est = np.empty(2 * m + 2)
    v = np.empty(2 * m + 2)
    x[0] = est[0] = v[0] = 0.0
    x[1 : 2 * m + 1 : 2] = tj
    x[2 : 2 * m + 2 : 2] = tj
    est[2 : 2 * m + 2 : 2] = fj
    est[3 : 2 * m + 1 : 2] = fj[:-1]
    est[1] = 0.0
    v[2 : 2 * m + 2 : 2] = vj
    v[3 : 2 * m + 1 : 2] = vj[:-1]
    v[1] = 0.0
    x[-1] = last_time
    est[-1] = est[-2]
    v[-1] = v[-2]
    return x, est, v


def _integer_time_counts(
    time: np.ndarray, event: np.ndarray, codes: np.ndarray, n_groups: int, censor_code: Any, causes: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[Any, np.ndarray], np.ndarray] | None:
    """Counts per (group, distinct time) without a sort, for whole-number times over a range of
    at most ~4 n (days, months; :func:`~npctrial.survival.dense_rank.integer_ranks`): (distinct
    times, at risk, all events, events per cause, each group's largest time), or None (then
    :func:`_run_counts` on sorted data). The counts are integers: the same values as the sort's."""
    table = integer_ranks(time)
    if table is None:
        return None
    rank, distinct = table
    m = distinct.shape[0]
    key = rank if n_groups == 1 else codes * m + rank
    size = n_groups * m
    rows = np.bincount(key, minlength=size).reshape(n_groups, m)
    n_risk = np.cumsum(rows[:, ::-1], axis=1)[:, ::-1].astype(np.float64)
    d_all = np.bincount(key, weights=event != censor_code, minlength=size).reshape(n_groups, m)
    per_cause = {c: np.bincount(key, weights=event == c, minlength=size).reshape(n_groups, m) for c in causes}
    last = distinct[m - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)]
    return distinct, n_risk, d_all, per_cause, last


@dataclass(frozen=True)
class CumulativeIncidenceResult(FrozenResult):
    """Cumulative incidence curves per group and cause (``cmprsk::cuminc``).

    ``curves`` are ordered cause-major (all groups for the first cause, then the next), as
    cmprsk names them (``"F 1", "M 1", "F 2", "M 2"``). ``tests`` holds Gray's test per cause
    when there is more than one group.
    """

    curves: tuple[CIFCurve, ...]
    groups: tuple[str, ...]
    causes: tuple[Cause, ...]
    n: int
    tests: GrayTestResult | None = None
    n_dropped: int = 0

    def curve(self, group: str | None = None, cause: Cause | None = None) -> CIFCurve:
        """The curve of ``group`` (default: the only group) and ``cause`` (default: the first)."""
        g = self.groups[0] if group is None else str(group)
        c = self.causes[0] if cause is None else cause
        for cv in self.curves:
            if cv.group == g and cv.cause == c:
                return cv
        raise ValidationError(
            f"no curve for group {g!r} and cause {c!r}; groups {list(self.groups)}, causes "
            f"{list(self.causes)}",
            field="group",
        )

    def at(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """Estimates and variances at ``times`` (``cmprsk::timepoints``), one row per curve/time."""
        t = np.sort(np.unique(np.asarray(times, dtype=np.float64)))
        rows = []
        for cv in self.curves:
            est, var = cv.at(t)
            for ti, e, v in zip(t, est, var, strict=True):
                rows.append(
                    {"curve": cv.name, "group": cv.group, "cause": cv.cause, "time": ti,
                     "est": e, "var": v}
                )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """All curves' corner points stacked: curve, group, cause, time, est, var, std_err."""
        frames = [
            pd.DataFrame(
                {"curve": cv.name, "group": cv.group, "cause": cv.cause, "time": cv.time,
                 "est": cv.est, "var": cv.var, "std_err": np.sqrt(cv.var)}
            )
            for cv in self.curves
        ]
        return pd.concat(frames, ignore_index=True)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Step plot of every curve with a pointwise 95% band from the cmprsk variance
        (:func:`npctrial.survival.plotting.plot_survival`); returns the matplotlib Axes."""
        kwargs.setdefault("at_risk_table", False)
        kwargs.setdefault("ylabel", "Cumulative incidence")
        return plot_survival(self, ax, **kwargs)

    def summary(self, times: Sequence[float] | None = None) -> str:
        """Text like ``print.cuminc``: Gray's tests, then estimates and variances at ``times``."""
        lines: list[str] = []
        if self.tests is not None:
            lines += ["Tests:", self.tests.summary(header=False), ""]
        if times is None:
            tmax = max(float(cv.time[-1]) for cv in self.curves)
            times = [float(v) for v in np.linspace(0, tmax, 6)[1:-1]]
        t = np.sort(np.unique(np.asarray(times, dtype=np.float64)))
        head = f"{'':>12}" + "".join(f"{ti:>12.6g}" for ti in t)
        for what, pick in (("Estimates", 0), ("Variances", 1)):
            lines.append(f"{what}:")
            lines.append(head)
            for cv in self.curves:
                vals = cv.at(t)[pick]
                lines.append(f"{cv.name:>12}" + "".join(f"{v:>12.6g}" for v in vals))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------


def _curves(data: SurvivalData, causes: Sequence[Any], cause_labels: Sequence[Cause]) -> list[CIFCurve]:
    """The CIF of every cause and group (cause-major), from counts per distinct time: by table
    lookup for whole-number times, else from one sort (groups that are empty give no curve)."""
    assert data.group is not None
    labels, codes = data.group.labels, data.group.codes
    counts = _integer_time_counts(data.time, data.event, codes, len(labels), data.censor_code, causes)
    curves: list[CIFCurve] = []
    if counts is not None:
        ut, n_risk, d_all, per_cause, last = counts
        for cause, cause_label in zip(causes, cause_labels, strict=True):
            for gi, lab in enumerate(labels):
                x, est, v = _cif_one(ut, n_risk[gi], per_cause[cause][gi], d_all[gi], float(last[gi]))
                curves.append(CIFCurve(group=lab, cause=cause_label, time=x, est=est, var=v))
        return curves
    order = np.argsort(data.time)  # the order within tied times does not matter: runs are summed
    t_sorted, e_sorted, g_sorted = data.time[order], data.event[order], codes[order]
    for cause, cause_label in zip(causes, cause_labels, strict=True):
        for gi, lab in enumerate(labels):
            sel = g_sorted == gi
            tt, ee = t_sorted[sel], e_sorted[sel]
            x, est, v = _cif_one(*_run_counts(tt, ee != data.censor_code, ee == cause), float(tt[-1]))
            curves.append(CIFCurve(group=lab, cause=cause_label, time=x, est=est, var=v))
    return curves


@without_huge_page_hint
def cumulative_incidence(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    strata: Any = None,
    censor_code: Cause = 0,
    rho: float = 0.0,
    na_action: str = "raise",
) -> CumulativeIncidenceResult:
    """Cumulative incidence functions per group and cause, as ``cmprsk::cuminc``.

    ``event`` holds integer codes (``censor_code`` for censored, any other value a cause) or
    labels (e.g. ``"relapse"``, ``"death"`` and ``censor_code="censored"``; causes in sorted or
    categorical order, as an R factor).
    Groups follow R's factor order (sorted levels); ``strata`` only stratify Gray's test,
    which is computed (per cause, with weight ``(1 - F(t-))^rho``) when there are >= 2 groups.
    Missing values raise unless ``na_action="drop"`` (then ``n_dropped`` says how many).

    Algorithm: Aalen-Johansen estimate with its delta-method variance (the values of cmprsk's ``cuminc``)
    (see :func:`_cif_one`), then :func:`gray_test`'s computation.
    """
    data, causes, cause_labels = validate_competing(time, event, group, strata, censor_code, na_action)
    n_dropped = data.n_dropped
    if group is None:
        gf = Factor.from_values(np.ones(data.n, dtype=np.int64), name="group")
        data = SurvivalData(
            time=data.time, event=data.event, group=gf, strata=data.strata,
            event_codes=data.event_codes, rows=data.rows, dropped_rows=data.dropped_rows,
        )
    assert data.group is not None
    labels = data.group.labels
    curves = _curves(data, causes, cause_labels)
    tests = None
    if data.group.n_levels > 1:
        tests = _gray(data, causes, cause_labels, np.argsort(data.time, kind="stable"), rho)
    return CumulativeIncidenceResult(
        curves=tuple(curves), groups=labels, causes=cause_labels, n=data.n, tests=tests,
        n_dropped=n_dropped,
    )
