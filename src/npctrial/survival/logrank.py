"""Log-rank family: log-rank, Peto-Peto, Fleming-Harrington G(rho, gamma), stratified, trend.

Algorithm (R survival 3.5 ``survdiff`` / ``survdiff2.c``; Fleming & Harrington 1991 ch. 7):
  1. merge nearly equal times (R ``timefix``); within each stratum, at every distinct event
     time t_j count n_kj at risk and d_kj events per group k (n_j, d_j pooled);
  2. weights w_j = S(t_j-)^rho (1 - S(t_j-))^gamma, S the pooled left-continuous Kaplan-Meier of
     the stratum (rho = 0, gamma = 0: log-rank; rho = 1: R's Peto-Peto);
  3. O_k = sum w_j d_kj, E_k = sum w_j d_j n_kj / n_j,
     V_kl = sum w_j^2 d_j (n_j - d_j)/(n_j - 1) (n_kj/n_j)(delta_kl - n_lj/n_j) (n_j = 1 skipped);
  4. stratified: O, E, V summed over strata;
  5. chi^2 = (O - E)' V^- (O - E) over the groups with E_k > 0, dropping the first of them;
     df = #(E_k > 0) - 1; p = P(chi^2_df > chi^2). Trend over ordered groups with scores c:
     chi^2_1 = (c'(O - E))^2 / (c' V c).
Pairwise comparisons refit the test on each pair of groups (within the same strata) and adjust
the p-values (Holm 1979 step-down, or Bonferroni).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from npctrial.errors import StatisticalWarning, ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.data import Factor, SurvivalData
from npctrial.survival.distributions import chi2_sf
from npctrial.survival.grouping import as_survival_data
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.survival.risk_sets import group_masks, grouped_risk_table, take_rows
from npctrial.survival.sorted_runs import TimefixMap, timefix_map
from npctrial.validation import check_positive

__all__ = ["LogRankResult", "PairwiseLogRankResult", "logrank_test", "pairwise_logrank"]


@dataclass(frozen=True)
class LogRankResult(FrozenResult):
    """R ``survdiff`` output (weighted by S(t-)^rho (1-S(t-))^gamma)."""

    groups: tuple[str, ...]
    n: np.ndarray
    obs: np.ndarray
    exp: np.ndarray
    var: np.ndarray
    chisq: float
    df: int
    p: float
    rho: float = 0.0
    gamma: float = 0.0
    trend: bool = False
    scores: np.ndarray | None = None
    strata: tuple[str, ...] | None = None
    obs_by_stratum: np.ndarray | None = None
    exp_by_stratum: np.ndarray | None = None
    n_dropped: int = 0

    @property
    def test_name(self) -> str:
        if self.trend:
            base = "test for trend"
        elif self.rho == 0 and self.gamma == 0:
            base = "log-rank test"
        elif self.rho == 1 and self.gamma == 0:
            base = "Peto-Peto test"
        else:
            base = f"Fleming-Harrington G({self.rho:g}, {self.gamma:g}) test"
        return ("stratified " + base) if self.strata else base

    def to_frame(self) -> pd.DataFrame:
        """Per group: N, observed, expected, (O-E)^2/E, (O-E)^2/V as R's print.survdiff."""
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = self.obs - self.exp
            return pd.DataFrame(
                {
                    "n": self.n,
                    "observed": self.obs,
                    "expected": self.exp,
                    "(O-E)^2/E": diff**2 / self.exp,
                    "(O-E)^2/V": diff**2 / np.diag(self.var),
                },
                index=list(self.groups),
            )

    def summary(self) -> str:
        name = self.test_name
        lines = [name[0].upper() + name[1:]]
        tab = self.to_frame()
        lines.append(f"{'':<20}{'N':>8}{'Observed':>12}{'Expected':>12}{'(O-E)^2/E':>12}{'(O-E)^2/V':>12}")
        for label, r in tab.iterrows():
            lines.append(
                f"{str(label):<20}{r['n']:>8.0f}{r['observed']:>12.4g}{r['expected']:>12.4g}"
                f"{r['(O-E)^2/E']:>12.4g}{r['(O-E)^2/V']:>12.4g}"
            )
        lines.append(f"\n Chisq= {self.chisq:.4g}  on {self.df} degrees of freedom, p= {self.p:.3g}")
        if self.n_dropped:
            lines.append(f"  ({self.n_dropped} observations deleted due to missingness)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class PairwiseLogRankResult(FrozenResult):
    """Pairwise tests between groups with adjusted p-values (``table``: a copy on each access)."""

    _table: pd.DataFrame
    adjust: str

    @property
    def table(self) -> pd.DataFrame:
        """group1, group2, chisq, df, p, p_adjusted: one row per pair."""
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self._table.copy()

    def summary(self) -> str:
        head = f"Pairwise comparisons (p-value adjustment: {self.adjust})"
        return head + "\n" + self._table.to_string(index=False, float_format=lambda x: f"{x:.4g}")

    def __str__(self) -> str:
        return self.summary()


def _stratum_statistics(
    time: np.ndarray,
    status: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    rho: float,
    gamma: float,
    timefix: bool,
    fix: TimefixMap | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1-3 for one stratum: (obs, exp, var)."""
    rt = grouped_risk_table(time, status, codes, n_groups, timefix=timefix, fix=fix)
    nk, dk = rt.n_risk, rt.n_event
    n = nk.sum(axis=0)
    d = dk.sum(axis=0)
    frac = np.divide(nk, n, out=nk)  # (G, J); the table is ours, reuse its buffer
    # f = w^2 d (n - d) / (n - 1), 0 where n = 1
    f = np.subtract(n, d)
    np.multiply(f, d, out=f)
    n1 = np.subtract(n, 1.0, out=n)
    np.divide(f, n1, out=f, where=n1 > 0)
    f[n1 <= 0] = 0.0
    if rho == 0 and gamma == 0:
        obs = dk.sum(axis=1)
        exp = frac @ d
    else:
        s_after = np.cumprod(1.0 - d / (n1 + 1.0))
        s_before = np.concatenate([[1.0], s_after[:-1]])
        w = s_before**rho * (1.0 - s_before) ** gamma
        obs = dk @ w
        exp = frac @ (w * d)
        f *= w**2
    var = np.diag(frac @ f) - (frac * f) @ frac.T
    return obs, exp, var


def _chisq(obs: np.ndarray, exp: np.ndarray, var: np.ndarray) -> tuple[float, int]:
    """Step 5: generalised-inverse quadratic form over the groups with E > 0, first dropped."""
    keep = np.flatnonzero(exp > 0)
    df = int(keep.shape[0]) - 1
    if df < 1:
        return 0.0, max(df, 0)
    idx = keep[1:]
    u = (obs - exp)[idx]
    v = var[np.ix_(idx, idx)]
    try:
        x = np.linalg.solve(v, u)
    except np.linalg.LinAlgError:
        # R's survdiff stops here (solve on a singular matrix); use the generalised inverse
        warnings.warn(
            "the variance matrix of O - E is singular; chisq uses its generalised inverse",
            StatisticalWarning,
            stacklevel=3,
        )
        x = np.linalg.pinv(v) @ u
    return float(u @ x), df


def _check_weights(rho: float, gamma: float) -> None:
    """Raise ValidationError unless rho and gamma are finite numbers >= 0."""
    check_positive(rho, "rho", allow_zero=True)
    check_positive(gamma, "gamma", allow_zero=True)


@without_huge_page_hint
def logrank_test(
    time: Any,
    event: Any = None,
    group: Any = None,
    *,
    strata: Any = None,
    rho: float = 0.0,
    gamma: float = 0.0,
    trend: bool = False,
    scores: Sequence[float] | None = None,
    status_coding: str = "standard",
    na_action: str = "raise",
    timefix: bool = True,
) -> LogRankResult:
    """Compare survival between groups (R ``survdiff(Surv(time, event) ~ group + strata(s), rho=)``).

    ``rho=1`` is R's Peto-Peto test; ``gamma`` > 0 gives Fleming-Harrington G(rho, gamma)
    (weights emphasising late differences). ``trend=True`` tests for a trend over the ordered
    groups with ``scores`` (default 1..K in level order). ``time`` may be a SurvivalData
    carrying ``group`` (and ``strata``).
    """
    _check_weights(rho, gamma)
    data = as_survival_data(
        time, event, group=group, strata=strata, status_coding=status_coding, na_action=na_action
    )
    _check_two_groups(data)
    return _logrank(data, rho=rho, gamma=gamma, trend=trend, scores=scores, timefix=timefix)


def _check_two_groups(data: SurvivalData) -> None:
    """A comparison needs a group with at least two levels (R survdiff: "There is only 1 group")."""
    if data.group is None:
        raise ValidationError("group is required for a log-rank test", field="group")
    if data.group.n_levels < 2:
        only = data.group.strata_labels[0] if data.group.n_levels else "none"
        raise ValidationError(f"There is only 1 group ({only}): a log-rank test compares two or more groups",
                              field="group")


def _logrank(
    data: SurvivalData,
    *,
    rho: float,
    gamma: float,
    trend: bool,
    scores: Sequence[float] | None,
    timefix: bool,
) -> LogRankResult:
    g = data.group
    assert g is not None
    k = g.n_levels
    t = data.time
    s: Factor | None = data.strata
    fix: TimefixMap | None = None
    if timefix and s is not None:
        # R's timefix is pooled over all strata; without strata the one stratum is the pool
        fix = timefix_map(np.unique(t))
    status = data.status
    n_strata = 1 if s is None else s.n_levels
    obs_s = np.zeros((k, n_strata))
    exp_s = np.zeros((k, n_strata))
    var = np.zeros((k, k))
    masks = [None] if s is None else group_masks(s.codes, n_strata)
    for i, m in enumerate(masks):
        o, e, v = _stratum_statistics(
            take_rows(t, m),  # type: ignore[arg-type]
            take_rows(status, m),  # type: ignore[arg-type]
            take_rows(g.codes, m),  # type: ignore[arg-type]
            k,
            rho,
            gamma,
            timefix and s is None,
            fix,
        )
        obs_s[:, i], exp_s[:, i] = o, e
        var += v
    obs, exp = obs_s.sum(axis=1), exp_s.sum(axis=1)
    sc: np.ndarray | None = None
    if trend:
        sc = np.arange(1.0, k + 1) if scores is None else np.asarray(scores, dtype=np.float64)
        if sc.shape != (k,) or not np.all(np.isfinite(sc)):
            raise ValidationError(
                f"scores must be {k} finite numbers (one per group), got {scores!r}", field="scores"
            )
        num = float(sc @ (obs - exp))
        den = float(sc @ var @ sc)
        chisq, df = (num**2 / den if den > 0 else 0.0), 1
    else:
        chisq, df = _chisq(obs, exp, var)
    p = float(chi2_sf(chisq, df)) if df > 0 else float("nan")
    return LogRankResult(
        groups=g.strata_labels,
        n=g.counts().astype(np.float64),
        obs=obs,
        exp=exp,
        var=var,
        chisq=float(chisq),
        df=df,
        p=p,
        rho=float(rho),
        gamma=float(gamma),
        trend=trend,
        scores=sc,
        strata=None if s is None else s.strata_labels,
        obs_by_stratum=None if s is None else obs_s,
        exp_by_stratum=None if s is None else exp_s,
        n_dropped=data.n_dropped,
    )


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """R ``p.adjust`` for "holm", "bonferroni" and "none"."""
    p = np.asarray(p, dtype=np.float64)
    m = p.shape[0]
    if method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    if method == "holm":
        order = np.argsort(p, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
        out = np.empty(m)
        out[order] = np.minimum(1.0, adj)
        return out
    raise ValidationError(
        f"adjust must be 'holm', 'bonferroni' or 'none', got {method!r}", field="adjust"
    )


@without_huge_page_hint
def pairwise_logrank(
    time: Any,
    event: Any = None,
    group: Any = None,
    *,
    strata: Any = None,
    rho: float = 0.0,
    gamma: float = 0.0,
    adjust: Literal["holm", "bonferroni", "none"] = "holm",
    status_coding: str = "standard",
    na_action: str = "raise",
) -> PairwiseLogRankResult:
    """Log-rank (or G(rho, gamma)) test for every pair of groups, p-values adjusted (R p.adjust)."""
    _check_weights(rho, gamma)
    if adjust not in ("holm", "bonferroni", "none"):
        raise ValidationError(
            f"adjust must be 'holm', 'bonferroni' or 'none', got {adjust!r}", field="adjust"
        )
    data = as_survival_data(
        time, event, group=group, strata=strata, status_coding=status_coding, na_action=na_action
    )
    _check_two_groups(data)
    g = data.group
    assert g is not None
    labels = g.strata_labels
    rows = []
    for a, b in combinations(range(g.n_levels), 2):
        sub = data.take(np.flatnonzero((g.codes == a) | (g.codes == b)))
        res = _logrank(sub, rho=rho, gamma=gamma, trend=False, scores=None, timefix=True)
        rows.append({"group1": labels[a], "group2": labels[b], "chisq": res.chisq, "df": res.df, "p": res.p})
    table = pd.DataFrame(rows, columns=["group1", "group2", "chisq", "df", "p"])
    table["p_adjusted"] = adjust_pvalues(table["p"].to_numpy(), adjust) if len(rows) else []
    return PairwiseLogRankResult(_table=table, adjust=adjust)
