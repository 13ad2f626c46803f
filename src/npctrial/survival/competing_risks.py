"""Cumulative incidence with Gray's variance, and Gray's k-sample test (``cmprsk::cuminc``).

``cumulative_incidence`` returns, per group and cause, the Aalen-Johansen cumulative incidence
function (CIF) as the step function ``cmprsk::cuminc`` returns (corner points, starting at 0)
with cmprsk's (Aalen-type, Gray 1988 delta-method) variance. ``gray_test`` compares the CIF
of one cause across groups (Gray RJ, Ann Stat 1988;16:1141-54), stratified if asked.

cmprsk runs these in Fortran loops (``cincsub.f``, ``crstm.f``); here both are written as
cumulative sums over the sorted distinct times, so the cost is one sort plus O(n) work
(O(n * G^3) for G groups in Gray's test).

Beyond ``domain/statistics.md`` section 8 (from cmprsk 2.2-11 ``R/cmprsk.R``): groups are the
sorted factor levels, causes the sorted distinct non-censoring codes; Gray's statistic is
``s' V^-1 s`` only when V has full rank, otherwise cmprsk reports -1 (kept here, with a
:class:`~npctrial.errors.StatisticalWarning` and p = NaN instead of R's 1 - pchisq(-1)).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.survival.data import Factor, SurvivalData, as_float_array

__all__ = [
    "CIFCurve",
    "CumulativeIncidenceResult",
    "GrayTestResult",
    "cumulative_incidence",
    "gray_test",
]


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


Cause = int | str


def _event_codes(event: Any, censor_code: Cause) -> tuple[Any, int, tuple[int, ...], tuple[Cause, ...]]:
    """Integer event codes for SurvivalData, and the causes as the user wrote them.

    Numeric events are used as they are (integer codes; causes are the sorted distinct values
    other than ``censor_code``, as cmprsk). Text or categorical events (``"relapse"``,
    ``"death"``, ``"censored"``) are mapped to 1..K in level order (categorical order, else
    sorted), ``censor_code`` (a label then) to 0, as R's factor ``fstatus``.
    """
    is_text = isinstance(getattr(event, "dtype", None), pd.CategoricalDtype) or (
        np.asarray(event).dtype.kind in "OUS"
        and pd.api.types.infer_dtype(pd.Series(np.asarray(event, dtype=object)), skipna=True)
        in ("string", "categorical", "mixed")
    )
    if not is_text:
        ev = as_float_array(event, "event")
        ok = np.isfinite(ev)
        bad = ok & (ev != np.round(np.where(ok, ev, 0.0)))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValidationError(
                f"event must hold integer codes; row {pos} is {ev[pos]!r}", field="event", row=pos
            )
        if not isinstance(censor_code, int | np.integer):
            raise ValidationError(
                f"censor_code must be an integer code for numeric events, got {censor_code!r}",
                field="censor_code",
            )
        causes = tuple(int(c) for c in np.unique(ev[ok]) if int(c) != int(censor_code))
        return event, int(censor_code), causes, causes
    series = pd.Series(event)
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [lv for lv in series.cat.categories if (series == lv).any()]
    else:
        levels = sorted({str(v) for v in series.dropna()})
    if not isinstance(censor_code, str):
        raise ValidationError(
            f"event holds labels {levels!r}: censor_code must be the censoring label, "
            f"got {censor_code!r}",
            field="censor_code",
        )
    labels = tuple(str(lv) for lv in levels if str(lv) != censor_code)
    mapping = {lab: i + 1 for i, lab in enumerate(labels)}
    mapping[censor_code] = 0
    codes = series.map(lambda v: np.nan if pd.isna(v) else mapping[str(v)]).astype(float)
    return codes.to_numpy(), 0, tuple(range(1, len(labels) + 1)), labels


def _validate(
    time: Any, event: Any, group: Any, strata: Any, censor_code: Cause, na_action: str = "raise"
) -> tuple[SurvivalData, tuple[int, ...], tuple[Cause, ...]]:
    """Validate into a SurvivalData whose event codes are (censor code, *cause codes).

    Returns the data, the integer cause codes in ``data.event`` and the causes as the user
    wrote them. Rows with a missing value raise (naming the row) unless ``na_action="drop"``,
    which drops them as cmprsk's ``na.omit`` and records how many in ``n_dropped``."""
    codes_in, cens, causes, labels = _event_codes(event, censor_code)
    if not causes:
        raise ValidationError(
            f"event has no value other than the censoring code {censor_code!r}", field="event"
        )
    data = SurvivalData.from_arrays(
        time,
        codes_in,
        group=group,
        strata=strata,
        event_codes=(cens, *causes),
        na_action=na_action,  # type: ignore[arg-type]
    )
    return data, causes, labels


