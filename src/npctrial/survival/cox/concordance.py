"""Harrell's concordance with the infinitesimal-jackknife SE, as R's ``survival::concordance``.

Conventions of ``concordancefit`` (timewt = "n") used by ``coxph`` (``reverse=TRUE``):

1. A pair (i, j) is comparable when i has an event at t_i and j is still at risk after it:
   t_j > t_i, or t_j = t_i with j censored (events precede censorings). Two events at the same
   time are ``tied.y`` (``tied.xy`` when the predictor ties too) and are not comparable.
   With (entry, stop] data j must also have entered before t_i. Only pairs within a stratum count.
2. With ``reverse=True`` (Cox: a higher linear predictor means a shorter survival) the pair is
   concordant when eta_i > eta_j, discordant when eta_i < eta_j, ``tied.x`` when equal.
   Pairs carry the weight w_i w_j.
3. C = (concordant + tied.x / 2) / (concordant + discordant + tied.x).
4. Influence of subject k: the weighted counts of the comparable pairs it belongs to (either role);
   dfbeta_k = w_k [(conc_k - disc_k) - (conc_k + disc_k + tiedx_k) somer] / (2 npair),
   somer = (conc - disc)/npair; var = sum dfbeta^2 after summing within clusters (concordance.R).

Right-censored data: vectorised merge-sort counting, O(n log^2 n) (see ``_pairs_merge``).
(entry, stop] data: blocks of events against all subjects of the stratum, O(n^2) work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from npctrial.survival.cox.engine import group_sum

__all__ = ["Concordance", "compute_concordance"]

_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class Concordance:
    """Harrell's C with the weighted pair counts and its infinitesimal-jackknife SE."""

    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float
    c_index: float
    std_err: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"concordant": self.concordant, "discordant": self.discordant,
                              "tied.x": self.tied_x, "tied.y": self.tied_y, "tied.xy": self.tied_xy,
                              "C": self.c_index, "se(C)": self.std_err}])

    def summary(self) -> str:
        return (f"Concordance= {self.c_index:.4g} (se = {self.std_err:.4g}); concordant {self.concordant:g}, "
                f"discordant {self.discordant:g}, tied.x {self.tied_x:g}, tied.y {self.tied_y:g}, "
                f"tied.xy {self.tied_xy:g}")


def _tied_pairs(keys: list[np.ndarray], w: np.ndarray) -> float:
    """Sum over unordered pairs with equal keys of w_i w_j."""
    if len(w) == 0:
        return 0.0
    _, inv = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
    inv = inv.ravel()
    tot = np.bincount(inv, weights=w)
    sq = np.bincount(inv, weights=w * w)
    return float(((tot * tot - sq) / 2.0).sum())


