"""Exact (discrete conditional) partial likelihood for tied event times, as R's ``ties="exact"``.

Reference: Kalbfleisch & Prentice (2002), sec. 4.2.3; Gail, Lubin & Rubinstein, Biometrika 1981;
R survival ``coxexact.c``. For a tied group with d events in a risk set R the likelihood term is

    sum_{i in D} eta_i - log sum_{S subset R, |S| = d} exp(sum_{i in S} eta_i).

1. Groups with d = 1 use the closed form (identical to Breslow/Efron): computed vectorised by the
   Breslow kernel of :mod:`.engine`.
2. Groups with d >= 2: the elementary symmetric sum f_d of the risk scores r_i = e^eta_i over R is
   built by the recursion f_m[k] = f_{m-1}[k] + r_m f_{m-1}[k-1] (k <= d), with its gradient g and
   Hessian H carried along (product rule); the term adds -log f_d to the loglik, -g/f to U and
   H/f - (g/f)(g/f)' to the information. The recursion loops over the members of each tied risk
   set (exact ties are meant for small data sets, as in R).
3. Case weights and (entry, stop] data are not supported with exact ties (R's coxexact ignores
   weights); they raise a ValidationError upstream.
"""

from __future__ import annotations

import numpy as np

from npctrial.survival.cox.engine import RiskSetLayout, weighted_cross

__all__ = ["ExactLayout"]


class ExactLayout:
    """Exact-likelihood evaluator built on a Breslow :class:`RiskSetLayout`."""

    def __init__(self, layout: RiskSetLayout) -> None:
        self.layout = layout
        lay = layout
        strata_end = {}
        for a, b in zip(lay.block_seg_start, lay.block_seg_end, strict=True):
            s = lay.strata_s[lay.block_start[a]]
            strata_end[int(s)] = int(lay.block_start[b]) if b < len(lay.block_start) else lay.n
        tied = np.flatnonzero(lay.grp_d >= 2)
        self.tied_groups = tied
        self.tied_rows = []
        for g in tied:
            start = int(lay.block_start[lay.grp_block[g]])
            end = strata_end[int(lay.grp_stratum[g])]
            dead = lay.death_rows[lay.death_group == g]
            self.tied_rows.append((np.arange(start, end), dead))
        single = np.ones(lay.n_groups, dtype=bool)
        single[tied] = False
        self.single = single

    def evaluate(self, x: np.ndarray, beta: np.ndarray, offset: np.ndarray | None
                 ) -> tuple[float, np.ndarray, np.ndarray]:
        lay = self.layout
        p = x.shape[1]
        eta = x @ beta
        if offset is not None:
            eta = eta + offset
        risk = np.exp(eta)
        a0, a1 = lay.risk_sums(risk, x)
        # single-event groups (Breslow = exact when d = 1)
        g1 = np.flatnonzero(self.single)
        xbar = a1[g1] / a0[g1, None]
        h = 1.0 / a0[g1]
        dr = lay.death_rows[self.single[lay.death_group]]
        loglik = float(eta[dr].sum() - np.log(a0[g1]).sum())
        score = x[dr].sum(axis=0) - xbar.sum(axis=0)
        grp_h = np.zeros(lay.n_groups)
        grp_h[g1] = h
        lam = lay.cumulative(grp_h)
        imat = weighted_cross(x, risk * lam) - xbar.T @ xbar
        for rows, dead in self.tied_rows:
            d = len(dead)
            f = np.zeros(d + 1)
            f[0] = 1.0
            g = np.zeros((d + 1, p))
            hh = np.zeros((d + 1, p, p))
            for i in rows:
                r = risk[i]
                xi = x[i]
                hh[1:] += r * (hh[:-1] + np.einsum("i,kj->kij", xi, g[:-1]) + np.einsum("ki,j->kij", g[:-1], xi)
                               + f[:-1, None, None] * np.outer(xi, xi)[None])
                g[1:] += r * (g[:-1] + f[:-1, None] * xi[None, :])
                f[1:] += r * f[:-1]
            fd, gd, hd = f[d], g[d], hh[d]
            loglik += float(eta[dead].sum() - np.log(fd))
            score += x[dead].sum(axis=0) - gd / fd
            imat += hd / fd - np.outer(gd, gd) / fd**2
        return loglik, score, (imat + imat.T) / 2
