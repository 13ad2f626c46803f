"""Fit a Cox proportional hazards model as R's ``survival::coxph`` (survival 3.5).

Algorithm (behaviour of R ``coxph.fit`` / ``coxfit6.c`` / ``coxexact.c``, Therneau):

1. Build the design (:mod:`.design_matrix`): na.omit, treatment contrasts; merge times equal up
   to sqrt(machine eps) (R ``timefix``/``aeqSurv``). Follow-up time 0 is valid for right-censored
   data, as in R.
2. Centre every column at its weighted mean (columns whose values are all in {-1, 0, 1} are left
   uncentred, R's ``nocenter``) and scale it by 1/mean|x - mean|; sort by (stratum, time).
3. Aliased columns (constant, or collinear with earlier columns: R's pivoting Cholesky) get an
   NA coefficient and NA variance with a StatisticalWarning naming them; the other terms are
   fitted as if the aliased ones were absent (R ``singular.ok = TRUE``). Divergence: R reports
   se 0 and a zero variance row for them; NA says what is known.
4. Newton-Raphson from beta = 0: evaluate loglik, U and I (:mod:`.engine`, or :mod:`.exact` for the
   exact discrete likelihood); step beta + I^-1 U. Converged when |1 - loglik_best/loglik_new| <= tol
   (no step is taken after convergence: the returned beta is the last evaluated point). If the new
   loglik is worse or not finite, step-halve: beta_new = (beta_new + h beta_old)/(h + 1), h = 1, 2, ...
   Out of iterations (``max_iter``), the beta, loglik and iteration count are R's
   (:func:`newton_raphson`); divergence: the variance is the inverse information at that beta,
   where R's comes from an information matrix it did not re-factor (off-diagonals 0).
5. var = I(beta)^-1 back on the original scale; score test U(0)' I(0)^-1 U(0); Wald test
   beta' var^-1 beta; LR test 2 (loglik - loglik(0)).
6. Warn (ConvergenceWarning, naming the covariates) when R would say "Loglik converged before
   variable ...; coefficient may be infinite" (|U V| > tol and > sqrt(tol)|beta|) or "Ran out of
   iterations and did not converge" (both only when max_iter > 1, as R).
7. With ``cluster`` (or ``robust=True``) the variance is the sandwich D'D of dfbeta residuals summed
   within clusters; the robust score test uses score residuals at beta = 0.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ConvergenceWarning, StatisticalWarning, ValidationError
from npctrial.survival.cox.context import CoxFitContext
from npctrial.survival.cox.design_matrix import CoxDesign, build_design, find_aliased
from npctrial.survival.cox.engine import CoxState, RiskSetLayout
from npctrial.survival.cox.exact import ExactLayout
from npctrial.survival.cox.products import single_blas_thread
from npctrial.survival.cox.residuals import cluster_indicator, collapse, score_residuals
from npctrial.survival.cox.result import CoxResult
from npctrial.survival.cox.sorted_design import sorted_centred_design
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.survival.risk_sets import fix_times, timefix_cuts
from npctrial.validation import check_choice, check_count, check_flag, check_positive

__all__ = ["cox_ph", "fit_design"]

TIES = ("efron", "breslow", "exact")


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
    """Newton-Raphson with R's step halving, convergence rule and iteration limit.

    coxfit6.c (Efron/Breslow): an improved step is accepted even on the last iteration; out of
    iterations, the last accepted beta is returned (re-evaluated when ``max_iter`` > 1) and R
    reports ``max_iter + 1`` iterations. coxexact.c (``exact_rule``): no convergence while
    halving; the last iteration only evaluates, and the beta accepted before it is returned
    (re-evaluated) when ``max_iter`` > 1, the evaluated one when ``max_iter`` = 1; ``max_iter``
    iterations are reported.
    """
    beta = np.zeros(p)
    loglik0, u, imat = evaluate(beta)
    step = _solve(imat, u)
    sctest = float(u @ step)
    if max_iter == 0 or not np.isfinite(loglik0):
        return NewtonResult(beta, loglik0, loglik0, sctest, imat, u, 0, True, False)
    best = newlk = loglik0
    newbeta = beta + step
    halving = 0
    for it in range(1, max_iter + 1):
        newlk, u, imat = evaluate(newbeta)
        finite = np.isfinite(newlk) and np.all(np.isfinite(u)) and np.all(np.isfinite(imat))
        if finite and abs(1.0 - best / newlk) <= tol and not (exact_rule and halving):
            return NewtonResult(newbeta, loglik0, newlk, sctest, imat, u, it, True, halving > 0)
        if exact_rule and it == max_iter:
            break
        if not finite or newlk < best:
            halving += 1
            newbeta = (newbeta + beta) / 2.0 if exact_rule else (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = newlk
            step = _solve(imat, u)
            beta = newbeta
            newbeta = newbeta + step
    if max_iter > 1:
        lk, u, imat = evaluate(beta)
    elif exact_rule:
        beta, lk = newbeta, newlk
    else:
        lk = best
    iterations = max_iter if exact_rule else max_iter + 1
    return NewtonResult(beta, loglik0, lk, sctest, imat, u, iterations, False, halving > 0)


def _check_options(design: CoxDesign, ties: str, robust: bool, tol: float, max_iter: int) -> None:
    check_choice(ties, TIES, "ties")
    check_flag(robust, "robust")
    check_positive(tol, "tol")
    check_count(max_iter, "max_iter")
    if design.x.shape[1] == 0:
        raise ValidationError("at least one covariate is needed", field="covariates")
    if design.n_events == 0:
        raise ValidationError("no events: the Cox model cannot be fitted", field="event")
    if ties == "exact":
        if robust or design.cluster is not None:
            raise ValidationError("ties='exact' has no score residuals (as in R), so no robust/cluster "
                                  "variance; use ties='efron'", field="ties")
        if design.weights is not None or design.entry is not None:
            raise ValidationError("ties='exact' supports neither case weights nor (entry, stop] data; "
                                  "use ties='efron'", field="ties")


def _layout(design: CoxDesign, ties: str) -> tuple[CoxDesign, RiskSetLayout]:
    """The sorted risk-set layout, after R's timefix (aeqSurv): times equal up to sqrt(machine
    eps) are one time (the layout's grid holds the distinct times, so the check is cheap)."""
    method = "efron" if ties == "efron" else "breslow"

    def build(d: CoxDesign) -> RiskSetLayout:
        return RiskSetLayout(d.time, d.status, strata=d.strata, entry=d.entry, weights=d.weights, method=method)

    layout = build(design)
    cuts = timefix_cuts(layout.grid)
    if cuts is None:
        return design, layout
    design = replace(design, time=fix_times(design.time, cuts),
                     entry=None if design.entry is None else fix_times(design.entry, cuts))
    if design.entry is not None and np.any(design.entry >= design.time):
        raise ValidationError("an (entry, stop] interval has length 0 after merging times equal up to "
                              "floating-point tolerance (R aeqSurv)", field="entry")
    return design, build(design)


def _warn_convergence(nr: NewtonResult, names: Sequence[str], beta: np.ndarray, var: np.ndarray,
                      u: np.ndarray, tol: float, max_iter: int) -> None:
    """R's coxph.fit warnings (none when max_iter <= 1: a single step is a deliberate request)."""
    if max_iter <= 1:
        return
    if not nr.converged:
        warnings.warn(f"Cox fit ran out of iterations (max_iter={max_iter}) and did not converge",
                      ConvergenceWarning, stacklevel=4)
        return
    infs = np.abs(u @ var)
    bad = ~np.isfinite(u) | ((infs > tol) & (infs > np.sqrt(tol) * np.abs(beta)))
    if bad.any():
        which = ", ".join(names[int(j)] for j in np.flatnonzero(bad))
        warnings.warn(f"Loglik converged before covariate(s) {which}; coefficient may be infinite "
                      "(monotone likelihood)", ConvergenceWarning, stacklevel=4)


def _robust_variance(layout: RiskSetLayout, design: CoxDesign, xc: np.ndarray,
                     state: CoxState, state0: CoxState, naive_var: np.ndarray) -> tuple[np.ndarray, float]:
    """Sandwich variance D'D of dfbeta residuals summed by cluster, and the robust score test
    from the score residuals at beta = 0 (``xc``: the sorted centred covariates)."""
    row_w = None if design.weights is None else layout.weights_s
    resid = score_residuals(layout, state, xc, row_weights=row_w)
    cl = None if design.cluster is None else cluster_indicator(design.cluster[layout.order])
    dfb = collapse(resid, cl) @ naive_var
    r0 = collapse(score_residuals(layout, state0, xc, row_weights=row_w,
                                  out=resid if cl is not None else None), cl)  # resid is spent
    u0 = r0.sum(axis=0)
    return dfb.T @ dfb, float(u0 @ _solve(r0.T @ r0, u0))


def fit_design(design: CoxDesign, *, ties: str = "efron", robust: bool = False, tol: float = 1e-9,
               max_iter: int = 20) -> Any:
    """Fit a validated design; returns a :class:`~npctrial.survival.cox.result.CoxResult`
    (steps in the module docstring). BLAS runs on one thread: its products here are p x p or
    thin blocks of rows, for which waking a thread pool costs more than it gains."""
    with single_blas_thread():
        return _fit_design(design, ties=ties, robust=robust, tol=tol, max_iter=max_iter)


def _fit_design(design: CoxDesign, *, ties: str, robust: bool, tol: float, max_iter: int) -> Any:
    _check_options(design, ties, robust, tol, max_iter)
    design, layout = _layout(design, ties)
    order = layout.order
    # column-major: the per-column segment sums (np.add.reduceat) are several times faster
    xc, means, scale = sorted_centred_design(design.x, order, None if design.weights is None else layout.weights_s)
    aliased = find_aliased(xc, design.names, None if design.weights is None else layout.weights_s,
                           centred=True)
    if aliased:
        which = ", ".join(design.names[j] for j in aliased)
        warnings.warn(f"covariate(s) {which} are constant or collinear with the other covariates "
                      "(aliased): coefficient NA, the other terms fitted (R coxph, singular.ok = TRUE)",
                      StatisticalWarning, stacklevel=3)
        core = fit_design(design.without(aliased), ties=ties, robust=robust, tol=tol, max_iter=max_iter)
        return core.with_aliased(design, aliased, means)
    off = None if design.offset is None else design.offset[order]
    robust = robust or design.cluster is not None
    states: dict[str, CoxState] = {}  # the last evaluation, and the one at beta = 0 for robust fits

    # Newton-Raphson runs on the scaled parametrisation b = beta / scale (coxfit6.c), with the
    # centred matrix: x_scaled b = xc (b * scale), so U and I are scaled instead of the matrix
    outer = np.outer(scale, scale)
    if ties == "exact":
        exact = ExactLayout(layout)

        def evaluate(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            ll, u, imat = exact.evaluate(xc, b * scale, off)
            return ll, u * scale, imat * outer
    else:
        def evaluate(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            st = layout.evaluate(xc, b * scale, off)
            assert st.info is not None
            states["last"] = st
            if robust and off is None:
                states.setdefault("zero", st)
            return st.loglik, st.score * scale, st.info * outer

    nr = newton_raphson(evaluate, design.x.shape[1], float(tol), max_iter, exact_rule=ties == "exact")
    beta = nr.beta * scale
    var = _inverse(nr.info) * np.outer(scale, scale)
    var = (var + var.T) / 2
    _warn_convergence(nr, design.names, beta, var, nr.score * scale, tol, max_iter)
    naive_var = robust_score = None
    if robust:
        naive_var = var
        last = states["last"]
        state = last if np.array_equal(last.beta, beta) else layout.evaluate(xc, beta, off)
        state0 = states.get("zero") or layout.evaluate(xc, np.zeros(len(beta)), None, info=False)
        var, robust_score = _robust_variance(layout, design, xc, state, state0, naive_var)
    ctx = CoxFitContext(design=design, layout=layout, x_centred=xc, scale=scale, offset=off, means=means,
                        ties=ties)
    return CoxResult.from_fit(
        ctx=ctx, coef=beta, var=var, naive_var=naive_var, loglik_null=nr.loglik_init, loglik=nr.loglik,
        iterations=nr.iterations, converged=nr.converged, score_test=nr.score_test,
        wald_test=float(beta @ _solve(var, beta)), robust_score_test=robust_score,
    )


@without_huge_page_hint
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
                          event_codes=event_codes, check=False)  # aliasing: found on the sorted matrix
    return fit_design(design, ties=ties, robust=robust, tol=tol, max_iter=max_iter)
