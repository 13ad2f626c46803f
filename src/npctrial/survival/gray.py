"""Gray's k-sample test for cumulative incidence functions (``cmprsk::cuminc`` ``Tests``).

Gray RJ, A class of K-sample tests for comparing the cumulative incidence of a competing
risk, Ann Stat 1988;16:1141-54: the score of each group and its variance from the score's
martingale representation (see :func:`_gray_stratum`), as cumulative sums over the distinct
times (one sort plus O(n G^2) array work for G groups, in chunks of times so memory stays
bounded); checked against cmprsk 2.2-11's ``cuminc`` tests in ``tests/data/refs``.

As ``cuminc`` reports it (``domain/statistics.md`` section 8): the statistic is ``s' V^-1 s``
only when V has full rank, otherwise -1 (kept here, with a
:class:`~npctrial.errors.StatisticalWarning` and p = NaN instead of R's 1 - pchisq(-1)).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival._competing_input import Cause, validate_competing
from npctrial.survival.data import SurvivalData
from npctrial.survival.distributions import chi2_sf
from npctrial.survival.memory_pages import without_huge_page_hint

__all__ = ["GrayTestResult", "gray_test"]


# --------------------------------------------------------------------------------------------
# Gray's test
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


def _weighted_gram(h: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum over t and k of h[t, i, k] h[t, j, k] w[t, k], as one matrix product."""
    x = h.transpose(1, 0, 2).reshape(h.shape[1], -1)
    return (x * w.reshape(-1)[None, :]) @ x.T


def _per_time(time: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int) -> dict[str, np.ndarray]:
    """Per distinct event time (rows) and group (columns): at risk r, events d1 (the cause) and
    d2 (other causes), the group's all-cause Kaplan-Meier S after the time and S- before it
    (a group with nobody at risk keeps its value), and its CIF of the cause before the time."""
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    nt = starts.shape[0]
    tid = np.repeat(np.arange(nt), np.diff(np.r_[starts, time.shape[0]]))
    counts = np.bincount((m * nt + tid) * ng + g, minlength=3 * nt * ng).reshape(3, nt, ng).astype(np.float64)
    leaving = counts.sum(axis=0)
    r = leaving.sum(axis=0)[None, :] - np.vstack([np.zeros((1, ng)), np.cumsum(leaving, axis=0)[:-1]])
    d1, d2 = counts[1], counts[2]
    event = (d1.sum(axis=1) > 0) | (d2.sum(axis=1) > 0)
    r, d1, d2 = r[event], d1[event], d2[event]
    some = r > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(np.where(some, (r - d1 - d2) / np.where(some, r, 1.0), 1.0), axis=0)
        s_before = np.vstack([np.ones((1, ng)), s[:-1]])
        cif_before = np.vstack([np.zeros((1, ng)), np.cumsum(np.where(some, s_before * d1 / np.where(some, r, 1.0),
                                                                          0.0), axis=0)[:-1]])
    return {"r": r, "d1": d1, "d2": d2, "some": some, "s": s, "s_before": s_before, "cif_before": cif_before}


