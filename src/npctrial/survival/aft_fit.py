"""Maximum likelihood for the accelerated failure time model (the numerical engine of
:func:`~npctrial.survival.survreg`).

Parameters theta = (beta, tau = log sigma); sigma is fixed for the exponential model. The
algorithm follows the behaviour of R's ``survreg.fit`` / ``survreg6.c`` (Therneau), so that the
estimates, variance and iteration count agree with R:

1. Columns of X (with an intercept) that are not 0/1 are centred and divided by their standard
   deviation for the iterations (the scaled matrix is never formed: :mod:`.aft_design` takes its
   products by blocks of rows); coefficients and variance are transformed back at the end.
2. Starting values: from y = log t (events and censorings alike) the distribution's moment
   estimates (mean + offset, variance / divisor; sigma = 2 sqrt(variance)); the intercept from
   one weighted least-squares ("glim") step at z = 0; then the intercept-only model is fitted
   (its loglik is the null loglik) and its tau starts the full model, whose beta is again one
   glim step: the solution of X' W X beta = X' (W (y - offset) + w dl/deta) at z = 0 with
   W = -w d2l/deta2.
3. Newton-Raphson on theta with the observed information; if it is not positive definite, the
   outer product of the per-observation scores is used (BHHH). Converged when
   |1 - l_old / l_new| <= eps or |l_old - l_new| <= eps (eps = 1e-9), never while step-halving.
   A step that lowers the loglik (or is not finite) is shrunk: theta_new <- (theta_new + 2
   theta_old) / 3, and on the first shrink tau may not drop by more than 1.1.
4. Out of iterations: the last step is kept if it improved the loglik, else the last good
   theta; ``converged`` is False.
5. The loglik is reported on the time scale: the Jacobian -sum(w log t) over the events is
   added (R ``logcorrect``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from npctrial.survival.aft_design import AftDesign, Products
from npctrial.survival.aft_distributions import AftErrorDistribution

__all__ = ["AftFit", "fit_aft"]

EPS = 1e-9
MAX_ITER = 30
NULL_MAX_ITER = 20


@dataclass(frozen=True)
class AftFit:
    theta: np.ndarray  # (beta..., log sigma) on the original scale of X (no log sigma if fixed)
    var: np.ndarray
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    linear_predictors: np.ndarray


def _derivatives(y: np.ndarray, event: np.ndarray, eta: np.ndarray, tau: float,
                 dist: AftErrorDistribution, event_f: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Per observation: l, dl/deta, dl/dtau, d2l/deta2, d2l/deta dtau, d2l/dtau2 (``event_f``:
    the event indicator as floats, to spare a conversion per operation)."""
    sigma = np.exp(tau)
    ev = event.astype(np.float64) if event_f is None else event_f
    z = (y - eta) / sigma
    g, g1, g2 = dist.log_terms(z, event)
    zg1 = z * g1
    return (g - ev * tau, g1 / -sigma, -zg1 - ev, g2 / sigma**2, (z * g2 + g1) / sigma, zg1 + z * z * g2)


