"""Vectorised Cox partial-likelihood kernel (Breslow and Efron ties, strata, counting process).

The data are sorted once by (stratum, stop time); everything else is linear in n:

1. Rows with the same (stratum, stop) form a *block*; blocks holding at least one event are the
   tied *event groups* t_g with d_g events of summed case weight w_D.
2. Risk-set sums A = sum w e^eta, A1 = sum w e^eta x over {stop >= t_g} in the stratum are reverse
   cumulative sums of per-block sums (``np.add.reduceat``); with (entry, stop] data the sums over
   {entry >= t_g} are subtracted, so the risk set is {entry < t_g <= stop} (R agreg convention).
3. Ties: each group is expanded into terms k (Efron: d_g terms with fraction f_k = r/d_g,
   coefficient c_k = w_D/d_g; Breslow: one term, f = 0, c = w_D) with
   phi_k = A - f_k B, xbar_k = (A1 - f_k B1)/phi_k and hazard increment h_k = c_k / phi_k
   (B, B1 the same sums over the events of the group), exactly as coxfit6.c (Therneau, R survival).
4. loglik = sum_events w eta - sum_k c_k log phi_k ; U = sum_events w x - sum_k c_k xbar_k.
5. Information without p x p risk-set sums: I = sum_i w_i e^eta_i Lambda_i x_i x_i' -
   sum_k c_k xbar_k xbar_k', where Lambda_i is the subject's Efron-adjusted cumulative hazard
   (sum of h_k over the groups the subject is at risk in, minus sum f_k h_k at its own event time):
   this equals R's sum_k c_k[(A2 - f_k B2)/phi_k - xbar_k xbar_k'] term by term.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from npctrial.survival.cox.products import (
    outer_sums,
    weighted_cross,
    weighted_cross_runs,
)
from npctrial.survival.cox.state import CoxState
from npctrial.survival.cox.tie_terms import term_blocks, tie_sums
from npctrial.survival.dense_rank import dense_rank

__all__ = ["CoxState", "RiskSetLayout"]

_LOOP_SEGMENTS = 256
_CHUNK = 1 << 14


def _rev_cumsum_segments(v: np.ndarray, seg_start: np.ndarray, seg_end: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum of the rows of ``v`` restarted in each segment [start, end)."""
    if len(seg_start) <= _LOOP_SEGMENTS:
        out = np.empty_like(v)
        for a, b in zip(seg_start, seg_end, strict=True):
            out[a:b] = np.cumsum(v[a:b][::-1], axis=0)[::-1]
        return out
    total = np.cumsum(v[::-1], axis=0)[::-1]
    padded = np.concatenate([total, np.zeros((1,) + v.shape[1:])], axis=0)
    seg_of = np.repeat(np.arange(len(seg_start)), seg_end - seg_start)
    return total - padded[seg_end[seg_of]]


def _order_by_key(key: np.ndarray, status: np.ndarray, n_keys: int) -> np.ndarray:
    """Row order by (key, events first, row): R's order(strata, time, -status), ties by row."""
    n = key.shape[0]
    if n_keys * 2 * n < 2**62:
        return np.argsort(key * (2 * n) + (1 - status) * n + np.arange(n))
    return np.argsort(key * 2 + (1 - status), kind="stable")


