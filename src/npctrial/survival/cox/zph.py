"""Test of proportional hazards as R's ``cox.zph`` (survival >= 3.0; Therneau & Grambsch 2000, 6.2).

Algorithm (R ``cox.zph.R`` and ``zph1.c``):

1. Transform time: "km" g(t) = 1 - KM(t-) (unweighted Kaplan-Meier of all rows, no strata,
   left-continuous), "identity" t, "rank" rank(t), "log" log(t); centre g by its mean over the events.
2. At the fitted beta, score test for adding the time-varying terms x * g(t): the extra score is
   U_g = sum over events of w (x_i - xbar) g(t_i) (Efron: xbar averaged over the tie terms and each
   term weighted w_D/d), and the (2p x 2p) information of (x, x g) is the fit's information with
   the per-term blocks multiplied by 1, g, g^2.
   An exact-ties fit uses the Breslow formulae at its own beta (zph1.c's method flag is Efron only
   for ``ties="efron"``).
3. For each term (all columns of a factor together): chi2 = u' I_sub^-1 u with u = (0_p, U_g[term])
   and I_sub the rows/columns (1..p, p + term); df = number of columns. GLOBAL uses all p.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.cox.products import weighted_cross
from npctrial.survival.cox.residuals import schoenfeld_residuals
from npctrial.survival.distributions import chi2_sf

if TYPE_CHECKING:
    from npctrial.survival.cox.context import CoxFitContext

__all__ = ["CoxZphResult", "compute_zph", "plot_zph"]

TRANSFORMS = ("km", "identity", "rank", "log")


@dataclass(frozen=True)
class CoxZphResult(FrozenResult):
    """Per-term and GLOBAL proportional-hazards tests, with the residuals to plot (``table``: a
    copy on each access)."""

    _table: pd.DataFrame  # index: terms + "GLOBAL"; columns chisq, df, p
    transform: str
    x: np.ndarray  # transformed event times (in Schoenfeld row order)
    time: np.ndarray  # event times
    y: np.ndarray  # scaled Schoenfeld residuals (events x coefficients)
    names: tuple[str, ...]
    coef: np.ndarray  # the fitted coefficients (the level of y under proportional hazards)
    terms: dict[str, tuple[int, ...]]  # term -> columns of y

    @property
    def table(self) -> pd.DataFrame:
        """chisq, df, p per term and GLOBAL (R's ``cox.zph(fit)$table``)."""
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self._table.copy()

    def summary(self) -> str:
        return self._table.to_string(float_format=lambda v: f"{v:.4g}")


def _km_left(time: np.ndarray, status: np.ndarray, entry: np.ndarray | None) -> np.ndarray:
    """1 - KM(t-) at each row's time (unweighted, all rows pooled)."""
    ut = np.unique(time[status == 1])
    stop_sorted = np.sort(time)
    n_risk = len(time) - np.searchsorted(stop_sorted, ut, side="left")
    if entry is not None:
        n_risk = n_risk - (len(entry) - np.searchsorted(np.sort(entry), ut, side="left"))
    d = np.bincount(np.searchsorted(ut, time[status == 1]), minlength=len(ut))
    surv = np.cumprod(1.0 - d / n_risk)
    idx = np.searchsorted(ut, time, side="left")  # number of event times strictly < t
    return 1.0 - np.concatenate([[1.0], surv])[idx]


def compute_zph(ctx: CoxFitContext, coef: np.ndarray, var: np.ndarray, transform: str = "km") -> CoxZphResult:
    """cox.zph for a fit (its context, coefficients and model-based variance; steps in the
    module docstring)."""
    if transform not in TRANSFORMS:
        raise ValidationError(f"transform must be one of {TRANSFORMS}, got {transform!r}", field="transform")
    lay = ctx.layout
    d = ctx.design
    time_s = lay.time_s
    status_s = lay.status_s
    if transform == "km":
        entry_s = None if lay.entry_s is None else lay.entry_s
        tt = _km_left(time_s, status_s, entry_s)
    elif transform == "identity":
        tt = time_s.astype(float)
    elif transform == "rank":
        from scipy.stats import rankdata  # only cox.zph needs scipy.stats: imported on use

        tt = rankdata(time_s)
    else:
        tt = np.log(time_s)
    g_row = tt - tt[status_s == 1].mean()
    dr = lay.death_rows
    g_grp = g_row[dr[lay.death_grp_start]]

    state = ctx.state(coef)
    x = ctx.x_centred
    p = x.shape[1]
    gk = g_grp[lay.exp_group]
    c = lay.exp_c
    w = lay.weights_s
    u_g = (w[dr] * g_row[dr]) @ x[dr] - lay.xbar_sums(state, c * gk).sum(axis=0)
    rw = w * state.risk
    blocks = []
    for m in range(3):
        hm = state.hazard * gk**m
        lam = lay.cumulative(np.bincount(lay.exp_group, weights=hm, minlength=lay.n_groups))
        lam[dr] -= np.bincount(lay.exp_group, weights=lay.exp_frac * hm, minlength=lay.n_groups)[lay.death_group]
        blocks.append(weighted_cross(x, rw, lam) - lay.xbar_outer(state, g_grp**m))
    imat = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    imat = (imat + imat.T) / 2

    rows, chisq, dfs = [], [], []
    for term, cols in d.terms.items():
        kk = list(range(p)) + [p + j for j in cols]
        u = np.concatenate([np.zeros(p), u_g[list(cols)]])
        chisq.append(float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u)))
        dfs.append(len(cols))
        rows.append(term)
    u = np.concatenate([np.zeros(p), u_g])
    chisq.append(float(u @ np.linalg.solve(imat, u)))
    dfs.append(p)
    rows.append("GLOBAL")
    table = pd.DataFrame({"chisq": chisq, "df": dfs, "p": chi2_sf(chisq, dfs)}, index=pd.Index(rows))
    y = coef + schoenfeld_residuals(lay, state, x) @ var * d.n_events
    return CoxZphResult(_table=table, transform=transform, x=tt[dr], time=time_s[dr], y=y, names=d.names,
                        coef=coef, terms=dict(d.terms))


def plot_zph(z: CoxZphResult, term: str | None = None, ax: Any = None) -> Any:
    """Scaled Schoenfeld residuals of one coefficient against transformed time, with a binned mean
    and the fitted coefficient (a horizontal line under proportional hazards). Returns the Axes."""
    import matplotlib.pyplot as plt

    name = term if term is not None else z.names[0]
    if name not in z.names:
        raise ValidationError(f"term must be one of {z.names}, got {name!r}", field="term")
    j = z.names.index(name)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    order = np.argsort(z.x, kind="stable")
    xs, ys = z.x[order], z.y[order, j]
    ax.scatter(xs, ys, s=8, alpha=0.5, color="0.4")
    nb = max(2, min(10, len(xs) // 10))
    edges = np.quantile(xs, np.linspace(0, 1, nb + 1))
    mids, means = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        sel = (xs >= a) & (xs <= b)
        if sel.any():
            mids.append(xs[sel].mean())
            means.append(ys[sel].mean())
    ax.plot(mids, means, color="C0", lw=2, label="binned mean")
    ax.axhline(z.coef[j], color="C3", ls="--", lw=1, label="coef")
    ax.set_xlabel(f"time ({z.transform} scale)")
    ax.set_ylabel(f"Beta(t) for {name}")
    p = z._table["p"].iloc[[list(z.terms).index(t) for t in z.terms if j in z.terms[t]][0]]
    ax.set_title(f"Schoenfeld residuals: {name} (zph p = {p:.3g})")
    ax.legend(frameon=False)
    return ax