class _Model:
    """loglik, score, information and BHHH matrix of theta for fixed data (module docstring).

    One evaluation is one pass over the rows by blocks (:class:`~.aft_design.AftDesign`): the
    block's linear predictor, derivatives and products are formed while it is in cache."""

    def __init__(self, y: np.ndarray, event: np.ndarray, w: np.ndarray | None, x: AftDesign,
                 offset: np.ndarray | None, dist: AftErrorDistribution, fixed_tau: float | None) -> None:
        """``w`` None: unit weights; ``offset`` None: no offset (both skipped in the sums)."""
        self.y, self.event, self.x = y, event, x
        self.w = np.ones(len(y)) if w is None else w
        self.offset = np.zeros(len(y)) if offset is None else offset
        self.weighted, self.has_offset = w is not None, offset is not None
        self.event_f = event.astype(np.float64)
        self.dist, self.fixed_tau = dist, fixed_tau

    def derivatives(self, eta: np.ndarray, tau: float) -> tuple[np.ndarray, ...]:
        """:func:`_derivatives` on every row."""
        return _derivatives(self.y, self.event, eta, tau, self.dist, self.event_f)

    def _tau(self, theta: np.ndarray) -> float:
        return float(theta[self.x.p]) if self.fixed_tau is None else self.fixed_tau

    def _rows(self, theta: np.ndarray
              ) -> Iterator[tuple[np.ndarray | None, np.ndarray | None, tuple[np.ndarray, ...]]]:
        """(x block, weights (None: unit), derivatives) by blocks of rows at ``theta``."""
        p, tau = self.x.p, self._tau(theta)
        for a, b, xb in self.x.blocks():
            eta = self.x.block_eta(xb, theta[:p], b - a)
            if self.has_offset:
                eta += self.offset[a:b]
            yield (xb, self.w[a:b] if self.weighted else None,
                   _derivatives(self.y[a:b], self.event[a:b], eta, tau, self.dist, self.event_f[a:b]))

    def evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, _Bhhh]:
        """(loglik, score, information, the BHHH matrix on demand)."""
        free = self.fixed_tau is None
        acc = Products(self.x.p, 2 if free else 1, True)
        loglik = u_tau = h_tau = 0.0
        for xb, wb, (lik, d_eta, d_tau, h_ee, h_et, h_tt) in self._rows(theta):
            if wb is not None:
                lik, d_eta, d_tau, h_ee, h_et, h_tt = (wb * v for v in (lik, d_eta, d_tau, h_ee, h_et, h_tt))
            loglik += float(lik.sum())
            acc.add(xb, [d_eta, h_et] if free else [d_eta], h_ee)
            if free:
                u_tau += float(d_tau.sum())
                h_tau += float(h_tt.sum())
        vec, hess = acc.result()
        assert hess is not None
        if free:
            cross = vec[1]
            hess = np.block([[hess, cross[:, None]], [cross[None, :], np.array([[h_tau]])]])
            u = np.r_[vec[0], u_tau]
        else:
            u = vec[0]
        return loglik, u, -hess, _Bhhh(self, theta)


class _Bhhh:
    """The outer product of the per-observation scores, sum_i w_i s_i s_i' (computed only when the
    information is not positive definite: R's survreg6 then steps with it)."""

    def __init__(self, model: _Model, theta: np.ndarray) -> None:
        self.model, self.theta = model, theta

    def matrix(self) -> np.ndarray:
        m = self.model
        acc = Products(m.x.p, 1, True)
        tt = 0.0
        for xb, wb, (_, d_eta, d_tau, *_) in m._rows(self.theta):
            w = 1.0 if wb is None else wb
            acc.add(xb, [w * d_eta * d_tau], w * d_eta**2)
            tt += float(np.sum(w * d_tau**2))
        (cross,), bb = acc.result()
        assert bb is not None
        if m.fixed_tau is not None:
            return bb
        return np.block([[bb, cross[:, None]], [cross[None, :], np.array([[tt]])]])


def _step(imat: np.ndarray, jj: _Bhhh, u: np.ndarray) -> np.ndarray:
    """Newton step I^-1 U, or BHHH (JJ^-1 U) when I is not positive definite (R survreg6)."""
    try:
        chol = np.linalg.cholesky(imat)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(jj.matrix(), u, rcond=None)[0]
    return np.linalg.solve(chol.T, np.linalg.solve(chol, u))


