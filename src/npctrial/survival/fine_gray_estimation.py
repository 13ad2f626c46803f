"""Fine-Gray estimation engine: weighted risk-set sums, pseudo-likelihood, Newton, sandwich.

The numerical core behind :func:`npctrial.survival.fine_gray.fine_gray` (Fine JP & Gray RJ,
JASA 1999;94:496-509, sections 2-3), with the behaviour of cmprsk 2.2-11's ``crr`` (checked
against its outputs in ``tests/data/refs``). Inputs are already
validated: rows sorted by time, cause indicator ``ici`` (1 cause of interest, 2 other cause,
0 censored) and centred covariates. Every sum over a risk set is a cumulative sum over the sorted
times, so one objective/gradient/Hessian evaluation costs O(n p^2).

Contents
- :func:`_prepare`: G(T-) from the censoring Kaplan-Meier and the index arrays of the risk sets;
- :func:`_objective` / :func:`_objective_grad_hess`: minus the log pseudo partial likelihood,
  with its gradient and Hessian;
- :func:`_newton`: Newton-Raphson with backtracking and crr's convergence rule;
- :func:`_sandwich_middle`: information, Fine & Gray's sandwich middle matrix and S0.

These names are private to the Fine-Gray implementation (the public entry point and result are
in :mod:`npctrial.survival.fine_gray`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class _Prepared:
    time: np.ndarray  # sorted
    ici: np.ndarray  # 1 cause of interest, 2 other cause, 0 censored
    x: np.ndarray  # centred covariates, n x p
    g: np.ndarray  # G(T_i-), censoring KM just before each time
    ft: np.ndarray  # distinct cause-1 times
    fd: np.ndarray  # number of cause-1 events at each
    fg: np.ndarray  # G(t-) at each distinct cause-1 time
    f_start: np.ndarray  # first row with time >= t_k
    fail_rows: np.ndarray  # rows with ici == 1
    fail_k: np.ndarray  # distinct-time index of each failure row
    other: np.ndarray  # ici == 2 as float
    other_rows: np.ndarray  # rows with ici == 2
    x_other: np.ndarray  # their covariates
    g_other: np.ndarray  # their G(T-)
    other_cut: np.ndarray  # per distinct cause time: number of other-cause rows before it


def _censoring_km_left(time: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """G(T_i-): the Kaplan-Meier of the censoring times just before T_i (at T_i (1 - 100 eps), as crr).

    Steps: 1. distinct times u with n(u) at risk and c(u) censored; 2. G(u) = prod (1 - c/n);
    3. for each T_i the last u <= T_i (1 - 100 eps) (1 before the first), as R's approx() call.
    """
    n = time.shape[0]
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    ut = time[starts]
    n_risk = (n - starts).astype(np.float64)
    c = np.add.reduceat(censored.astype(np.float64), starts)
    gk = np.cumprod(1.0 - c / n_risk)
    k = np.searchsorted(ut, time * (1.0 - 100.0 * _EPS), side="right") - 1
    return np.where(k >= 0, gk[np.maximum(k, 0)], 1.0)


def _prepare(time: np.ndarray, ici: np.ndarray, x: np.ndarray) -> _Prepared:
    g = _censoring_km_left(time, ici == 0)
    x = np.asfortranarray(x)
    fail_rows = np.flatnonzero(ici == 1)
    other_rows = np.flatnonzero(ici == 2)
    ft, fidx, fd = np.unique(time[fail_rows], return_inverse=True, return_counts=True)
    f_start = np.searchsorted(time, ft, side="left")
    fg = g[f_start]
    return _Prepared(
        time=time, ici=ici, x=x, g=g, ft=ft, fd=fd.astype(np.float64), fg=fg, f_start=f_start,
        fail_rows=fail_rows, fail_k=fidx.reshape(-1), other=(ici == 2).astype(np.float64),
        other_rows=other_rows, x_other=np.asfortranarray(x[other_rows]), g_other=g[other_rows],
        other_cut=np.searchsorted(other_rows, f_start, side="left"),
    )


def _segment_sums(pp: _Prepared, v: np.ndarray) -> np.ndarray:
    """Sums of ``v`` (n or n x p, rows sorted by time) over the m + 1 row segments cut at the
    first row of each distinct cause time: segment k holds the rows with exactly k cause times
    at or before their own time. One contiguous pass (``np.add.reduceat``)."""
    cuts = pp.f_start
    if cuts[0] == 0:  # the first segment is empty (reduceat would not give 0 for it)
        out = np.add.reduceat(v, cuts, axis=0)
        return np.concatenate([np.zeros((1, *v.shape[1:])), out], axis=0)
    return np.add.reduceat(v, np.r_[0, cuts], axis=0)


def _risk_sums(pp: _Prepared, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S0(t_k) and S1(t_k) over the weighted Fine-Gray risk sets at the distinct cause times.

    S(t) = sum_{T_j >= t} w_j x_j + G(t-) sum_{T_j < t, other cause} w_j x_j / G(T_j-):
    segment sums (see :func:`_segment_sums`) then a suffix sum over segments k+1..m for the
    first term; a prefix sum over the other-cause rows only for the second.
    """
    a0 = _segment_sums(pp, w)
    a1 = _segment_sums(pp, pp.x * w[:, None])
    ow = w[pp.other_rows] / pp.g_other
    p = pp.x.shape[1]
    b0 = np.r_[0.0, np.cumsum(ow)][pp.other_cut]
    b1 = np.vstack([np.zeros((1, p)), np.cumsum(pp.x_other * ow[:, None], axis=0)])[pp.other_cut]
    s0 = np.cumsum(a0[::-1])[::-1][1:] + pp.fg * b0
    s1 = np.cumsum(a1[::-1], axis=0)[::-1][1:] + pp.fg[:, None] * b1
    return s0, s1


