"""Cumulative incidence with Gray's variance, and Gray's k-sample test (``cmprsk::cuminc``).

``cumulative_incidence`` returns, per group and cause, the Aalen-Johansen cumulative incidence
function (CIF) as the step function ``cmprsk::cuminc`` returns (corner points, starting at 0)
with cmprsk's (Aalen-type, Gray 1988 delta-method) variance. ``gray_test`` compares the CIF
of one cause across groups (Gray RJ, Ann Stat 1988;16:1141-54), stratified if asked.

cmprsk runs these in Fortran loops (``cincsub.f``; Gray's test ``crstm.f``, see
:mod:`npctrial.survival.gray`); here both are cumulative sums over the sorted distinct times,
so the cost is one sort plus O(n) work. Groups are the sorted factor levels and causes the
sorted distinct non-censoring codes (or a label factor's levels), as cmprsk 2.2-11
``R/cmprsk.R``.
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
from npctrial.survival.gray import GrayTestResult, _gray, gray_test
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
# cumulative incidence (cmprsk cincsub.f)
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


def _cif_one(
    time: np.ndarray, any_event: np.ndarray, cause_event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIF and Gray's variance for one group (data sorted by time).

    Steps (cmprsk ``cinc``, Gray's Fortran, vectorised):
      1. distinct times t_j with n_j at risk, d1_j events of the cause, d2_j of other causes;
      2. S(t_j-) (all-cause KM, left limit) and F(t_j) = sum S(t_i-) d1_i / n_i;
      3. per time the increments of the running sums v1, v2, v3: first for the other-cause
         events (skipped when S(t_j) = 0), then for the cause events, with
         t6 = S(t_j-)^2 (1 - (d-1)/(n-1)) d / n^2, a = 1/S(t_j), b = F a (other causes) or
         1 + F a (the cause);
      4. Var F(t_j) = v1 + F^2 v3 - 2 F v2 at the times of the cause (cumulative sums);
      5. the corner points (0, 0), (t, F(t-)), (t, F(t)), ..., (max time, F).
    """
    n = time.shape[0]
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    ut = time[starts]
    n_risk = (n - starts).astype(np.float64)
    d1 = np.add.reduceat(cause_event.astype(np.float64), starts)
    dall = np.add.reduceat(any_event.astype(np.float64), starts)
    d2 = dall - d1
    ev = dall > 0
    ut, n_risk, d1, d2, dall = ut[ev], n_risk[ev], d1[ev], d2[ev], dall[ev]
    surv = np.cumprod((n_risk - dall) / n_risk)
    s_minus = np.r_[1.0, surv[:-1]]
    f = np.cumsum(s_minus * d1 / n_risk)

    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(surv > 0, 1.0 / surv, 0.0)
        nm1 = n_risk - 1.0
        t5_2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / nm1, 1.0)
        t5_1 = np.where(d1 > 1, 1.0 - (d1 - 1.0) / nm1, 1.0)
    t6_2 = np.where((d2 > 0) & (surv > 0), s_minus * s_minus * t5_2 * d2 / (n_risk * n_risk), 0.0)
    t6_1 = np.where(d1 > 0, s_minus * s_minus * t5_1 * d1 / (n_risk * n_risk), 0.0)
    b2 = f * inv_s
    b1 = 1.0 + f * inv_s
    v1 = np.cumsum(b2 * b2 * t6_2 + b1 * b1 * t6_1)
    v2 = np.cumsum(inv_s * b2 * t6_2 + inv_s * b1 * t6_1)
    v3 = np.cumsum(inv_s * inv_s * (t6_2 + t6_1))
    var = v1 + f * f * v3 - 2.0 * f * v2

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
    est[1 : 2 * m + 1 : 2] = np.r_[0.0, fj[:-1]]
    v[2 : 2 * m + 2 : 2] = vj
    v[1 : 2 * m + 1 : 2] = np.r_[0.0, vj[:-1]]
    x[-1] = time[-1]
    est[-1] = est[-2]
    v[-1] = v[-2]
    return x, est, v


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

    Algorithm: Aalen-Johansen estimate with Gray's (1988) variance, cmprsk ``cinc``
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
    order = np.argsort(data.time, kind="stable")
    t_sorted = data.time[order]
    e_sorted = data.event[order]
    g_sorted = data.group.codes[order]
    labels = data.group.labels
    curves: list[CIFCurve] = []
    for cause, cause_label in zip(causes, cause_labels, strict=True):
        for gi, lab in enumerate(labels):
            sel = g_sorted == gi
            tt = t_sorted[sel]
            ee = e_sorted[sel]
            x, est, v = _cif_one(tt, ee != data.censor_code, ee == cause)
            curves.append(CIFCurve(group=lab, cause=cause_label, time=x, est=est, var=v))
    tests = _gray(data, causes, cause_labels, order, rho) if data.group.n_levels > 1 else None
    return CumulativeIncidenceResult(
        curves=tuple(curves), groups=labels, causes=cause_labels, n=data.n, tests=tests,
        n_dropped=n_dropped,
    )