def _newton(model: _Model, theta: np.ndarray, max_iter: int, eps: float = EPS
            ) -> tuple[np.ndarray, float, np.ndarray, int, bool]:
    """Steps 3-4 of the module docstring: (theta, loglik, information, iterations, converged)."""
    loglik, u, imat, jj = model.evaluate(theta)
    if max_iter == 0:
        return theta, loglik, imat, 0, True
    new = theta + _step(imat, jj, u)
    newlk, u, imat, jj = model.evaluate(new)
    halving = 0
    has_tau = model.fixed_tau is None
    for it in range(1, max_iter + 1):
        bad = not (np.isfinite(newlk) and np.all(np.isfinite(np.diag(imat))) and np.all(np.isfinite(u)))
        if not bad and halving == 0 and (abs(1.0 - loglik / newlk) <= eps or abs(loglik - newlk) <= eps):
            return new, newlk, imat, it, True
        if bad or newlk < loglik:
            halving += 1
            new = (new + 2.0 * theta) / 3.0
            if halving == 1 and has_tau and theta[-1] - new[-1] > 1.1:
                new[-1] = theta[-1] - 1.1
        else:
            halving = 0
            loglik = newlk
            step = _step(imat, jj, u)
            theta, new = new, new + step
        newlk, u, imat, jj = model.evaluate(new)
    if halving == 0 and np.isfinite(newlk) and newlk >= loglik:
        return new, newlk, imat, max_iter, False
    loglik, _, imat, _ = model.evaluate(theta)
    return theta, loglik, imat, max_iter, False


def _glim_start(model: _Model, tau: float) -> np.ndarray:
    """One weighted least-squares step at z = 0 (step 2): the starting beta for ``tau``."""
    eta = model.y  # a "perfect" model: every z = 0
    _, d_eta, _, h_ee, _, _ = model.derivatives(eta, tau)
    wt = -h_ee * model.w
    (rhs,), xwx = model.x.products([wt * (model.y - model.offset) + model.w * d_eta], wt)
    assert xwx is not None
    return np.linalg.solve(xwx, rhs)


def _moment_tau(y: np.ndarray, w: np.ndarray, dist: AftErrorDistribution) -> float:
    mean = float(w @ y / w.sum())
    var = float(w @ (y - mean) ** 2 / w.sum()) / dist.init[1]
    return 0.5 * np.log(4.0 * var)


def fit_aft(y: np.ndarray, event: np.ndarray, x: np.ndarray | None, dist: AftErrorDistribution, *,
            fixed_scale: float | None = None, weights: np.ndarray | None = None,
            offset: np.ndarray | None = None, max_iter: int = MAX_ITER) -> AftFit:
    """Fit log t = b0 + x'beta + sigma W (``x`` the covariates, without the intercept column;
    None or no column: the intercept-only model); module docstring."""
    n = y.shape[0]
    xs = AftDesign.of(x, n)
    p = xs.p
    w = np.ones(n) if weights is None else weights
    off = np.zeros(n) if offset is None else offset
    ev = event.astype(bool)
    fixed_tau = None if fixed_scale is None else float(np.log(fixed_scale))
    start_tau = _moment_tau(y, w, dist) if fixed_tau is None else fixed_tau
    if p > 1:  # the intercept-only model: null loglik and the starting scale
        null = _Model(y, ev, weights, AftDesign(None, np.zeros(0), np.zeros(0), n), offset, dist, fixed_tau)
        theta0 = np.r_[_glim_start(null, start_tau), [] if fixed_tau is not None else [start_tau]]
        theta0, loglik0, _, _, _ = _newton(null, theta0, NULL_MAX_ITER)
        start_tau = theta0[1] if fixed_tau is None else fixed_tau
    model = _Model(y, ev, weights, xs, offset, dist, fixed_tau)
    theta = np.r_[_glim_start(model, start_tau), [] if fixed_tau is not None else [start_tau]]
    theta, loglik, imat, iterations, converged = _newton(model, theta, max_iter)
    if p == 1:
        loglik0 = loglik
    var = np.linalg.inv(imat)
    center, sd = xs.full_center, xs.full_sd
    back = np.eye(len(theta))  # step 1 undone: beta = T beta_scaled
    back[np.arange(p), np.arange(p)] = 1.0 / sd
    back[0, 1:p] = -center[1:] / sd[1:]
    jacobian = -float(w[ev] @ y[ev])
    return AftFit(theta=back @ theta, var=back @ var @ back.T, loglik=loglik + jacobian,
                  loglik_null=loglik0 + jacobian, iterations=iterations, converged=converged,
                  linear_predictors=xs.eta(theta[:p]) + off)
