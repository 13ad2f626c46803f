"""Exact (discrete conditional) partial likelihood for tied event times, as R's ``ties="exact"``.

Reference: Kalbfleisch & Prentice (2002), sec. 4.2.3; Gail, Lubin & Rubinstein, Biometrika 1981;
behaviour of R survival's ``coxexact``. For a tied group with d events in a risk set R the
likelihood term is

    sum_{i in D} eta_i - log e_d,   e_d = sum_{S subset R, |S| = d} prod_{i in S} r_i,  r_i = e^eta_i.

1. Groups with d = 1 use the closed form (identical to Breslow/Efron): computed vectorised by the
   Breslow kernel of :mod:`.engine`.
2. Groups with d >= 2: e_d is the elementary symmetric polynomial of the risk scores, built one
   member at a time by e_k <- e_k + r e_{k-1}. The recursion is carried in log space with the
   derivatives normalised (step 3), so it neither overflows nor underflows however many deaths
   are tied (R's own recursion overflows beyond about 300 tied deaths: loglik -Inf, NA
   coefficients; this is the one intended divergence).
3. With a_k = e_k / e_k' and b_k = r e_{k-1} / e_k' (a_k + b_k = 1, from log e via logaddexp), the
   normalised gradient G_k = (d e_k / d beta) / e_k and second derivative H_k obey
   G_k' = a_k G_k + b_k (G_{k-1} + x) and H_k' = a_k H_k + b_k (H_{k-1} + x G_{k-1}' + G_{k-1} x' + x x'):
   convex combinations, so rounding stays at machine precision. Only the band of k that can
   still reach d (k >= d - members left) is updated.
4. The group adds -log e_d to the loglik, sum_D x - G_d to U and H_d - G_d G_d' to the information.
5. Case weights and (entry, stop] data are not supported with exact ties (R's coxexact ignores
   weights); they raise a ValidationError upstream.
"""

from __future__ import annotations

import numpy as np

from npctrial.survival.cox.engine import RiskSetLayout
from npctrial.survival.cox.products import weighted_cross

__all__ = ["ExactLayout", "tied_group_terms"]


def tied_group_terms(eta: np.ndarray, x: np.ndarray, d: int) -> tuple[float, np.ndarray, np.ndarray]:
    """log e_d, G_d and H_d (module docstring, steps 2-3) of one risk set (rows ``eta``, ``x``)."""
    n, p = x.shape
    logf = np.full(d + 1, -np.inf)
    logf[0] = 0.0
    g = np.zeros((d + 1, p))
    h = np.zeros((d + 1, p, p))
    xx = np.einsum("ij,ik->ijk", x, x)
    for i in range(n):
        lo, hi = max(1, d - (n - i - 1)), min(i + 1, d)
        if lo > hi:
            continue
        new_k, old_k = slice(lo, hi + 1), slice(lo - 1, hi)
        stay, move = logf[new_k], eta[i] + logf[old_k]
        total = np.logaddexp(stay, move)
        a = np.exp(stay - total)[:, None]
        b = np.exp(move - total)[:, None]
        g_old = g[old_k]
        cross = x[i][None, :, None] * g_old[:, None, :]
        upd = h[old_k] + cross
        upd += cross.transpose(0, 2, 1)
        upd += xx[i]
        h[new_k] = a[:, :, None] * h[new_k] + b[:, :, None] * upd
        g[new_k] = a * g[new_k] + b * (g_old + x[i])
        logf[new_k] = total
    return float(logf[d]), g[d], h[d]


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
        """loglik, score and information at ``beta`` (``x`` and ``offset`` in sorted order)."""
        lay = self.layout
        eta = x @ beta
        if offset is not None:
            eta = eta + offset
        risk = np.exp(eta)
        a0, a1 = lay.risk_sums(risk, x)
        # single-event groups (Breslow = exact when d = 1)
        g1 = np.flatnonzero(self.single)
        xbar = a1[g1] / a0[g1, None]
        dr = lay.death_rows[self.single[lay.death_group]]
        loglik = float(eta[dr].sum() - np.log(a0[g1]).sum())
        score = x[dr].sum(axis=0) - xbar.sum(axis=0)
        grp_h = np.zeros(lay.n_groups)
        grp_h[g1] = 1.0 / a0[g1]
        imat = weighted_cross(x, risk * lay.cumulative(grp_h)) - xbar.T @ xbar
        for rows, dead in self.tied_rows:
            logf, gd, hd = tied_group_terms(eta[rows], x[rows], len(dead))
            loglik += float(eta[dead].sum()) - logf
            score += x[dead].sum(axis=0) - gd
            imat += hd - np.outer(gd, gd)
        return loglik, score, (imat + imat.T) / 2