# --------------------------------------------------------------------------------------------
# cumulative incidence (cmprsk cincsub.f)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CIFCurve:
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
class CumulativeIncidenceResult:
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
        from npctrial.survival.plotting import plot_survival

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
# Gray's test (cmprsk crstm.f)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's k-sample test per cause: ``statistic``, ``df``, ``p`` (as cmprsk's ``Tests``).

    ``score`` and ``variance`` are the score vector and its covariance over groups 1..G-1 (summed
    over strata). A singular variance gives statistic -1 and p NaN, as cmprsk.
    """

    causes: tuple[Cause, ...]
    statistic: np.ndarray
    df: np.ndarray
    p: np.ndarray
    groups: tuple[str, ...]
    rho: float
    score: tuple[np.ndarray, ...]
    variance: tuple[np.ndarray, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"cause": list(self.causes), "stat": self.statistic, "pv": self.p, "df": self.df}
        ).set_index("cause")

    def summary(self, *, header: bool = True) -> str:
        lines = ["Gray's test for equality of cumulative incidence functions"] if header else []
        lines.append(f"{'':>6}{'stat':>14}{'pv':>14}{'df':>4}")
        for c, s, p, d in zip(self.causes, self.statistic, self.p, self.df, strict=True):
            lines.append(f"{c!s:>6}{s:>14.6g}{p:>14.6g}{int(d):>4}")
        return "\n".join(lines)


def _weighted_gram(b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum over t and k of b[t, i, k] b[t, j, k] w[t, k], as one matrix product."""
    x = b.transpose(1, 0, 2).reshape(b.shape[1], -1)
    y = (b * w[:, None, :]).transpose(1, 0, 2).reshape(b.shape[1], -1)
    return y @ x.T


