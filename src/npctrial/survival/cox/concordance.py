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

Counting (O(n log D), D the number of distinct event times; R's concordancefit walks a balanced
binary tree over the sorted predictor, subject by subject, for the same sums):

a. Time keys: u = 2 rank(time) + [censored] within the stratum, so that j is at risk after the
   event i exactly when u_j > u_i. Each subject's value v is the number of event keys below its
   own key (for an event: the index of its time), so comparability is v_j > v_i with
   0 <= v <= D_s; distinct strata occupy disjoint value ranges.
b. Sweep the subjects by (stratum, predictor ascending, value descending) and take the dominance
   sums of :mod:`.dominance`: for each event, the weight of the earlier (lower predictor) subjects
   with a larger value (concordant pairs); for each subject, the event weight of earlier subjects
   with a smaller value (its discordant pairs as the later member).
c. Subjects tied on the predictor come out of the sweep ordered by value, so their pairs are
   counted as concordant/discordant; they are taken back out with per-tie-group cumulative
   sums (tied.x). The remaining counts follow from the totals by value (one ``bincount``):
   discordant = at risk - concordant - tied.
d. (entry, stop] data: j is at risk for the event i when u_j > u_i and entry_j < t_i; since
   entry_j >= t_i implies t_j > t_i, the pairs with entry_j >= t_i are a second dominance
   problem (values: event times up to entry_j against the event's own) and are subtracted.
e. tied.y / tied.xy: sums over pairs of events sharing the time (and the predictor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.frozen import FrozenResult
from npctrial.survival.cox.dominance import earlier_sums
from npctrial.survival.cox.products import group_sum
from npctrial.survival.dense_rank import dense_rank
from npctrial.survival.memory_pages import without_huge_page_hint

__all__ = ["Concordance", "compute_concordance"]


@dataclass(frozen=True)
class Concordance(FrozenResult):
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


@dataclass(frozen=True)
class _TimeKeys:
    """Step a: per-subject value ``gv`` (global: stratum ranges [lo, hi] are disjoint), the value of
    the entry time ``gvb`` (number of event times <= entry, same ranges) and the bits of the
    largest within-stratum value."""

    gv: np.ndarray
    gvb: np.ndarray | None
    lo: np.ndarray  # per stratum: smallest value
    hi: np.ndarray  # per stratum: largest value
    bits: int


def _time_keys(time: np.ndarray, dead: np.ndarray, s: np.ndarray, n_strata: int,
               entry: np.ndarray | None) -> _TimeKeys:
    n = len(time)
    rank, distinct = dense_rank(time if entry is None else np.concatenate([time, entry]))
    m = len(distinct)
    base = s * m
    u = (base + rank[:n]) * 2 + ~dead
    if 2 * n_strata * m <= 4 * n + 1024:  # a table over the key space: lookups instead of searches
        present = np.bincount(u[dead], minlength=2 * n_strata * m) > 0
        below = np.concatenate([[0], np.cumsum(present)])  # below[k]: event keys < k
        first = below[2 * m * np.arange(n_strata + 1)]
        gv = below[u] + s
        gvb = None if entry is None else below[(base + rank[n:]) * 2 + 1] + s
    else:
        ev = np.unique(u[dead])
        first = np.searchsorted(ev, 2 * m * np.arange(n_strata + 1))
        gv = np.searchsorted(ev, u) + s
        gvb = None if entry is None else np.searchsorted(ev, (base + rank[n:]) * 2, side="right") + s
    lo = first[:-1] + np.arange(n_strata)
    hi = lo + np.diff(first)
    return _TimeKeys(gv, gvb, lo, hi, int((hi - lo).max()).bit_length())


def _sweep(eta: np.ndarray, s: np.ndarray, local: np.ndarray, bits: int
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """Step b: order by (stratum, eta ascending, value descending); also, when the predictor has
    ties, the key of each item's (stratum, eta) tie group (data order)."""
    order = np.argsort(eta)
    es = eta[order]
    same = es[1:] == es[:-1]
    ties = bool(same.any())
    if not ties and not s.any():
        return order, None
    rank = np.empty(len(eta), dtype=np.int64)
    rank[order] = np.concatenate([[0], np.cumsum(~same)])
    group = s * (int(rank.max()) + 1) + rank
    if int(group.max()) < 2 ** (62 - bits):
        order = np.argsort((group << bits) | ((1 << bits) - 1 - local))
    else:
        order = np.lexsort((-local, group))
    return order, group if ties else None


def _tie_sums(group: np.ndarray, value: np.ndarray, a: np.ndarray, b: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Step c, in sweep order: per item, the sum of ``a`` over its tie group's items with a larger
    value and of ``b`` over those with a smaller value; also the pairs of ``b`` sharing group and
    value (tied.xy when b are the event weights)."""
    n = len(group)
    new_g = np.ones(n, dtype=bool)
    new_g[1:] = group[1:] != group[:-1]
    new_r = new_g.copy()
    new_r[1:] |= value[1:] != value[:-1]
    gs, rs = np.flatnonzero(new_g), np.flatnonzero(new_r)
    glen, rlen = np.diff(np.append(gs, n)), np.diff(np.append(rs, n))
    ca = np.concatenate([[0.0], np.cumsum(a)])
    cb = np.concatenate([[0.0], np.cumsum(b)])
    t1 = np.repeat(ca[rs], rlen) - np.repeat(ca[gs], glen)
    t2 = np.repeat(cb[gs + glen], glen) - np.repeat(cb[rs + rlen], rlen)
    run_b, run_b2 = np.add.reduceat(b, rs), np.add.reduceat(b * b, rs)
    return t1, t2, float(((run_b * run_b - run_b2) / 2.0).sum())


def _dominance(eta: np.ndarray, s: np.ndarray, local: np.ndarray, bits: int, a: np.ndarray,
               b: np.ndarray, unweighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Steps b-c for one set of items: (above, below, tie_above, tie_below, tied_b_pairs), data
    order. ``above``: sum of ``a`` over items with a lower eta and a larger value; ``below``: sum of
    ``b`` over items with a lower eta and a smaller value; ``tie_*`` the same over equal eta."""
    order, group = _sweep(eta, s, local, bits)
    value = (s << bits) | local
    a_s, b_s = a[order], b[order]
    above, below = earlier_sums(value[order], None if unweighted else a_s,
                                b_s > 0 if unweighted else b_s, bits, order)
    n = len(eta)
    if group is None:
        return above, below, np.zeros(n), np.zeros(n), 0.0
    t1, t2, pairs = _tie_sums(group[order], local[order], a_s, b_s)
    tie_above, tie_below = np.empty(n), np.empty(n)
    tie_above[order], tie_below[order] = t1, t2
    return above - tie_above, below, tie_above, tie_below, pairs


def _role_sums(keys: _TimeKeys, dead: np.ndarray, eta: np.ndarray, s: np.ndarray, w: np.ndarray,
               unweighted: bool) -> tuple[Any, ...]:
    """Per subject (data order): concordant, discordant and tied-on-eta pair weights as the event
    (L1, G1, T1) and as the later member (G2, L2, T2), and tied.xy (steps b-d)."""
    lo_s, hi_s = keys.lo[s], keys.hi[s]
    wd = np.where(dead, w, 0.0)
    l1, l2, t1, t2, tied_xy = _dominance(eta, s, keys.gv - lo_s, keys.bits, w, wd, unweighted)
    size = int(keys.hi.max()) + 2
    at_risk = np.concatenate([np.cumsum(np.bincount(keys.gv, w, size)[::-1])[::-1], [0.0]])
    events_below = np.concatenate([[0.0], np.cumsum(np.bincount(keys.gv, wd, size))])
    risk = at_risk[keys.gv + 1] - at_risk[hi_s + 1]  # weight at risk after each event
    ev_lt = events_below[keys.gv] - events_below[lo_s]  # event weight each subject is at risk for
    if keys.gvb is not None:  # step d: take out the pairs where j had not yet entered
        ev = np.flatnonzero(dead)
        n, ne = len(eta), len(ev)
        items_s = np.concatenate([s, s[ev]])
        local_b = np.concatenate([keys.gvb - lo_s, keys.gv[ev] - lo_s[ev]])
        a_b = np.concatenate([w, np.zeros(ne)])
        b_b = np.concatenate([np.zeros(n), w[ev]])
        lb, eb, t1b, t2b, _ = _dominance(np.concatenate([eta, eta[ev]]), items_s, local_b, keys.bits,
                                         a_b, b_b, unweighted=False)
        late = np.concatenate([np.cumsum(np.bincount(keys.gvb, w, size)[::-1])[::-1], [0.0]])
        l1[ev] -= lb[n:]
        t1[ev] -= t1b[n:]
        risk[ev] -= late[keys.gv[ev] + 1] - late[hi_s[ev] + 1]
        l2 -= eb[:n]
        t2 -= t2b[:n]
        ev_lt -= events_below[keys.gvb] - events_below[lo_s]
    g1 = np.where(dead, risk - l1 - t1, 0.0)
    g2 = ev_lt - l2 - t2
    return np.where(dead, l1, 0.0), g1, np.where(dead, t1, 0.0), g2, l2, t2, tied_xy


def _tied_time_pairs(gv: np.ndarray, dead: np.ndarray, w: np.ndarray) -> float:
    """Step e: sum over unordered pairs of events at the same (stratum, time) of w_i w_j."""
    tot = np.bincount(gv[dead], w[dead])
    sq = np.bincount(gv[dead], w[dead] ** 2)
    return float(((tot * tot - sq) / 2.0).sum())


@without_huge_page_hint
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
    t = np.asarray(time, dtype=float)
    n = len(t)
    dead = np.asarray(status) == 1
    unweighted = weights is None
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    eta = np.asarray(predictor, dtype=float) if reverse else -np.asarray(predictor, dtype=float)
    if strata is None:
        s, n_strata = np.zeros(n, dtype=np.int64), 1
    else:
        _, s = np.unique(np.asarray(strata), return_inverse=True)
        s = s.ravel().astype(np.int64)
        n_strata = int(s.max()) + 1 if n else 1
    en = None if entry is None else np.asarray(entry, dtype=float)
    keys = _time_keys(t, dead, s, n_strata, en)
    l1, g1, t1, g2, l2, t2, tied_xy = _role_sums(keys, dead, eta, s, w, unweighted)
    conc, disc, tx = float(w @ l1), float(w @ g1), float(w @ t1)
    tied_y = _tied_time_pairs(keys.gv, dead, w) - tied_xy
    npair = conc + disc + tx
    somer = (conc - disc) / npair if npair > 0 else np.nan
    inf_conc, inf_disc = l1 + g2, g1 + l2
    dfbeta = ((inf_conc - inf_disc) - (inf_conc + inf_disc + t1 + t2) * somer) * w / (2.0 * npair)
    if cluster is not None:
        _, inv = np.unique(cluster, return_inverse=True)
        dfbeta = group_sum(inv.ravel(), dfbeta, int(inv.max()) + 1)
    std = float(np.sqrt(np.sum(dfbeta**2)))
    return Concordance(conc, disc, tx, float(tied_y), float(tied_xy), float((somer + 1.0) / 2.0), std)
