"""Simon's two-stage designs for single-arm phase II trials with a binary endpoint.

References: Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin
Trials 1989;10:1-10.  Jung SH, Lee T, Kim K, George SL. Admissible two-stage designs for phase
II cancer clinical trials. Stat Med 2004;23:561-569.

Algorithm (exact binomial enumeration, statistics.md section 10):

1. For every total size ``n <= n_max``, first-stage size ``1 <= n1 < n`` and futility bound
   ``0 <= r1 < n1``, the probability of declaring the drug active when the true rate is ``p``
   for final bound ``r`` (``r1 <= r < n``) is
   ``R(p) = sum_{x=r1+1}^{n1} b(x; n1, p) [1 - B(r - x; n - n1, p)]`` (``B(k) = 0`` for
   ``k < 0``). It is computed for all ``(n1, r1, r)`` of one ``n`` at once as a reverse
   cumulative sum over ``x`` of the matrix ``b(x; n1, p) S(r - x; n - n1, p)``.
2. ``R`` decreases in ``r``, so for each ``(n, n1, r1)`` the smallest ``r`` with
   ``R(p0) <= alpha`` maximises power; the triple is feasible if then ``R(p1) >= power``.
3. ``PET(p0) = B(r1; n1, p0)`` and ``EN(p0) = n1 + (1 - PET(p0))(n - n1)``.
4. Optimal: minimum ``EN(p0)`` (ties: smaller ``n``); minimax: minimum ``n``, then minimum
   ``EN(p0)``; admissible (Jung et al. 2004): designs on the lower convex hull of the
   per-``n`` best ``(n, EN(p0))`` points between the minimax and the optimal design, each
   minimising ``q n + (1 - q) EN(p0)`` for ``q`` in its reported range.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from npctrial.design._validate import check_count, check_probability
from npctrial.errors import ValidationError

SimonKind = Literal["optimal", "minimax", "admissible"]
_TOL = 1e-12


@dataclass(frozen=True)
class SimonDesign:
    """A Simon two-stage design ``r1/n1, r/n`` with its exact operating characteristics.

    Stop after ``n1`` patients if responses ``<= r1``; declare the treatment promising if total
    responses ``> r`` out of ``n``.
    """

    p0: float
    p1: float
    alpha: float
    power: float
    design: str
    r1: int
    n1: int
    r: int
    n: int
    expected_n_null: float
    pet_null: float
    alpha_actual: float
    power_actual: float
    expected_n_alt: float
    pet_alt: float
    q_range: tuple[float, float] | None = None

    def early_termination_probability(self, p: float) -> float:
        """PET(p) = B(r1; n1, p)."""
        return float(stats.binom.cdf(self.r1, self.n1, p))

    def rejection_probability(self, p: float) -> float:
        """P(declare promising | p), exact."""
        return float(_reject_probability(self.n1, self.r1, self.n, self.r, p))

    def expected_n(self, p: float) -> float:
        return self.n1 + (1.0 - self.early_termination_probability(p)) * (self.n - self.n1)

    def to_frame(self) -> pd.DataFrame:
        """One row with the design and its exact characteristics."""
        row = {
            "design": self.design, "p0": self.p0, "p1": self.p1, "alpha": self.alpha,
            "power": self.power, "r1": self.r1, "n1": self.n1, "r": self.r, "n": self.n,
            "expected_n_null": self.expected_n_null, "pet_null": self.pet_null,
            "alpha_actual": self.alpha_actual, "power_actual": self.power_actual,
            "expected_n_alt": self.expected_n_alt, "pet_alt": self.pet_alt,
        }
        if self.q_range is not None:
            row["q_low"], row["q_high"] = self.q_range
        return pd.DataFrame([row])

    def summary(self) -> str:
        n2 = self.n - self.n1
        q = ""
        if self.q_range is not None:
            q = (f" It minimises q*n + (1-q)*EN(p0) for q in "
                 f"[{self.q_range[0]:.3f}, {self.q_range[1]:.3f}] (Jung et al. 2004).")
        return (
            f"Simon two-stage {self.design} design (Simon 1989). Assumptions: a response rate of "
            f"{self.p0:g} or less is uninteresting (H0) and {self.p1:g} is the target (H1); one-"
            f"sided type I error at most {self.alpha:g} and power at least {self.power:g}; "
            f"responses independent with a constant probability.\n"
            f"Stage 1: enrol {self.n1} patients; stop for futility if {self.r1} or fewer respond "
            f"(probability {self.pet_null:.3f} under H0, {self.pet_alt:.3f} under H1).\n"
            f"Stage 2: enrol {n2} more (total {self.n}); the treatment is promising if more than "
            f"{self.r} of {self.n} respond.\n"
            f"Exact type I error {self.alpha_actual:.4f}, power {self.power_actual:.4f}; expected "
            f"sample size {self.expected_n_null:.2f} under H0 and {self.expected_n_alt:.2f} under "
            f"H1.{q}"
        )


def _reject_probability(n1: int, r1: int, n: int, r: int, p: float) -> float:
    x = np.arange(r1 + 1, n1 + 1)
    return float(np.sum(stats.binom.pmf(x, n1, p) * stats.binom.sf(r - x, n - n1, p)))


def _pmf_table(n_max: int, p: float) -> np.ndarray:
    """pmf[m, x] = b(x; m, p) for 0 <= x <= m <= n_max (0 elsewhere)."""
    m = np.arange(n_max + 1)[:, None]
    x = np.arange(n_max + 1)[None, :]
    return np.where(x <= m, stats.binom.pmf(x, m, p), 0.0)


def _sf_table(n_max: int, p: float) -> np.ndarray:
    """sf[m, k + n_max] = P(X > k; m, p) for -n_max <= k <= n_max (1 for k < 0)."""
    m = np.arange(n_max + 1)[:, None]
    k = np.arange(-n_max, n_max + 1)[None, :]
    return np.where(k < 0, 1.0, stats.binom.sf(k, m, p))


@functools.lru_cache(maxsize=64)
def _candidates(p0: float, p1: float, alpha: float, power: float, n_max: int) -> np.ndarray:
    """Per feasible (n, n1, r1): rows (n, n1, r1, r, EN0, PET0, alpha, power) (read-only).

    Cached: a pure function of its arguments, shared by optimal/minimax/admissible queries.
    """
    pmf0, pmf1 = _pmf_table(n_max, p0), _pmf_table(n_max, p1)
    sf0, sf1 = _sf_table(n_max, p0), _sf_table(n_max, p1)
    rows = []
    for n in range(2, n_max + 1):
        # rejecting needs more than r responses in total, so power >= `power` needs
        # P(Bin(n, p1) > r) >= power: this bounds r (and r1 <= r) from above.
        r_hi = int(np.flatnonzero(sf1[n, n_max:n_max + n] >= power - _TOL).max(initial=-1))
        if r_hi < 0:
            continue
        n1 = np.arange(1, n)                      # (A,)
        x = np.arange(n + 1)                      # (X,)
        rr = np.arange(r_hi + 1)                  # (R,)
        n2 = n - n1
        k = rr[None, None, :] - x[None, :, None] + n_max   # index into sf tables
        out = []
        for pmf, sf in ((pmf0, sf0), (pmf1, sf1)):
            b = pmf[n1][:, : n + 1]                             # (A, X)
            s = sf[n2[:, None, None], k]                        # (A, X, R)
            m = b[:, :, None] * s
            # reject[a, r1, r] = sum_{x > r1} m[a, x, r]
            tail = np.cumsum(m[:, ::-1, :], axis=1)[:, ::-1, :]
            out.append(tail[:, 1:r_hi + 2, :])                  # index r1 = 0..r_hi
        rej0, rej1 = out
        r1 = np.arange(r_hi + 1)
        valid = (r1[None, :, None] < n1[:, None, None]) & (rr[None, None, :] >= r1[None, :, None])
        ok_alpha = valid & (rej0 <= alpha + _TOL)
        has = ok_alpha.any(axis=2)
        first = np.argmax(ok_alpha, axis=2)                     # smallest feasible r
        a_idx, r1_idx = np.nonzero(has)
        if a_idx.size == 0:
            continue
        r_sel = first[a_idx, r1_idx]
        pw = rej1[a_idx, r1_idx, r_sel]
        keep = pw >= power - _TOL
        if not keep.any():
            continue
        a_idx, r1_idx, r_sel, pw = a_idx[keep], r1_idx[keep], r_sel[keep], pw[keep]
        nn1 = n1[a_idx]
        pet0 = pmf0[nn1, :].cumsum(axis=1)[np.arange(nn1.size), r1_idx]
        en0 = nn1 + (1.0 - pet0) * (n - nn1)
        al = rej0[a_idx, r1_idx, r_sel]
        rows.append(np.column_stack([np.full(nn1.size, n), nn1, r1_idx, r_sel, en0, pet0, al, pw]))
    result = np.vstack(rows) if rows else np.empty((0, 8))
    result.setflags(write=False)
    return result


def _check(p0: float, p1: float, alpha: float, power: float, n_max: int
           ) -> tuple[float, float, float, float, int]:
    p0 = check_probability(p0, "p0")
    p1 = check_probability(p1, "p1")
    if p1 <= p0:
        raise ValidationError(f"p1 must be greater than p0 (got p0={p0}, p1={p1})", field="p1")
    alpha = check_probability(alpha, "alpha")
    power = check_probability(power, "power")
    n_max = check_count(n_max, "n_max", minimum=2)
    if n_max > 400:
        raise ValidationError(f"n_max must be <= 400, got {n_max}", field="n_max")
    return p0, p1, alpha, power, n_max


def _make(row: np.ndarray, p0: float, p1: float, alpha: float, power: float, kind: str,
          q_range: tuple[float, float] | None = None) -> SimonDesign:
    n, n1, r1, r = (int(v) for v in row[:4])
    pet1 = float(stats.binom.cdf(r1, n1, p1))
    return SimonDesign(
        p0=p0, p1=p1, alpha=alpha, power=power, design=kind, r1=r1, n1=n1, r=r, n=n,
        expected_n_null=float(row[4]), pet_null=float(row[5]), alpha_actual=float(row[6]),
        power_actual=float(row[7]), expected_n_alt=n1 + (1 - pet1) * (n - n1), pet_alt=pet1,
        q_range=q_range,
    )


def _no_design(p0: float, p1: float, alpha: float, power: float, n_max: int) -> ValidationError:
    return ValidationError(
        f"no two-stage design with n <= n_max={n_max} has alpha <= {alpha} and power >= {power} "
        f"for p0={p0}, p1={p1}; increase n_max",
        field="n_max",
    )


def _best_per_n(cands: np.ndarray) -> np.ndarray:
    """Per total n, the feasible design with minimum EN(p0); rows sorted by n."""
    order = np.lexsort((cands[:, 4], cands[:, 0]))
    c = cands[order]
    first = np.concatenate([[True], c[1:, 0] != c[:-1, 0]])
    return c[first]


def _admissible(cands: np.ndarray) -> list[tuple[np.ndarray, tuple[float, float]]]:
    per_n = _best_per_n(cands)
    current = 0                           # minimax: smallest n, then smallest EN
    q_high = 1.0
    out = []
    while True:
        n_c, en_c = per_n[current, 0], per_n[current, 4]
        later = np.flatnonzero((per_n[:, 0] > n_c) & (per_n[:, 4] < en_c - _TOL))
        if later.size == 0:
            out.append((per_n[current], (0.0, q_high)))
            return out
        slope = (en_c - per_n[later, 4]) / (per_n[later, 0] - n_c)
        best = later[slope >= slope.max() - 1e-12]
        nxt = int(best[-1])               # on ties go to the larger n (fewer hull vertices)
        s = float(slope.max())
        q_low = s / (1.0 + s)
        out.append((per_n[current], (q_low, q_high)))
        q_high = q_low
        current = nxt


def admissible_designs(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, *,
                       n_max: int = 100) -> tuple[SimonDesign, ...]:
    """All admissible designs (Jung et al. 2004), from the minimax to the optimal design."""
    p0, p1, alpha, power, n_max = _check(p0, p1, alpha, power, n_max)
    cands = _candidates(p0, p1, alpha, power, n_max)
    if cands.size == 0:
        raise _no_design(p0, p1, alpha, power, n_max)
    hull = _admissible(cands)
    out = []
    for i, (row, q) in enumerate(hull):
        kind = "minimax" if i == 0 else ("optimal" if i == len(hull) - 1 else "admissible")
        out.append(_make(row, p0, p1, alpha, power, kind, q))
    return tuple(out)


def simon_two_stage(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, *,
                    design: SimonKind = "optimal", n_max: int = 100, q: float = 0.5
                    ) -> SimonDesign:
    """Simon's optimal or minimax design, or the admissible design for weight ``q``.

    ``alpha`` is one-sided; ``power`` = 1 - beta. ``q`` (only for ``design="admissible"``)
    weighs maximum against expected sample size: minimise ``q n + (1 - q) EN(p0)``.
    """
    p0, p1, alpha, power, n_max = _check(p0, p1, alpha, power, n_max)
    if design not in ("optimal", "minimax", "admissible"):
        raise ValidationError(
            f"design must be 'optimal', 'minimax' or 'admissible', got {design!r}", field="design"
        )
    cands = _candidates(p0, p1, alpha, power, n_max)
    if cands.size == 0:
        raise _no_design(p0, p1, alpha, power, n_max)
    if design == "optimal":
        row = cands[np.lexsort((cands[:, 0], np.round(cands[:, 4], 10)))[0]]
        return _make(row, p0, p1, alpha, power, "optimal")
    if design == "minimax":
        row = cands[np.lexsort((np.round(cands[:, 4], 10), cands[:, 0]))[0]]
        return _make(row, p0, p1, alpha, power, "minimax")
    q = check_probability(q, "q", open_low=False, open_high=False)
    for row, (lo, hi) in _admissible(cands):
        if lo - 1e-12 <= q <= hi + 1e-12:
            return _make(row, p0, p1, alpha, power, "admissible", (lo, hi))
    raise AssertionError("unreachable")  # pragma: no cover