def _exp_eta(pp: _Prepared, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eta = pp.x @ beta
    return eta, np.exp(eta)


def _objective(pp: _Prepared, beta: np.ndarray) -> float:
    """Minus the log pseudo partial likelihood (Fine & Gray 1999, eq. 2.2 with the weights of 2.3)."""
    eta, w = _exp_eta(pp, beta)
    s0, _ = _risk_sums(pp, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-eta[pp.fail_rows].sum() + np.dot(pp.fd, np.log(s0)))


def _per_row_hazard_sums(pp: _Prepared, a_k: np.ndarray) -> np.ndarray:
    """For every row j: sum_{t_k <= T_j} a_k + 1{other cause} sum_{t_k > T_j} a_k G(t_k-)/G(T_j-).

    That is the sum of ``a_k`` over the distinct cause times whose risk set contains j, with
    j's Fine-Gray weight (``a_k`` may be a vector per time: shape (m,) or (m, q)).
    """
    kk = np.searchsorted(pp.ft, pp.time, side="right")  # number of t_k <= T_j
    a2 = a_k if a_k.ndim == 2 else a_k[:, None]
    q = a2.shape[1]
    cum = np.vstack([np.zeros((1, q)), np.cumsum(a2, axis=0)])
    ga = pp.fg[:, None] * a2
    rev = np.vstack([np.cumsum(ga[::-1], axis=0)[::-1], np.zeros((1, q))])
    out = cum[kk] + (pp.other / pp.g)[:, None] * rev[kk]
    return out if a_k.ndim == 2 else out[:, 0]


def _objective_grad_hess(pp: _Prepared, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Minus log pseudo-likelihood, its gradient and Hessian (Fine & Gray 1999, sec. 2).

    Hessian = sum_k d_k (S2_k / S0_k - xbar_k xbar_k'); the S2 part is rearranged per subject,
    sum_j w_j x_j x_j' sum_{k: j in R_k} weight_jk d_k / S0_k, so no n x p x p array is formed.
    """
    eta, w = _exp_eta(pp, beta)
    s0, s1 = _risk_sums(pp, w)
    xbar = s1 / s0[:, None]
    f = float(-eta[pp.fail_rows].sum() + np.dot(pp.fd, np.log(s0)))
    grad = -pp.x[pp.fail_rows].sum(axis=0) + pp.fd @ xbar
    return f, grad, _hessian(pp, w, s0, xbar)


def _hessian(pp: _Prepared, w: np.ndarray, s0: np.ndarray, xbar: np.ndarray) -> np.ndarray:
    """sum_k d_k (S2_k / S0_k - xbar_k xbar_k'), the S2 part summed per subject."""
    cj = _per_row_hazard_sums(pp, pp.fd / s0) * w
    return (pp.x * cj[:, None]).T @ pp.x - (xbar * pp.fd[:, None]).T @ xbar


def _sandwich_middle(
    pp: _Prepared, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The information H, the middle matrix V2 = sum_i (eta_i + psi_i)(eta_i + psi_i)' and S0.

    Steps (Fine & Gray 1999 section 3, the variance of the estimating equation; every double sum
    over subjects and times written as cumulative sums over the sorted times):
      1. eta_i = 1{cause} (x_i - xbar(T_i)) - w_i sum_{t_k <= T_i} d_k (x_i - xbar_k)/S0_k
         - 1{other cause} w_i/G_i sum_{t_k > T_i} d_k G_k (x_i - xbar_k)/S0_k;
      2. q(s) = A1(s) E(s) - A0(s) F(s) at each censoring time s, with
         A0, A1 = sum_{T_j < s, other cause} w_j (1, x_j)/G_j and
         E, F = sum_{t_k >= s} d_k G_k (1, xbar_k)/S0_k;
      3. psi_i = -sum_{censoring times s <= T_i} c(s) q(s)/n(s)^2 + 1{censored} q(T_i)/n(T_i);
      4. V2 = sum_i (eta_i + psi_i)(eta_i + psi_i)'.
    """
    n, p = pp.x.shape
    _, w = _exp_eta(pp, beta)
    s0, s1 = _risk_sums(pp, w)
    xbar = s1 / s0[:, None]
    hess = _hessian(pp, w, s0, xbar)

    # 1. eta
    a_k = pp.fd / s0
    b_k = xbar * a_k[:, None]
    kk = np.searchsorted(pp.ft, pp.time, side="right")
    cum_a = np.r_[0.0, np.cumsum(a_k)]
    cum_b = np.vstack([np.zeros((1, p)), np.cumsum(b_k, axis=0)])
    ga = pp.fg * a_k
    gb = pp.fg[:, None] * b_k
    rev_a = np.r_[np.cumsum(ga[::-1])[::-1], 0.0]
    rev_b = np.vstack([np.cumsum(gb[::-1], axis=0)[::-1], np.zeros((1, p))])
    eta = -w[:, None] * (pp.x * cum_a[kk][:, None] - cum_b[kk])
    ow = pp.other * w / pp.g
    eta -= ow[:, None] * (pp.x * rev_a[kk][:, None] - rev_b[kk])
    fr = pp.fail_rows
    eta[fr] += pp.x[fr] - xbar[pp.fail_k]

    # 2. q(s) at the distinct times with a censoring
    time = pp.time
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    ut = time[starts]
    cens = np.add.reduceat((pp.ici == 0).astype(np.float64), starts)
    n_risk = (n - starts).astype(np.float64)
    has_c = cens > 0
    sc = starts[has_c]
    a0 = np.r_[0.0, np.cumsum(ow)][sc]
    a1 = np.vstack([np.zeros((1, p)), np.cumsum(ow[:, None] * pp.x, axis=0)])[sc]
    kge = np.searchsorted(pp.ft, ut[has_c], side="left")  # first t_k >= s
    e_rev = np.r_[np.cumsum(ga[::-1])[::-1], 0.0][kge]
    f_rev = np.vstack([np.cumsum(gb[::-1], axis=0)[::-1], np.zeros((1, p))])[kge]
    q = a1 * e_rev[:, None] - a0[:, None] * f_rev

    # 3. psi
    nr_c = n_risk[has_c]
    # ss2 with a leading zero row: row 0 = before the first censoring time
    ss2 = np.vstack([np.zeros((1, p)), -np.cumsum(q * (cens[has_c] / nr_c**2)[:, None], axis=0)])
    # for row i: number of censoring times <= T_i (0: none, psi has no ss2 part)
    ci = np.searchsorted(ut[has_c], time, side="right")
    psi = ss2[ci]
    cr = np.flatnonzero(pp.ici == 0)
    psi[cr] += q[ci[cr] - 1] / nr_c[ci[cr] - 1][:, None]  # a censored row's own time

    u = eta + psi
    return hess, u.T @ u, s0


def _newton(
    pp: _Prepared, init: np.ndarray, gtol: float, max_iter: int
) -> tuple[np.ndarray, float, np.ndarray, bool, int]:
    """Newton-Raphson with Armijo backtracking and the convergence rule of ``crr``.

    Steps: for ll = 0..max_iter: 1. f, gradient, Hessian at b; 2. stop when
    max(|grad| * max(|b|, 1)) < max(|f|, 1) * gtol; 3. step sc = -H^-1 grad; 4. halve sc until
    f(b + sc) <= f(b) + 1e-4 sc'grad (at most 20 halvings, else not converged).
    """
    b = init.astype(np.float64).copy()
    converged = False
    iterations = 0
    f, grad = 0.0, np.zeros_like(b)
    for ll in range(max_iter + 1):
        f, grad, hess = _objective_grad_hess(pp, b)
        iterations = ll
        if np.max(np.abs(grad) * np.maximum(np.abs(b), 1.0), initial=0.0) < max(abs(f), 1.0) * gtol:
            converged = True
            break
        if ll == max_iter:
            break
        try:
            sc = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        bn = b + sc
        fbn = _objective(pp, bn)
        i = 0
        while not np.isfinite(fbn) or fbn > f + 1e-4 * float(np.dot(sc, grad)):
            i += 1
            sc = sc * 0.5
            bn = b + sc
            fbn = _objective(pp, bn)
            if i > 20:
                break
        if i > 20:
            break
        b = bn
    return b, f, grad, converged, iterations