def _gray_stratum(
    time: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int, rho: float, chunk: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """Score (ng-1) and its variance (ng-1 x ng-1) of Gray's test in one stratum.

    ``time`` sorted; ``m`` 0 censored, 1 the cause of interest, 2 another cause; ``g`` group
    codes 0..ng-1. Steps (Gray 1988 section 2; cmprsk ``crst``, vectorised over time):
      1. per distinct time and group: at risk r_g, counts d_{1g}, d_{2g};
      2. group KM S_g (left limit S_g-) and CIF F_g (left limit F_g-), skipping groups with
         nobody at risk; pooled F(t) = F(t-) + d_1 / sum_g r_g/S_g-;
      3. weights fb = (1 - F(t-))^rho; matrices a(t) (projection) and their cumulative sum
         c(t) = sum a(u) d_1(u) / (tr(u) (1 - F(u-)));
      4. score s_g = sum fb (d_{1g} - d_1 R_g / sum R), R_g = r_g (1 - F_g-)/S_g-;
      5. variance: sums over times of the cause-1 and cause-2 terms with the running c, then
         the closing sums with the final c (the v3/v2 terms), exactly as crstm.f.
    """
    ng1 = ng - 1
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    nt = starts.shape[0]
    tid = np.repeat(np.arange(nt), np.diff(np.r_[starts, time.shape[0]]))
    counts = np.bincount((m * nt + tid) * ng + g, minlength=3 * nt * ng).reshape(3, nt, ng)
    counts = counts.astype(np.float64)
    d0, d1g, d2g = counts[0], counts[1], counts[2]
    leave = d0 + d1g + d2g
    total_g = leave.sum(axis=0)
    rs = total_g[None, :] - np.vstack([np.zeros((1, ng)), np.cumsum(leave, axis=0)[:-1]])
    nd1 = d1g.sum(axis=1)
    nd2 = d2g.sum(axis=1)
    active = (nd1 > 0) | (nd2 > 0)
    # keep only times with an event (crst skips the others entirely)
    rs, d1g, d2g, nd1, nd2 = rs[active], d1g[active], d2g[active], nd1[active], nd2[active]
    pos = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        fac = np.where(pos, (rs - d1g - d2g) / np.where(pos, rs, 1.0), 1.0)
    skm = np.cumprod(fac, axis=0)
    skmm = np.vstack([np.ones((1, ng)), skm[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(pos, skmm * d1g / np.where(pos, rs, 1.0), 0.0)
    f1 = np.cumsum(inc, axis=0)
    f1m = np.vstack([np.zeros((1, ng)), f1[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(pos, rs / skmm, 0.0)
    tr = t1.sum(axis=1)
    tq = (t1 * (1.0 - f1m)).sum(axis=1)
    f = np.cumsum(nd1 / tr)
    fm = np.r_[0.0, f[:-1]]
    fb = (1.0 - fm) ** rho

    with np.errstate(divide="ignore", invalid="ignore"):
        cw = np.where(nd1 > 0, nd1 / (tr * (1.0 - fm)), 0.0)
        s_terms = np.where(
            pos[:, :ng1],
            fb[:, None] * (d1g[:, :ng1] - nd1[:, None] * t1[:, :ng1] * (1.0 - f1m[:, :ng1]) / tq[:, None]),
            0.0,
        )
    score = s_terms.sum(axis=0)

    # per-time factors of the cause-1 terms (times with nd1 > 0, groups with someone at risk)
    e1 = (nd1 > 0)[:, None] & pos
    with np.errstate(divide="ignore", invalid="ignore"):
        t4 = np.where(skm > 0, 1.0 - (1.0 - f[:, None]) / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0), 1.0)
        t3 = np.where(e1, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
    t4 = np.where(e1, t4, 0.0)
    # ... and of the cause-2 terms (groups with someone event-free and a cause-2 event)
    e2 = (skm > 0) & (d2g > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t4b = np.where(e2, (1.0 - f[:, None]) / skm, 0.0)
        t5b = np.where(d2g > 1, 1.0 - (d2g - 1.0) / (rs - 1.0), 1.0)
        t3b = np.where(e2, t5b * skmm * skmm * d2g / (rs * rs), 0.0)
    v3 = (t4 * t4 * t3).sum(axis=0) + (t4b * t4b * t3b).sum(axis=0)

    # the ng x ng matrices a(t) and their running sum c(t), in chunks of times so memory stays
    # O(chunk * ng^2); c carries over from one chunk to the next
    v = np.zeros((ng1, ng1))
    v2 = np.zeros((ng1, ng))
    c_run = np.zeros((ng, ng))
    idx = np.arange(ng)
    for lo in range(0, tr.shape[0], chunk):
        sl = slice(lo, lo + chunk)
        # a(i,j): diagonal fb t1 (1 - t1/tr); off-diagonal -fb t1_i t1_j / tr (0 if either empty)
        t1c, trc, fbc = t1[sl], tr[sl], fb[sl]
        a = -fbc[:, None, None] * (t1c[:, :, None] * t1c[:, None, :]) / trc[:, None, None]
        a[:, idx, idx] = fbc[:, None] * t1c * (1.0 - t1c / trc[:, None])
        c = c_run + np.cumsum(a * cw[sl, None, None], axis=0)
        c_run = c[-1]
        # cause 1: T1[t, i, k] = a(i,k) - t4_k c(i,k), i < ng1
        big_t1 = a[:, :ng1, :] - t4[sl, None, :] * c[:, :ng1, :]
        v2 += (big_t1 * (t4[sl] * t3[sl])[:, None, :]).sum(axis=0)
        v += _weighted_gram(big_t1, t3[sl])
        # cause 2
        ct = t4b[sl, None, :] * c[:, :ng1, :]
        v2 -= (ct * (t4b[sl] * t3b[sl])[:, None, :]).sum(axis=0)
        v += _weighted_gram(ct, t3b[sl])
    # closing terms with the final c
    cf = c_run[:ng1, :]
    v += (cf * v3[None, :]) @ cf.T + cf @ v2.T + v2 @ cf.T
    return score, v


def _gray(
    data: SurvivalData,
    causes: tuple[int, ...],
    labels: tuple[Cause, ...],
    order: np.ndarray,
    rho: float,
) -> GrayTestResult:
    assert data.group is not None
    ng = data.group.n_levels
    time = data.time[order]
    event = data.event[order]
    g = data.group.codes[order]
    st = data.strata.codes[order] if data.strata is not None else np.zeros(time.shape[0], np.int64)
    nst = int(st.max()) + 1
    stat, pv, scores, variances = [], [], [], []
    for cause in causes:
        m = np.where(event == data.censor_code, 0, np.where(event == cause, 1, 2))
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for k in range(nst):
            sel = st == k
            if not sel.any():
                continue
            sk, vk = _gray_stratum(time[sel], m[sel], g[sel], ng, rho)
            s += sk
            v += vk
        # cmprsk: qr(v); statistic only when of full rank, else -1
        rank = np.linalg.matrix_rank(v)
        if rank == ng - 1:
            x = float(s @ np.linalg.solve(v, s))
            p = float(stats.chi2.sf(x, ng - 1))
        else:
            x, p = -1.0, float("nan")
        stat.append(x)
        pv.append(p)
        scores.append(s)
        variances.append(v)
    singular = [c for c, x in zip(labels, stat, strict=True) if x < 0]
    if singular:
        warnings.warn(
            f"Gray's test variance is singular for cause(s) {singular}: statistic set to -1 as "
            "cmprsk, p-value NaN",
            StatisticalWarning,
            stacklevel=3,
        )
    return GrayTestResult(
        causes=labels,
        statistic=np.asarray(stat),
        df=np.full(len(causes), ng - 1, dtype=np.int64),
        p=np.asarray(pv),
        groups=data.group.labels,
        rho=rho,
        score=tuple(scores),
        variance=tuple(variances),
    )


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
    data, causes, cause_labels = _validate(time, event, group, strata, censor_code, na_action)
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


def gray_test(
    time: Any,
    event: Any,
    group: Any,
    *,
    strata: Any = None,
    cause: Cause | Sequence[Cause] | None = None,
    censor_code: Cause = 0,
    rho: float = 0.0,
    na_action: str = "raise",
) -> GrayTestResult:
    """Gray's test that the cumulative incidence of a cause is equal across groups.

    Returns statistic, df (= groups - 1) and p per cause (all causes by default, or those in
    ``cause``), as the ``Tests`` of ``cmprsk::cuminc``; ``strata`` sum the score and variance
    over strata. O(n log n): one sort, then cumulative sums (see :func:`_gray_stratum`).
    """
    data, causes, labels = _validate(time, event, group, strata, censor_code, na_action)
    assert data.group is not None
    if data.group.n_levels < 2:
        raise ValidationError("group must have at least two levels for Gray's test", field="group")
    if cause is not None:
        wanted = (
            [cause] if isinstance(cause, int | np.integer | str) else list(cause)  # type: ignore[list-item]
        )
        bad = [c for c in wanted if c not in labels]
        if bad:
            raise ValidationError(
                f"cause {bad[0]!r} does not occur in event (causes present: {list(labels)})",
                field="cause",
            )
        pick = [labels.index(c) for c in wanted]
        causes = tuple(causes[i] for i in pick)
        labels = tuple(labels[i] for i in pick)
    order = np.argsort(data.time, kind="stable")
    return _gray(data, causes, labels, order, rho)
