"""Fit a Cox proportional hazards model as R's ``survival::coxph`` (survival 3.5).

Algorithm (R ``coxph.fit`` / ``coxfit6.c``, Therneau):

1. Build the design (:mod:`.design_matrix`): na.omit, treatment contrasts, collinearity check;
   merge times equal up to sqrt(machine eps) (R ``timefix``/``aeqSurv``).
2. Centre every column at its weighted mean (columns whose values are all in {-1, 0, 1} are left
   uncentred, R's ``nocenter``) and scale it by 1/mean|x - mean|; sort by (stratum, time).
3. Newton-Raphson from beta = 0: evaluate loglik, U and I (:mod:`.engine`, or :mod:`.exact` for the
   exact discrete likelihood); step beta + I^-1 U. Converged when |1 - loglik_best/loglik_new| <= tol
   (no step is taken after convergence: the returned beta is the last evaluated point). If the new
   loglik is worse or not finite, step-halve: beta_new = (beta_new + h beta_old)/(h + 1), h = 1, 2, ...
4. var = I(beta)^-1 back on the original scale; score test U(0)' I(0)^-1 U(0); Wald test
   beta' var^-1 beta; LR test 2 (loglik - loglik(0)).
5. Warn (ConvergenceWarning, naming the covariates) when R would say "Loglik converged before
   variable ...; coefficient may be infinite" (|U V| > tol and > sqrt(tol)|beta|) or when the
   iteration limit is reached.
6. With ``cluster`` (or ``robust=True``) the variance is the sandwich D'D of dfbeta residuals summed
   within clusters; the robust score test uses score residuals at beta = 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ConvergenceWarning, ValidationError
from npctrial.survival.cox.design_matrix import CoxDesign, build_design, check_collinearity
from npctrial.survival.cox.engine import CoxState, RiskSetLayout
from npctrial.survival.cox.exact import ExactLayout
from npctrial.survival.cox.residuals import cluster_indicator, collapse, score_residuals
from npctrial.survival.risk_sets import fix_times, timefix_cuts

__all__ = ["CoxFitContext", "cox_ph", "fit_design"]

TIES = ("efron", "breslow", "exact")


@dataclass(frozen=True)
class CoxFitContext:
    """What a fitted model keeps to compute diagnostics later (sorted order = ``layout.order``)."""

    design: CoxDesign
    layout: RiskSetLayout
    x_scaled: np.ndarray  # sorted, centred at ``means`` and multiplied by ``scale`` (column-major)
    scale: np.ndarray
    offset: np.ndarray | None  # sorted
    means: np.ndarray
    ties: str

    @cached_property
    def x_centred(self) -> np.ndarray:
        """Sorted covariates centred at ``means`` (built on first use by the diagnostics)."""
        return self.x_scaled / self.scale

    def state(self, beta: np.ndarray, *, info: bool = False, offset: bool = True) -> CoxState:
        """Breslow/Efron state at ``beta`` on the centred covariates (exact fits use Efron terms)."""
        return self.layout.evaluate(self.x_centred, beta, self.offset if offset else None, info=info)


def _solve(imat: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(imat, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(imat, rhs, rcond=None)[0]


def _inverse(imat: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(imat)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(imat)


@dataclass(frozen=True)
class NewtonResult:
    beta: np.ndarray  # scaled space
    loglik_init: float
    loglik: float
    score_test: float
    info: np.ndarray  # scaled space, at beta
    score: np.ndarray  # scaled space, at beta
    iterations: int
    converged: bool
    halving: bool


def newton_raphson(evaluate: Any, p: int, tol: float, max_iter: int, *, exact_rule: bool = False) -> NewtonResult:
    """Newton-Raphson with R's step halving and convergence rule (coxfit6.c main loop; with
    ``exact_rule`` coxexact.c's: plain halving back towards the last good beta, and no convergence
    while halving)."""
    beta = np.zeros(p)
    loglik0, u, imat = evaluate(beta)
    step = _solve(imat, u)
    sctest = float(u @ step)
    if max_iter == 0 or not np.isfinite(loglik0):
        return NewtonResult(beta, loglik0, loglik0, sctest, imat, u, 0, True, False)
    best = loglik0
    newbeta = beta + step
    halving = 0
    for it in range(1, max_iter + 1):
        newlk, u, imat = evaluate(newbeta)
        finite = np.isfinite(newlk) and np.all(np.isfinite(u)) and np.all(np.isfinite(imat))
        if finite and abs(1.0 - best / newlk) <= tol and not (exact_rule and halving):
            return NewtonResult(newbeta, loglik0, newlk, sctest, imat, u, it, True, halving > 0)
        if it == max_iter:
            break
        if not finite or newlk < best:
            halving += 1
            if exact_rule:
                newbeta = (newbeta + beta) / 2.0
            else:
                newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = newlk
            step = _solve(imat, u)
            beta = newbeta
            newbeta = newbeta + step
    lk, u, imat = evaluate(beta) if max_iter > 1 else (best, u, imat)
    return NewtonResult(beta, loglik0, lk, sctest, imat, u, max_iter, False, halving > 0)


def _sorted_center_scale(x: np.ndarray, w: np.ndarray, order: np.ndarray, names: Sequence[str]
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows in ``order``, centred at the weighted means and scaled by 1/mean|x - mean|
    (coxfit6.c), column by column; columns whose values are all in {-1, 0, 1} keep mean 0 and
    scale 1 (R's ``nocenter``). Returns (scaled sorted matrix, means, scale)."""
    n, p = x.shape
    wsum = float(w.sum())
    w_s = w[order]
    out = np.empty((n, p), order="F")
    means = np.zeros(p)
    scale = np.ones(p)
    buf = np.empty(n)
    for j in range(p):
        col = x[:, j]
        lo, hi = col.min(), col.max()
        if lo == hi:
            raise ValidationError(f"covariate(s) {names[j]} are constant: they cannot be estimated", field=names[j])
        zero_one = lo >= -1.0 and hi <= 1.0 and bool(np.all((col == 0.0) | (col == 1.0) | (col == -1.0)))
        cs = out[:, j]  # the column is filled in place: no temporaries of length n but ``buf``
        np.take(col, order, out=cs)
        if not zero_one:
            means[j] = float(np.dot(w, col)) / wsum
            cs -= means[j]
            mad = float(np.dot(w_s, np.abs(cs, out=buf)))
            if mad > 0:
                scale[j] = wsum / mad
                cs *= scale[j]
    return out, means, scale