def _gray_stratum(
    time: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int, rho: float, chunk: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """Score (ng-1) and its variance (ng-1 x ng-1) of Gray's test in one stratum.

    ``time`` sorted; ``m`` 0 censored, 1 the cause of interest, 2 another cause; ``g`` group
    codes 0..ng-1. Gray (1988, sec. 2), in the notation of :func:`_per_time`:

    1. Y_k = r_k / S_k- (the group's risk set for the subdistribution of the cause), Y = sum Y_k;
       the pooled CIF under H0, F = F- + d1 / Y (d1 = sum_k d1_k), and the weight
       L = (1 - F-)^rho. With R_k = Y_k (1 - F_k-): score z_k = sum_t L (d1_k - d1 R_k / sum R).
    2. The variance is that of the score's martingale representation: z is a sum over groups of
       integrals against the group's cause and other-cause counting processes. One event of the
       cause in group k at t changes z_i by h1_ik = A_ik(t) + q1_k(t) T_ik(t) and one event of
       another cause by h2_ik = q2_k(t) T_ik(t), with
       A_ik = L Y_i (delta_ik - Y_k / Y), T(t) = sum_{u > t} A(u) d1(u) / (Y(u) (1 - F(u-))),
       q1_k = 1 - (1 - F) / S_k (1 when S_k = 0) and q2_k = (1 - F) / S_k.
    3. V = sum_t sum_k [w1_k h1 h1' + w2_k h2 h2'], with the variance weights of the increments:
       w1_k = c1 d1 (Y_k / Y) (S_k- / r_k)^2 (the cause's events expected in group k under H0)
       and w2_k = c2 d2_k (S_k- / r_k)^2, where c1 = 1 - (d1 - 1) / (Y S_k- - 1) and
       c2 = 1 - (d2_k - 1) / (r_k - 1) correct for tied events (1 for a single event).
    Sums over times are done in chunks of ``chunk`` times, last chunk first, so the tail sums T
    carry over and memory stays O(chunk ng^2).
    """
    q = _per_time(time, m, g, ng)
    r, d1, d2, some, s, s_before = q["r"], q["d1"], q["d2"], q["some"], q["s"], q["s_before"]
    with np.errstate(divide="ignore", invalid="ignore"):
        y_k = np.where(some, r / s_before, 0.0)
    y = y_k.sum(axis=1)
    d1_all = d1.sum(axis=1)
    pooled = np.cumsum(d1_all / y)
    pooled_before = np.r_[0.0, pooled[:-1]]
    weight = (1.0 - pooled_before) ** rho
    big_r = y_k * (1.0 - q["cif_before"])
    score = (weight[:, None] * (d1 - d1_all[:, None] * big_r / big_r.sum(axis=1)[:, None]))[:, : ng - 1].sum(axis=0)

    with np.errstate(divide="ignore", invalid="ignore"):
        dc = np.where(d1_all > 0, d1_all / (y * (1.0 - pooled_before)), 0.0)  # d1 / (Y (1 - F-))
        cause_ev = (d1_all > 0)[:, None] & some
        q1 = np.where(cause_ev, np.where(s > 0, 1.0 - (1.0 - pooled[:, None]) / s, 1.0), 0.0)
        c1 = np.where(d1_all[:, None] > 1, 1.0 - (d1_all[:, None] - 1.0) / (y[:, None] * s_before - 1.0), 1.0)
        w1 = np.where(cause_ev, c1 * d1_all[:, None] * (y_k / y[:, None]) * (s_before / r) ** 2, 0.0)
        other_ev = (s > 0) & (d2 > 0)
        q2 = np.where(other_ev, (1.0 - pooled[:, None]) / s, 0.0)
        c2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (r - 1.0), 1.0)
        w2 = np.where(other_ev, c2 * d2 * (s_before / r) ** 2, 0.0)
    var = np.zeros((ng - 1, ng - 1))
    tail = np.zeros((ng, ng))  # sum of A d1 / (Y (1 - F-)) over the times after the chunk
    eye = np.eye(ng)
    for hi in range(y.shape[0], 0, -chunk):
        sl = slice(max(0, hi - chunk), hi)
        big_a = weight[sl, None, None] * y_k[sl, :, None] * (eye[None] - (y_k[sl] / y[sl, None])[:, None, :])
        inc = big_a * dc[sl, None, None]
        t_after = tail[None] + np.cumsum(inc[::-1], axis=0)[::-1] - inc  # strictly after each time
        tail = t_after[0] + inc[0]
        h1 = big_a[:, : ng - 1, :] + q1[sl, None, :] * t_after[:, : ng - 1, :]
        h2 = q2[sl, None, :] * t_after[:, : ng - 1, :]
        var += _weighted_gram(h1, w1[sl]) + _weighted_gram(h2, w2[sl])
    return score, var


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
            p = float(chi2_sf(x, ng - 1))
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


@without_huge_page_hint
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
