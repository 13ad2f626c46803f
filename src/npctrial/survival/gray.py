"""Gray's k-sample test for cumulative incidence functions (``cmprsk::cuminc`` ``Tests``).

Gray RJ, A class of K-sample tests for comparing the cumulative incidence of a competing
risk, Ann Stat 1988;16:1141-54; cmprsk ``crstm.f``. cmprsk runs one Fortran pass over the
sorted times; here the pass is written as cumulative sums over the distinct times (one sort
plus O(n G^2) array work for G groups, in chunks of times so memory stays bounded).

Beyond ``domain/statistics.md`` section 8 (from cmprsk 2.2-11 ``R/cmprsk.R``): Gray's statistic
is ``s' V^-1 s`` only when V has full rank, otherwise cmprsk reports -1 (kept here, with a
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
from npctrial.frozen import FrozenResult
from npctrial.survival._competing_input import Cause, validate_competing
from npctrial.survival.data import SurvivalData

__all__ = ["GrayTestResult", "gray_test"]


# --------------------------------------------------------------------------------------------
# Gray's test (cmprsk crstm.f)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrayTestResult(FrozenResult):
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
    data, causes, labels = validate_competing(time, event, group, strata, censor_code, na_action)
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