def fit_design(design: CoxDesign, *, ties: str = "efron", robust: bool = False, tol: float = 1e-9,
               max_iter: int = 20) -> Any:
    """Fit a validated design; returns a :class:`~npctrial.survival.cox.result.CoxResult`."""
    from npctrial.survival.cox.result import CoxResult

    if ties not in TIES:
        raise ValidationError(f"ties must be one of {TIES}, got {ties!r}", field="ties")
    if not (isinstance(tol, float | int) and tol > 0):
        raise ValidationError(f"tol must be > 0, got {tol!r}", field="tol")
    if not (isinstance(max_iter, int) and max_iter >= 0):
        raise ValidationError(f"max_iter must be an integer >= 0, got {max_iter!r}", field="max_iter")
    p = design.x.shape[1]
    if p == 0:
        raise ValidationError("at least one covariate is needed", field="covariates")
    if design.n_events == 0:
        raise ValidationError("no events: the Cox model cannot be fitted", field="event")
    n = design.n
    w = np.ones(n) if design.weights is None else design.weights
    method = "efron" if ties == "efron" else "breslow"
    layout = RiskSetLayout(design.time, design.status, strata=design.strata, entry=design.entry,
                           weights=design.weights, method=method)
    # R's timefix (aeqSurv): times equal up to sqrt(machine eps) are one time. The layout's grid
    # holds the distinct times, so the check costs nothing when there are no near-ties.
    cuts = timefix_cuts(layout.grid)
    if cuts is not None:
        design = replace(design, time=fix_times(design.time, cuts),
                         entry=None if design.entry is None else fix_times(design.entry, cuts))
        if design.entry is not None and np.any(design.entry >= design.time):
            raise ValidationError("an (entry, stop] interval has length 0 after merging times equal up to "
                                  "floating-point tolerance (R aeqSurv)", field="entry")
        layout = RiskSetLayout(design.time, design.status, strata=design.strata, entry=design.entry,
                               weights=design.weights, method=method)
    order = layout.order
    # column-major: the per-column segment sums (np.add.reduceat) are several times faster
    xs, means, scale = _sorted_center_scale(design.x, w, order, design.names)
    check_collinearity(xs, design.names, None if design.weights is None else layout.weights_s,
                       centred=True)
    off = None if design.offset is None else design.offset[order]

    if ties == "exact":
        if robust or design.cluster is not None:
            raise ValidationError("ties='exact' has no score residuals (as in R), so no robust/cluster "
                                  "variance; use ties='efron'", field="ties")
        if design.weights is not None or design.entry is not None:
            raise ValidationError("ties='exact' supports neither case weights nor (entry, stop] data; "
                                  "use ties='efron'", field="ties")
        exact = ExactLayout(layout)

        def evaluate(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            return exact.evaluate(xs, b, off)
    else:
        last: list[CoxState] = []
        at_zero: list[CoxState] = []  # the first evaluation (beta = 0), reused by the robust score test
        keep_zero = (robust or design.cluster is not None) and off is None

        def evaluate(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            st = layout.evaluate(xs, b, off)
            assert st.info is not None
            last[:] = [st]
            if keep_zero and not at_zero:
                at_zero.append(st)
            return st.loglik, st.score, st.info

    nr = newton_raphson(evaluate, p, float(tol), max_iter, exact_rule=ties == "exact")
    beta = nr.beta * scale
    var = _inverse(nr.info) * np.outer(scale, scale)
    var = (var + var.T) / 2
    u = nr.score * scale
    ctx = CoxFitContext(design=design, layout=layout, x_scaled=xs, scale=scale, offset=off, means=means,
                        ties=ties)

    names = design.names
    if not nr.converged:
        warnings.warn(f"Cox fit ran out of iterations (max_iter={max_iter}) and did not converge",
                      ConvergenceWarning, stacklevel=3)
    infs = np.abs(u @ var)
    bad = ~np.isfinite(u) | ((infs > tol) & (infs > np.sqrt(tol) * np.abs(beta)))
    if nr.converged and max_iter > 1 and bad.any():
        which = ", ".join(names[j] for j in np.flatnonzero(bad))
        warnings.warn(
            f"Loglik converged before covariate(s) {which}; coefficient may be infinite "
            "(monotone likelihood)", ConvergenceWarning, stacklevel=3)

    robust = robust or design.cluster is not None
    naive_var = None
    robust_score = None
    if robust:
        naive_var = var
        # score residuals are linear in x: work on the scaled matrix and divide by the scale
        state = last[0] if np.array_equal(last[0].beta, nr.beta) else layout.evaluate(xs, nr.beta, off)
        row_w = None if design.weights is None else layout.weights_s
        resid = score_residuals(layout, state, xs, row_weights=row_w, col_scale=scale)
        cl = None if design.cluster is None else cluster_indicator(design.cluster[order])
        dfb = collapse(resid, cl) @ naive_var  # dfbeta = score residuals x V, summed by cluster
        var = dfb.T @ dfb
        state0 = at_zero[0] if at_zero else layout.evaluate(xs, np.zeros(p), None, info=False)
        r0 = collapse(score_residuals(layout, state0, xs, row_weights=row_w, col_scale=scale,
                                      out=resid if cl is not None else None), cl)  # resid is spent
        u0 = r0.sum(axis=0)
        robust_score = float(u0 @ _solve(r0.T @ r0, u0))

    wald = float(beta @ _solve(var, beta))
    return CoxResult.from_fit(
        ctx=ctx,
        coef=beta,
        var=var,
        naive_var=naive_var,
        loglik_null=nr.loglik_init,
        loglik=nr.loglik,
        iterations=nr.iterations,
        converged=nr.converged,
        score_test=nr.score_test,
        wald_test=wald,
        robust_score_test=robust_score,
    )


def cox_ph(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    entry: str | None = None,
    offset: str | None = None,
    ties: str = "efron",
    robust: bool = False,
    tol: float = 1e-9,
    max_iter: int = 20,
    event_codes: tuple[Any, Any] | None = None,
) -> Any:
    """Cox proportional hazards regression, as R's ``coxph(Surv(entry, duration, event) ~ ...)``.

    ``data`` is a DataFrame; the other arguments name its columns. ``event`` is coded 0/1, or 1/2
    as R's ``Surv`` (1 = censored, 2 = event), or as ``event_codes=(censored, event)``.
    ``categorical`` columns use treatment contrasts with the first level (sorted values, or the
    categories of a pandas Categorical) as reference unless ``reference={column: level}``.
    ``strata`` fits a stratified model, ``cluster`` a robust (sandwich) variance summed within
    clusters, ``weights`` case weights, ``entry`` counting-process (entry, duration] rows,
    ``offset`` a fixed linear-predictor term. ``ties`` is "efron" (default), "breslow" or "exact".
    Rows with a missing value in any used column are dropped (``result.n_dropped``).
    Returns a :class:`CoxResult`; see the module docstring for the algorithm.
    """
    design = build_design(data, duration, event, covariates, categorical=categorical, reference=reference,
                          strata=strata, cluster=cluster, weights=weights, entry=entry, offset=offset,
                          event_codes=event_codes, check=False)  # collinearity: checked on the sorted matrix
    return fit_design(design, ties=ties, robust=robust, tol=tol, max_iter=max_iter)