def _sorted_keys(key: np.ndarray, status: np.ndarray, n_keys: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row order, sorted keys, sorted event flags) in the order of :func:`_order_by_key`.

    With fewer than 2^15 keys the packed key (key, censored) fits in 16 bits: numpy's stable sort
    is then a radix sort (linear in n), and the sorted keys (kept in 16 bits) and event flags are
    unpacked from the sorted 16-bit keys instead of gathered from the 8-byte arrays."""
    if 2 * n_keys <= 1 << 16:
        packed = key.astype(np.uint16)
        packed <<= 1
        packed |= status == 0  # = 1 - status for 0/1 codes, without 8-byte temporaries
        order = np.argsort(packed, kind="stable")
        packed_s = packed[order]
        event_s = (packed_s & 1) == 0
        packed_s >>= 1
        return order, packed_s, event_s
    order = _order_by_key(key, status, n_keys)
    return order, key[order], status[order] == 1


class RiskSetLayout:
    """Sorted layout of one survival data set; see the module docstring for the algorithm.

    Only what every evaluation needs is built here, without a per-row array that is all zeros
    (strata) or ones (weights) or that only the diagnostics read: ``strata_s``, ``weights_s``,
    ``status_s``, ``time_s``, ``death_rows``, ``death_group`` and the per-term arrays are built on
    first use."""

    def __init__(
        self,
        time: np.ndarray,
        status: np.ndarray,
        *,
        strata: np.ndarray | None = None,
        entry: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        method: str = "efron",
    ) -> None:
        n = time.shape[0]
        self.n = n
        if method not in ("efron", "breslow"):  # pragma: no cover - guarded by the caller
            raise ValueError(method)
        self.method = method
        self._strata = None if strata is None else np.asarray(strata, dtype=np.int64)
        status_i = np.asarray(status, dtype=np.int64)
        if entry is None:
            rank_t, grid = dense_rank(time)
        else:
            rank_all, grid = dense_rank(np.concatenate([time, entry]))
            rank_t, rank_e = rank_all[:n], rank_all[n:]
        m = len(grid) + 1
        self._m = m
        self._keyed = self._strata is not None and bool(self._strata.any())  # strata in the sort key
        key = self._strata * m + rank_t if self._strata is not None and self._keyed else rank_t
        # events first within a tied time (R's order(strata, time, -status)), then row order
        order, self._key_s, self._event_s = _sorted_keys(key, status_i, int(key.max()) + 1)
        self.grid = grid
        self.order = order
        self.weighted = weights is not None
        if weights is not None:  # else weights_s (ones) is built on first use
            self.weights_s = weights[order].astype(float)
        self._blocks_and_groups()
        self.entry_s = None
        if entry is not None:
            self._entry_side(entry, rank_e)
        # segments: the event part and the rest of every block (events come first in a block)
        ends = self.block_start[self.grp_block] + self.grp_d
        self.seg_idx = np.unique(np.concatenate([self.block_start, ends[ends < n]]))
        self.block_seg = np.searchsorted(self.seg_idx, self.block_start)
        self.grp_seg = np.searchsorted(self.seg_idx, self.block_start[self.grp_block])

    def _blocks_and_groups(self) -> None:
        """Blocks of equal (stratum, time), the event groups among them, and the groups each block
        is at risk in, from the sorted keys and event flags (no per-event array: the events of a
        group are the first rows of its block)."""
        n, m, key_s = self.n, self._m, self._key_s
        new_block = np.empty(n, dtype=bool)
        new_block[:1] = True
        np.not_equal(key_s[1:], key_s[:-1], out=new_block[1:])
        self.block_start = np.flatnonzero(new_block)
        block_key = key_s[self.block_start].astype(np.int64)
        block_stratum = block_key // m if self._keyed else np.zeros(len(block_key), dtype=np.int64)
        self.block_seg_start, self.block_seg_end = self._segments(block_stratum)
        events = np.add.reduceat(self._event_s, self.block_start, dtype=np.int64)
        self.grp_block = np.flatnonzero(events)
        grp_key = block_key[self.grp_block]
        self.grp_key = grp_key
        self.n_groups = len(grp_key)
        self.grp_d = events[self.grp_block]
        self.death_grp_start = np.cumsum(self.grp_d) - self.grp_d
        self.n_events = int(self.grp_d.sum())
        self.grp_time = self._key_time(grp_key)
        self.grp_stratum = block_stratum[self.grp_block]
        self.grp_wd = (np.add.reduceat(self.w_dead, self.death_grp_start) if self.weighted and self.n_groups
                       else self.grp_d.astype(float))
        # tie terms (Efron: one per event, contiguous per group; Breslow: one per group)
        self.exp_start = self.death_grp_start if self.method == "efron" else None
        # cumulative-hazard indices per sorted row: groups [lower, upper)
        self.block_len = np.diff(np.append(self.block_start, n))
        self.block_upper = np.searchsorted(grp_key, block_key, side="right")
        self.block_lower = np.searchsorted(grp_key, block_stratum * m, side="left")

    def _entry_side(self, entry: np.ndarray, rank_e: np.ndarray) -> None:
        """(entry, stop] data: per-row group bounds, and the rows sorted by (stratum, entry) in
        blocks, with the position of every group time among them."""
        n, m, order, grp_key = self.n, self._m, self.order, self.grp_key
        self.row_upper = np.repeat(self.block_upper, self.block_len)
        self.entry_s = entry[order]
        ekey = self.strata_s * m + rank_e[order]
        self.row_lower = np.searchsorted(grp_key, ekey, side="right")
        eorder = np.argsort(ekey, kind="stable")
        self.eorder = eorder
        ekey_s = ekey[eorder]
        new_eb = np.ones(n, dtype=bool)
        new_eb[1:] = ekey_s[1:] != ekey_s[:-1]
        self.eblock_start = np.flatnonzero(new_eb)
        eblock_key = ekey_s[self.eblock_start]
        eblock_stratum = self.strata_s[eorder][self.eblock_start]
        self.eblock_seg_start, self.eblock_seg_end = self._segments(eblock_stratum)
        pos = np.searchsorted(eblock_key, grp_key, side="left")
        valid = pos < len(eblock_key)
        valid[valid] = eblock_stratum[pos[valid]] == self.grp_stratum[valid]
        self.grp_epos = np.where(valid, pos, len(eblock_key))  # last = zero row

    def _key_time(self, keys: np.ndarray) -> np.ndarray:
        """The times of sorted keys."""
        return self.grid[keys % self._m if self._keyed else keys]

    # ------------------------------------------- per-row arrays, on first use
    @cached_property
    def strata_s(self) -> np.ndarray:
        """Stratum code per sorted row (int64; zeros when unstratified)."""
        return np.zeros(self.n, dtype=np.int64) if self._strata is None else self._strata[self.order]

    @cached_property
    def weights_s(self) -> np.ndarray:
        """Case weight per sorted row (set in __init__ when weighted; ones otherwise)."""
        return np.ones(self.n)

    @cached_property
    def status_s(self) -> np.ndarray:
        """0/1 status per sorted row (int64)."""
        return self._event_s.astype(np.int64)

    @cached_property
    def time_s(self) -> np.ndarray:
        """Stop time per sorted row."""
        return self._key_time(self._key_s)

    @cached_property
    def death_rows(self) -> np.ndarray:
        """Sorted rows of the events, in order (the first grp_d rows of each group's block)."""
        first = self.block_start[self.grp_block]
        return np.repeat(first - self.death_grp_start, self.grp_d) + np.arange(self.n_events)

    @cached_property
    def death_group(self) -> np.ndarray:
        """Group of each event."""
        return np.repeat(np.arange(self.n_groups), self.grp_d)

    @cached_property
    def w_dead(self) -> np.ndarray:
        """Case weight of each event."""
        return self.weights_s[self.death_rows] if self.weighted else np.ones(self.n_events)

    @cached_property
    def exp_group(self) -> np.ndarray:
        """Group of each tie term."""
        return self.death_group if self.exp_start is not None else np.arange(self.n_groups, dtype=np.int64)

    @cached_property
    def exp_frac(self) -> np.ndarray:
        """Efron fraction f_k = r / d_g of each tie term (0 for Breslow), by blocks of groups."""
        if self.exp_start is None:
            return np.zeros(self.n_groups)
        d = self.grp_d
        out = np.empty(self.n_events)
        for g0, g1, t0, t1 in self._term_blocks:
            dd = d[g0:g1]
            block = out[t0:t1]
            block[...] = np.arange(t1 - t0) - np.repeat(np.cumsum(dd) - dd, dd)
            block /= np.repeat(dd, dd)
        return out

    @cached_property
    def exp_c(self) -> np.ndarray:
        """Coefficient c_k of each tie term."""
        if self.exp_start is None:
            return self.grp_wd.astype(float)
        return np.repeat(self.grp_wd / self.grp_d, self.grp_d)

    @cached_property
    def exp_m(self) -> np.ndarray:
        """1 / (terms of the group) per tie term."""
        if self.exp_start is None:
            return np.ones(self.n_groups)
        return np.repeat(1.0 / self.grp_d, self.grp_d)

    @cached_property
    def row_upper(self) -> np.ndarray:
        """Per sorted row: one past the last group the row is at risk in."""
        return np.repeat(self.block_upper, self.block_len)

    @cached_property
    def row_lower(self) -> np.ndarray:
        """Per sorted row: the first group the row is at risk in (set in __init__ with entry times)."""
        return np.repeat(self.block_lower, self.block_len)

    @cached_property
    def _unit_terms(self) -> bool:
        """Every tie-term coefficient c_k is exactly 1 (unweighted Efron)."""
        return self.method == "efron" and not self.weighted

    @cached_property
    def seg_len(self) -> np.ndarray:
        """Rows per segment (a segment is the event part or the rest of a block)."""
        return np.diff(np.append(self.seg_idx, self.n))

    @cached_property
    def seg_block(self) -> np.ndarray:
        """Block of each segment."""
        return np.repeat(np.arange(len(self.block_start)), np.diff(np.append(self.block_seg, len(self.seg_idx))))

    @staticmethod
    def _segments(stratum_of_item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(stratum_of_item)
        new = np.ones(k, dtype=bool)
        new[1:] = stratum_of_item[1:] != stratum_of_item[:-1]
        start = np.flatnonzero(new)
        end = np.append(start[1:], k)
        return start, end

    # ------------------------------------------------------------------ sums
    def term_sum(self, v: np.ndarray) -> np.ndarray:
        """Per group: the sum of the per-term values ``v`` (terms are contiguous in group order)."""
        if self.exp_start is None:
            return v
        return np.add.reduceat(v, self.exp_start)

    def sums(self, rw: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A_g, A1_g (risk set) and B_g, B1_g (events) of w e^eta and w e^eta x per group.

        Column by column (``x`` column-major), so the temporaries stay one column long."""
        p = x.shape[1]
        entry = self.entry_s is not None
        s0 = np.add.reduceat(rw, self.seg_idx)
        s1 = np.empty((len(self.seg_idx), p))
        e1 = np.empty((len(self.eblock_start), p)) if entry else None
        for j in range(p):
            col = rw * x[:, j]
            s1[:, j] = np.add.reduceat(col, self.seg_idx)
            if e1 is not None:
                e1[:, j] = np.add.reduceat(col[self.eorder], self.eblock_start)
        return self._group_sums(rw, s0, s1, e1)

    def _group_sums(self, rw: np.ndarray, s0: np.ndarray, s1: np.ndarray, e1: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Risk-set and event sums per group from the segment sums (and entry-block sums)."""
        p = s1.shape[1]
        blk0 = np.add.reduceat(s0, self.block_seg)
        blk1 = np.add.reduceat(s1, self.block_seg, axis=0)
        r0 = _rev_cumsum_segments(blk0, self.block_seg_start, self.block_seg_end)
        r1 = _rev_cumsum_segments(blk1, self.block_seg_start, self.block_seg_end)
        a0 = r0[self.grp_block]
        a1 = r1[self.grp_block]
        if e1 is not None:
            e0 = np.add.reduceat(rw[self.eorder], self.eblock_start)
            se0 = np.append(_rev_cumsum_segments(e0, self.eblock_seg_start, self.eblock_seg_end), 0.0)
            se1 = np.vstack([_rev_cumsum_segments(e1, self.eblock_seg_start, self.eblock_seg_end),
                             np.zeros((1, p))])
            a0 = a0 - se0[self.grp_epos]
            a1 = a1 - se1[self.grp_epos]
        return a0, a1, s0[self.grp_seg], s1[self.grp_seg]

    def risk_sums(self, rw: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A_g and A1_g: sums of w e^eta and w e^eta x over each group's risk set."""
        a0, a1, _, _ = self.sums(rw, x)
        return a0, a1

    def cumulative(self, per_group: np.ndarray) -> np.ndarray:
        """Per sorted row: sum of ``per_group`` over the groups where the row is at risk."""
        hc = np.concatenate([np.zeros((1,) + per_group.shape[1:]), np.cumsum(per_group, axis=0)])
        if self.entry_s is None:  # constant within a block: index per block, then repeat
            return np.repeat(hc[self.block_upper] - hc[self.block_lower], self.block_len, axis=0)
        return hc[self.row_upper] - hc[self.row_lower]

    # ------------------------------------------------------------- evaluate
    def evaluate(self, x: np.ndarray, beta: np.ndarray, offset: np.ndarray | None,
                 *, info: bool = True) -> CoxState:
        """loglik, score and information at ``beta`` (``x`` and ``offset`` in sorted order).

        The information is assembled from per-group scalars (no per-event p-vectors):
        sum_k c_k xbar_k xbar_k' = sum_g [A1 A1' S0 - (A1 B1' + B1 A1') S1 + B1 B1' S2],
        S_m = sum_k c_k f_k^m / phi_k^2.
        """
        if self.entry_s is None:
            risk, rw, s0, s1 = self._fused_pass(x, beta, offset)
            a0, a1, b0, b1 = self._group_sums(rw, s0, s1, None)
        else:
            eta = x @ beta
            if offset is not None:
                eta = eta + offset
            risk = np.exp(eta)
            rw = self.weights_s * risk if self.weighted else risk
            a0, a1, b0, b1 = self.sums(rw, x)
        coef = None if self._unit_terms else self.exp_c
        ts = tie_sums(a0, b0, self.exp_frac, coef, self._term_d, self._term_blocks)
        group_hazard, group_e1 = ts.hazard_sum, ts.e1
        wx_dead = self._wx_dead(x, beta, offset, b1)
        # sum over events of w eta = (sum of w x over events) . beta (+ offset): no gather of eta
        wd_eta = float(wx_dead @ beta) + (0.0 if offset is None else
                                          float(np.dot(self.w_dead, offset[self.death_rows])))
        loglik = wd_eta - ts.log_sum
        score = wx_dead - (group_hazard @ a1 - group_e1 @ b1)
        lam_by, lam_len = self._lambda(group_hazard, group_e1)
        imat = None
        if info:
            cross = (weighted_cross(x, rw, lam_by) if lam_len is None
                     else weighted_cross_runs(x, rw, lam_by, lam_len, self._chunks()))
            imat = cross - outer_sums(a1, b1, ts.s0, ts.s1, ts.s2)
            imat = (imat + imat.T) / 2
        return CoxState(beta=beta, risk=risk, loglik=loglik, score=score, info=imat, a0=a0, b0=b0, a1=a1, b1=b1,
                        term_frac=self.exp_frac, term_coef=coef, term_d=self._term_d, lam_by=lam_by,
                        lam_len=lam_len, group_hazard=group_hazard, group_e1=group_e1)

    def _lambda(self, group_hazard: np.ndarray, group_e1: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The Efron-adjusted cumulative hazard Lambda_i: (per segment, rows per segment) without
        entry times (constant within a segment: no per-row array), else (per sorted row, None)."""
        if self.entry_s is None:
            hc = np.concatenate([[0.0], np.cumsum(group_hazard)])
            seg_lam = (hc[self.block_upper] - hc[self.block_lower])[self.seg_block]
            seg_lam[self.grp_seg] -= group_e1
            return seg_lam, self.seg_len
        lam = self.cumulative(group_hazard)
        lam[self.death_rows] -= group_e1[self.death_group]
        return lam, None

    # ------------------------------------------------ sums over tie terms
    def xbar_sums(self, state: CoxState, u: np.ndarray) -> np.ndarray:
        """Per group: sum_k u_k xbar_k = A1 sum(u/phi) - B1 sum(u f/phi) (no per-term p-vectors)."""
        v = u / state.phi
        u0 = self.term_sum(v)
        u1 = self.term_sum(v * self.exp_frac)
        return state.a1 * u0[:, None] - state.b1 * u1[:, None]

    def xbar_outer(self, state: CoxState, group_weight: np.ndarray | None = None) -> np.ndarray:
        """sum_k c_k w_g xbar_k xbar_k' (w_g a per-group weight, default 1)."""
        f = self.exp_frac
        q = state.hazard / state.phi  # c_k / phi_k^2
        qf = q * f
        s0 = self.term_sum(q)
        s1 = self.term_sum(qf)
        s2 = self.term_sum(qf * f)
        if group_weight is not None:
            s0, s1, s2 = s0 * group_weight, s1 * group_weight, s2 * group_weight
        return outer_sums(state.a1, state.b1, s0, s1, s2)

    @cached_property
    def _term_d(self) -> np.ndarray:
        """Tie terms per group (1 for Breslow)."""
        return self.grp_d if self.exp_start is not None else np.ones(self.n_groups, dtype=np.int64)

    @cached_property
    def _term_blocks(self) -> list[tuple[int, int, int, int]]:
        return term_blocks(self._term_d)

    def _chunks(self) -> list[tuple[int, int, int, int, np.ndarray]]:
        """Row chunks of about ``_CHUNK`` rows that start and end on segment boundaries."""
        cached = getattr(self, "_chunk_list", None)
        if cached is not None:
            return cached
        seg = self.seg_idx
        starts = np.unique(seg[np.searchsorted(seg, np.arange(0, self.n, _CHUNK), side="left")
                               .clip(max=len(seg) - 1)])
        bounds = np.append(starts, self.n)
        out = []
        for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
            k0, k1 = np.searchsorted(seg, [r0, r1], side="left")
            out.append((int(r0), int(r1), int(k0), int(k1), seg[k0:k1] - r0))
        self._chunk_list = out
        return out

    def _fused_pass(self, x: np.ndarray, beta: np.ndarray, offset: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """e^eta, w e^eta and the segment sums of w e^eta (x), one cache-sized chunk at a time
        (eta itself is not kept)."""
        n, p = x.shape
        risk = np.empty(n)
        rw = np.empty(n) if self.weighted else risk
        w = self.weights_s if self.weighted else None
        nseg = len(self.seg_idx)
        s0 = np.empty(nseg)
        s1 = np.empty((nseg, p))
        chunks = self._chunks()
        buf = np.empty((max(r1 - r0 for r0, r1, *_ in chunks), p), order="F")
        for r0, r1, k0, k1, local in chunks:
            xc = x[r0:r1]
            e = xc @ beta  # (np.dot with out= leaves BLAS for this strided block: 3x slower)
            if offset is not None:
                e += offset[r0:r1]
            rwc = np.exp(e, out=risk[r0:r1])
            if w is not None:
                rwc = np.multiply(w[r0:r1], rwc, out=rw[r0:r1])
            s0[k0:k1] = np.add.reduceat(rwc, local)
            s1[k0:k1] = np.add.reduceat(np.multiply(xc, rwc[:, None], out=buf[:r1 - r0]), local, axis=0)
        return risk, rw, s0, s1

    def _wx_dead(self, x: np.ndarray, beta: np.ndarray, offset: np.ndarray | None, b1: np.ndarray
                 ) -> np.ndarray:
        """sum of w x over the events, cached for the covariate matrix being iterated on. At
        beta = 0 without offset e^eta = 1, so the event sums B1 of w e^eta x are these sums per
        group (the first evaluation of a fit): no pass over ``x``."""
        cache = getattr(self, "_xcache", None)
        if cache is None or cache[0] is not x:
            if offset is None and not beta.any():
                total = b1.sum(axis=0)
            else:
                wd = np.zeros(self.n)
                wd[self.death_rows] = self.w_dead
                total = wd @ x
            cache = (x, total)
            self._xcache = cache
        return cache[1]