def _pairs_merge(t: np.ndarray, d: np.ndarray, e: np.ndarray, w: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted concordant/discordant/tied.x counts and per-subject influence, right-censored data.

    Bottom-up merge-sort counting, vectorised per level (O(n log^2 n)):
    1. order subjects by (time, censored after events, predictor rank); an event i is comparable
       with every later subject except events at the same time;
    2. at level L every pair (left block, right block) of size 2^L is compared at once: for the
       events of the left block, the weights of right-block subjects with a lower / higher / equal
       predictor rank (``searchsorted`` in the per-block sorted ranks), and for the right-block
       subjects the event weights of the left block;
    3. pairs of events at the same time were counted (ordered by rank within the time, so only as
       discordant or tied.x): subtract them with within-time cumulative sums.
    """
    n = len(t)
    infl = np.zeros((n, 3))
    counts = np.zeros(3)
    if n < 2:
        return counts, infl
    _, r = np.unique(e, return_inverse=True)
    r = r.ravel().astype(np.int64)
    k1 = int(r.max()) + 2
    order = np.lexsort((r, 1 - d, t))
    ts, ds, rs, ws = t[order], d[order], r[order], w[order]
    wd = ws * ds
    pos = np.arange(n)
    inf_s = np.zeros((n, 3))
    level = 0
    while (1 << level) < n:
        block = pos >> level
        comb = block * k1 + rs
        srt = np.argsort(comb, kind="stable")
        cs = comb[srt]
        cw = np.concatenate([[0.0], np.cumsum(ws[srt])])
        cwd = np.concatenate([[0.0], np.cumsum(wd[srt])])
        # events in left (even) blocks against the next block
        li = np.flatnonzero((ds == 1) & (block % 2 == 0) & (((block + 1) << level) < n))
        if len(li):
            nb = block[li] + 1
            start = np.searchsorted(cs, nb * k1, "left")
            end = np.searchsorted(cs, (nb + 1) * k1, "left")
            lo = np.searchsorted(cs, nb * k1 + rs[li], "left")
            hi = np.searchsorted(cs, nb * k1 + rs[li], "right")
            less = cw[lo] - cw[start]
            eq = cw[hi] - cw[lo]
            more = cw[end] - cw[hi]
            inf_s[li, 0] += less
            inf_s[li, 1] += more
            inf_s[li, 2] += eq
            counts += ws[li] @ np.column_stack([less, more, eq])
        # every subject of a right (odd) block against the events of the previous block
        rj = np.flatnonzero(block % 2 == 1)
        if len(rj):
            pb = block[rj] - 1
            start = np.searchsorted(cs, pb * k1, "left")
            end = np.searchsorted(cs, (pb + 1) * k1, "left")
            lo = np.searchsorted(cs, pb * k1 + rs[rj], "left")
            hi = np.searchsorted(cs, pb * k1 + rs[rj], "right")
            inf_s[rj, 0] += cwd[end] - cwd[hi]
            inf_s[rj, 1] += cwd[lo] - cwd[start]
            inf_s[rj, 2] += cwd[hi] - cwd[lo]
        level += 1
    # remove pairs of events at the same time (ordered by rank: discordant or tied only)
    dead = np.flatnonzero(ds == 1)
    if len(dead) > 1:
        td, rd, wdd = ts[dead], rs[dead], ws[dead]
        newg = np.ones(len(dead), dtype=bool)
        newg[1:] = td[1:] != td[:-1]
        gid = np.cumsum(newg) - 1
        newr = newg.copy()
        newr[1:] |= rd[1:] != rd[:-1]
        rid = np.cumsum(newr) - 1
        cum = np.cumsum(wdd)
        g_first = np.flatnonzero(newg)
        r_first = np.flatnonzero(newr)
        before_g = cum - wdd - (cum - wdd)[g_first][gid]  # weight of earlier events, same time
        before_r = cum - wdd - (cum - wdd)[r_first][rid]  # ... with the same rank
        tot_g = np.bincount(gid, weights=wdd)[gid]
        tot_r = np.bincount(rid, weights=wdd)[rid]
        after_g = tot_g - before_g - wdd
        after_r = tot_r - before_r - wdd
        disc_before = before_g - before_r
        disc_after = after_g - after_r
        counts[1] -= float(wdd @ disc_before)
        counts[2] -= float(wdd @ before_r)
        inf_s[dead, 1] -= disc_before + disc_after
        inf_s[dead, 2] -= before_r + after_r
    infl[order] = inf_s
    return counts, infl


def compute_concordance(
    time: np.ndarray,
    status: np.ndarray,
    predictor: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    entry: np.ndarray | None = None,
    reverse: bool = True,
) -> Concordance:
    """Concordance of ``predictor`` with the survival outcome (steps in the module docstring)."""
    n = len(time)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    eta = np.asarray(predictor, float) if reverse else -np.asarray(predictor, float)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    infl = np.zeros((n, 3))  # concordant, discordant, tied.x per subject
    counts = np.zeros(3)
    tied_y = 0.0
    tied_xy = 0.0
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        t, d, e, ws = time[rows], status[rows], eta[rows], w[rows]
        en = None if entry is None else entry[rows]
        deaths = np.flatnonzero(d == 1)
        dt = t[deaths]
        tied_y += _tied_pairs([dt], ws[deaths])
        tied_xy += _tied_pairs([dt, e[deaths]], ws[deaths])
        if en is None:
            c3, i3 = _pairs_merge(t, d, e, ws)
            counts += c3
            infl[rows] += i3
            continue
        block = max(1, _BLOCK_CELLS // max(1, len(rows)))
        for b0 in range(0, len(deaths), block):
            di = deaths[b0:b0 + block]
            ti = t[di][:, None]
            comp = (t[None, :] > ti) | ((t[None, :] == ti) & (d[None, :] == 0))
            if en is not None:
                comp &= en[None, :] < ti
            ei = e[di][:, None]
            for k, rel in enumerate((ei > e[None, :], ei < e[None, :], ei == e[None, :])):
                m = (comp & rel).astype(float)
                row = m @ ws
                col = ws[di] @ m
                counts[k] += float(ws[di] @ row)
                infl[rows[di], k] += row
                infl[rows, k] += col
    tied_y -= tied_xy
    conc, disc, tx = counts
    npair = conc + disc + tx
    somer = (conc - disc) / npair if npair > 0 else np.nan
    cidx = (somer + 1.0) / 2.0
    dfbeta = ((infl[:, 0] - infl[:, 1]) - infl.sum(axis=1) * somer) * w / (2.0 * npair)
    if cluster is not None:
        _, inv = np.unique(cluster, return_inverse=True)
        dfbeta = group_sum(inv.ravel(), dfbeta, int(inv.max()) + 1)
    std = float(np.sqrt(np.sum(dfbeta**2)))
    return Concordance(float(conc), float(disc), float(tx), float(tied_y), float(tied_xy), float(cidx), std)
