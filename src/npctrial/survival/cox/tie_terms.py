"""Sums over the tie terms of every event group (Efron or Breslow), by blocks of groups.

Event group g (tied deaths at one time in one stratum) contributes d_g terms k (Efron: fraction
f_k = r / d_g for r = 0..d_g - 1, coefficient c_k = w_D / d_g; Breslow: one term, f = 0,
c = w_D), with phi_k = A_g - f_k B_g (risk-set and event sums of w e^eta) and hazard increment
h_k = c_k / phi_k (coxfit6.c, Therneau). Per group this module returns

    L_g  = sum_k c_k log phi_k                      (log partial likelihood)
    H_g  = sum_k h_k,  E_g = sum_k f_k h_k          (hazard increment, Efron correction)
    S0_g = sum_k h_k / phi_k, S1_g = sum_k f_k h_k / phi_k, S2_g = sum_k f_k^2 h_k / phi_k
                                                    (information: sum_k c_k xbar_k xbar_k')

and, on request (:func:`term_values`), phi_k and h_k per term. The terms are processed by blocks
of whole groups of at most ``_TERMS`` terms, so the dozen per-term temporaries (phi_k and h_k
among them) stay in cache instead of streaming through memory once each (heavily tied data have
as many terms as events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TieSums", "term_blocks", "term_values", "tie_sums"]

_TERMS = 1 << 15


@dataclass(frozen=True)
class TieSums:
    log_sum: float  # sum_g L_g
    hazard_sum: np.ndarray  # H_g
    e1: np.ndarray  # E_g
    s0: np.ndarray
    s1: np.ndarray
    s2: np.ndarray


def term_blocks(d: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(first group, end group, first term, end term) of consecutive groups with at most
    ``_TERMS`` terms each (a larger group is a block of its own)."""
    ends = np.cumsum(d)
    blocks = []
    g0 = t0 = 0
    while g0 < len(d):
        g1 = max(int(np.searchsorted(ends, t0 + _TERMS, side="right")), g0 + 1)
        t1 = int(ends[g1 - 1])
        blocks.append((g0, g1, t0, t1))
        g0, t0 = g1, t1
    return blocks


def _phi_hazard(a0: np.ndarray, b0: np.ndarray, f: np.ndarray, c: np.ndarray | float, d: np.ndarray,
                phi: np.ndarray, hazard: np.ndarray, tmp: np.ndarray) -> None:
    """phi_k = A_g - f_k B_g and h_k = c_k / phi_k into ``phi`` and ``hazard`` (the same operations
    for :func:`tie_sums` and :func:`term_values`, so both give the same bits)."""
    np.multiply(np.repeat(b0, d), f, out=tmp)
    np.subtract(np.repeat(a0, d), tmp, out=phi)
    np.divide(c, phi, out=hazard)


def term_values(a0: np.ndarray, b0: np.ndarray, frac: np.ndarray, c: np.ndarray | None, d: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(phi_k, h_k) of every term, as :func:`tie_sums` forms them block by block."""
    phi, hazard = np.empty(len(frac)), np.empty(len(frac))
    _phi_hazard(a0, b0, frac, 1.0 if c is None else c, d, phi, hazard, np.empty(len(frac)))
    return phi, hazard


def tie_sums(a0: np.ndarray, b0: np.ndarray, frac: np.ndarray, c: np.ndarray | None, d: np.ndarray,
             blocks: list[tuple[int, int, int, int]]) -> TieSums:
    """The sums of the module docstring; ``c=None`` means every c_k is 1 (unweighted Efron).
    phi_k and h_k are formed one block at a time and not kept (:func:`term_values` rebuilds them)."""
    n_groups = len(d)
    out = {k: np.empty(n_groups) for k in ("H", "E", "S0", "S1", "S2")}
    log_sum = 0.0
    size = max((t1 - t0 for *_, t0, t1 in blocks), default=1)
    phi, hazard, tmp, q = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    for g0, g1, t0, t1 in blocks:
        dd, f = d[g0:g1], frac[t0:t1]
        local = np.concatenate([[0], np.cumsum(dd[:-1])])
        m = t1 - t0
        ph, h, tb, qb = phi[:m], hazard[:m], tmp[:m], q[:m]
        _phi_hazard(a0[g0:g1], b0[g0:g1], f, 1.0 if c is None else c[t0:t1], dd, ph, h, tb)
        np.log(ph, out=tb)
        log_sum += float(tb.sum() if c is None else np.dot(c[t0:t1], tb))
        out["H"][g0:g1] = np.add.reduceat(h, local)
        out["E"][g0:g1] = np.add.reduceat(np.multiply(h, f, out=tb), local)
        np.divide(h, ph, out=qb)
        out["S0"][g0:g1] = np.add.reduceat(qb, local)
        out["S1"][g0:g1] = np.add.reduceat(np.multiply(qb, f, out=qb), local)
        out["S2"][g0:g1] = np.add.reduceat(np.multiply(qb, f, out=qb), local)
    return TieSums(log_sum, out["H"], out["E"], out["S0"], out["S1"], out["S2"])
