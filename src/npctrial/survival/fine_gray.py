"""Fine-Gray proportional subdistribution hazards regression, as ``cmprsk::crr``.

Model (Fine JP & Gray RJ, JASA 1999;94:496-509): the subdistribution hazard of cause k is
``lambda_k(t | x) = lambda_k0(t) exp(x' beta)``. The pseudo partial likelihood uses, at each
time of a cause-k event, the risk set {T_j >= t} plus the subjects who failed from another
cause before t, weighted by ``G(t-) / G(T_j-)`` where G is the Kaplan-Meier estimate of the
censoring distribution. The variance is Fine & Gray's sandwich, including the estimation of G.

Every sum over a risk set is written as a cumulative sum over the sorted times, so a fit costs
one sort plus O(n p^2) per Newton step, and the sandwich variance O(n p^2) (a direct
evaluation of the formulas is O(n^2)). That numerical engine is in
:mod:`npctrial.survival.fine_gray_estimation`; this module holds the design matrix, input
validation, the entry point and the result.

Behaviour matched to ``cmprsk::crr`` 2.2-11 (its documented defaults and its outputs, checked in
``tests/data/refs``), beyond ``domain/statistics.md`` section 8:

* G(T_i-) is the left limit of the censoring Kaplan-Meier at T_i (evaluated at T_i (1 - 100 eps));
* convergence: stop when ``max(|score| * max(|beta|, 1)) < max(|loglik|, 1) * gtol`` (gtol 1e-6,
  at most 10 Newton steps, at most 20 step halvings with the Armijo factor 1e-4);
* the sandwich middle term adds, for every subject, Fine & Gray's censoring-martingale term psi_i
  (their section 3), not only the score residual eta_i.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ConvergenceWarning, ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.confidence import check_conf_level
from npctrial.survival.distributions import chi2_sf, norm_ppf, norm_sf
from npctrial.survival.fine_gray_estimation import (
    _newton,
    _objective,
    _prepare,
    _sandwich_middle,
)
from npctrial.survival.fine_gray_estimation import (
    _objective_grad_hess as _objective_grad_hess,  # re-exported for benchmarks
)
from npctrial.survival.memory_pages import without_huge_page_hint

__all__ = ["FineGrayResult", "fine_gray"]


# --------------------------------------------------------------------------------------------
# design matrix (R treatment contrasts for the categorical columns)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    terms: tuple[str, ...]
    covariates: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: dict[str, tuple[Any, ...]]

    def matrix(self, frame: pd.DataFrame, *, where: str) -> np.ndarray:
        cols: list[np.ndarray] = []
        for cov in self.covariates:
            if cov not in frame.columns:
                raise ValidationError(f"{where} has no column {cov!r}", field=cov)
            col = frame[cov]
            if cov in self.categorical:
                levels = self.levels[cov]
                vals = col.to_numpy(dtype=object)
                known = pd.Series(vals).isin(list(levels)).to_numpy()
                if not known.all():
                    pos = int(np.flatnonzero(~known)[0])
                    raise ValidationError(
                        f"{cov} value {vals[pos]!r} in row {pos} of {where} is not one of the "
                        f"fitted levels {list(levels)!r}",
                        field=cov,
                        row=pos,
                    )
                for lv in levels[1:]:
                    cols.append((vals == lv).astype(np.float64))
            else:
                try:
                    arr = pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64)
                except (TypeError, ValueError):
                    raise ValidationError(
                        f"{cov} must be numeric (or listed in categorical=)", field=cov
                    ) from None
                cols.append(arr)
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def _build_design(frame: pd.DataFrame, covariates: Sequence[str], categorical: Sequence[str]) -> _Design:
    covs = tuple(covariates)
    cats = tuple(categorical)
    for c in cats:
        if c not in covs:
            raise ValidationError(f"categorical column {c!r} is not among the covariates", field=c)
    terms: list[str] = []
    levels: dict[str, tuple[Any, ...]] = {}
    for cov in covs:
        if cov in cats:
            col = frame[cov]
            if isinstance(col.dtype, pd.CategoricalDtype):
                lv = [v for v in col.cat.categories if (col == v).any()]
            else:
                lv = sorted(pd.unique(col.dropna()).tolist())
            if len(lv) < 2:
                raise ValidationError(f"categorical covariate {cov!r} has fewer than two levels", field=cov)
            levels[cov] = tuple(lv)
            terms += [f"{cov}{v}" for v in lv[1:]]
        else:
            terms.append(cov)
    return _Design(terms=tuple(terms), covariates=covs, categorical=cats, levels=levels)


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FineGrayResult(FrozenResult):
    """A Fine-Gray fit (``cmprsk::crr``).

    ``coef``, ``se`` (sqrt of the sandwich ``var``), ``z``, ``p`` (two-sided normal),
    ``conf_int`` (exp(coef) CI at ``conf_level``), ``loglik`` / ``loglik_null`` (pseudo
    log-likelihood at the estimate and at 0), ``lr_stat``, ``information`` (minus the Hessian),
    ``converged``, ``iterations``, ``n``, ``n_missing``; ``baseline_time``/``baseline_jump``
    (jumps of the baseline cumulative subdistribution hazard, cmprsk's ``uftime``/``bfitj``).
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    conf_int: np.ndarray
    var: np.ndarray
    information: np.ndarray
    loglik: float
    loglik_null: float
    converged: bool
    iterations: int
    n: int
    n_missing: int
    n_events: int
    cause: Any
    conf_level: float
    baseline_time: np.ndarray
    baseline_jump: np.ndarray
    _design: _Design

    @property
    def hazard_ratio(self) -> np.ndarray:
        return np.exp(self.coef)

    @property
    def lr_stat(self) -> float:
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def lr_p(self) -> float:
        return float(chi2_sf(self.lr_stat, len(self.coef)))

    def to_frame(self) -> pd.DataFrame:
        """One row per term: coef, exp_coef, se, z, p, lower, upper (CI for exp(coef))."""
        return pd.DataFrame(
            {"coef": self.coef, "exp_coef": self.hazard_ratio, "se": self.se, "z": self.z,
             "p": self.p, "lower": self.conf_int[:, 0], "upper": self.conf_int[:, 1]},
            index=pd.Index(self.terms, name="term"),
        )

    def summary(self) -> str:
        """Text laid out like R's ``summary(crr)``."""
        pct = 100 * (1 - self.conf_level) / 2
        lines = ["Competing Risks Regression (Fine-Gray)", ""]
        lines.append(f"{'':>12}{'coef':>11}{'exp(coef)':>11}{'se(coef)':>11}{'z':>9}{'p-value':>10}")
        for t, b, se, z, p in zip(self.terms, self.coef, self.se, self.z, self.p, strict=True):
            lines.append(f"{t:>12}{b:>11.4g}{np.exp(b):>11.4g}{se:>11.4g}{z:>9.3g}{p:>10.2g}")
        lines.append("")
        lines.append(
            f"{'':>12}{'exp(coef)':>11}{'exp(-coef)':>11}{f'{pct:.3g}%':>9}{f'{100 - pct:.3g}%':>9}"
        )
        for t, b, (lo, hi) in zip(self.terms, self.coef, self.conf_int, strict=True):
            lines.append(f"{t:>12}{np.exp(b):>11.4g}{np.exp(-b):>11.4g}{lo:>9.3g}{hi:>9.3g}")
        lines.append("")
        miss = f" ({self.n_missing} cases omitted due to missing values)" if self.n_missing else ""
        lines.append(f"Num. cases = {self.n}{miss}")
        lines.append(f"Pseudo Log-likelihood = {self.loglik:.6g}")
        lines.append(f"Pseudo likelihood ratio test = {self.lr_stat:.2f}  on {len(self.coef)} df,")
        if not self.converged:
            lines.append("crr did not converge")
        return "\n".join(lines)

    def predict_cumulative_incidence(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """Predicted cumulative incidence of the cause for each row of ``newdata`` (``predict.crr``).

        F(t | x) = 1 - exp(-sum_{t_k <= t} exp(x' beta) dLambda0(t_k)), at the distinct cause
        times. Returns a frame indexed by time with one column per row of ``newdata``.
        """
        if not isinstance(newdata, pd.DataFrame):
            raise ValidationError("newdata must be a pandas DataFrame", field="newdata")
        x = self._design.matrix(newdata, where="newdata")
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"newdata row {pos} has a missing covariate", field="newdata", row=pos)
        risk = np.exp(x @ self.coef)
        cumhaz = np.cumsum(self.baseline_jump)[:, None] * risk[None, :]
        return pd.DataFrame(
            1.0 - np.exp(-cumhaz),
            index=pd.Index(self.baseline_time, name="time"),
            columns=list(newdata.index),
        )


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------


@without_huge_page_hint
def fine_gray(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    cause: Any = 1,
    censor_code: Any = 0,
    categorical: Sequence[str] = (),
    conf_level: float = 0.95,
    gtol: float = 1e-6,
    max_iter: int = 10,
    init: Sequence[float] | None = None,
) -> FineGrayResult:
    """Fit the Fine-Gray model for ``cause`` (``cmprsk::crr(ftime, fstatus, cov1, failcode,
    cencode)``); every other non-censoring code is a competing cause.

    Rows with a missing value in a used column are dropped (R's na.omit) and counted in
    ``n_missing``. Categorical covariates use treatment contrasts (sorted levels, the first is
    the reference; a pandas Categorical keeps its category order).

    Steps: 1. validate, drop missing rows, build the design matrix and sort by time (stable);
    2. G(T-) from the censoring KM; 3. Newton-Raphson with backtracking from ``init`` (0) with
    crr's convergence rule (``gtol``, ``max_iter``); 4. Fine & Gray's sandwich variance
    H^-1 V2 H^-1; 5. baseline jumps d_k / S0(t_k) for prediction.
    """
    if not isinstance(data, pd.DataFrame):
        raise ValidationError("data must be a pandas DataFrame", field="data")
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covs:
        raise ValidationError("covariates must name at least one column", field="covariates")
    for col in [duration, event, *covs]:
        if col not in data.columns:
            raise ValidationError(f"data has no column {col!r}", field=col)
    check_conf_level(conf_level)
    used = data[[duration, event, *covs]]
    complete = used.notna().all(axis=1).to_numpy()
    n_missing = int((~complete).sum())
    frame = data if complete.all() else data.loc[complete]
    if len(frame) == 0:
        raise ValidationError("no rows left after dropping rows with missing values", field="data")
    design = _build_design(frame, covs, categorical)
    x = design.matrix(frame, where="data")
    try:
        t = pd.to_numeric(frame[duration], errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{duration} must be numeric", field=duration) from None
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{duration} must be finite and >= 0; row {pos} is {t[pos]!r}", field=duration, row=pos
        )
    ev = frame[event].to_numpy()
    is_cause = ev == cause
    is_cens = ev == censor_code
    if not is_cause.any():
        raise ValidationError(f"{event} has no event of cause {cause!r}", field=event)
    if not np.isfinite(x).all():
        r, c = np.argwhere(~np.isfinite(x))[0]
        raise ValidationError(f"covariate {design.terms[c]!r} is not finite in row {r}", field=design.terms[c], row=int(r))
    p = x.shape[1]
    const = np.ptp(x, axis=0) == 0
    if const.any():
        name = design.terms[int(np.flatnonzero(const)[0])]
        raise ValidationError(f"covariate {name!r} is constant", field=name)
    xc_full = x - x.mean(axis=0)  # centred: same fit, better conditioned sums
    scaled = xc_full / np.sqrt((xc_full**2).mean(axis=0))
    if p > 1 and np.linalg.matrix_rank(scaled.T @ scaled / scaled.shape[0]) < p:
        raise ValidationError(f"covariates {list(design.terms)} are collinear", field="covariates")

    order = np.argsort(t, kind="stable")
    t = t[order]
    ici = np.where(is_cause, 1, np.where(is_cens, 0, 2))[order]
    means = x.mean(axis=0)
    xc = xc_full[order]
    pp = _prepare(t, ici, xc)

    b0 = np.zeros(p) if init is None else np.asarray(init, dtype=np.float64)
    if b0.shape != (p,):
        raise ValidationError(f"init must have length {p}, got {b0.shape}", field="init")
    beta, f, _grad, converged, iterations = _newton(pp, b0, gtol, max_iter)
    if not converged:
        warnings.warn(
            f"Fine-Gray fit did not converge in {max_iter} iterations (gtol {gtol})",
            ConvergenceWarning,
            stacklevel=2,
        )
    hess, v2, s0 = _sandwich_middle(pp, beta)
    hinv = np.linalg.inv(hess)
    var = hinv @ v2 @ hinv.T
    se = np.sqrt(np.diag(var))
    z = beta / se
    pval = 2.0 * norm_sf(np.abs(z))
    q = norm_ppf(1 - (1 - conf_level) / 2)
    ci = np.column_stack([np.exp(beta - q * se), np.exp(beta + q * se)])
    jump = pp.fd / s0 * np.exp(-float(means @ beta))
    return FineGrayResult(
        terms=design.terms,
        coef=beta,
        se=se,
        z=z,
        p=pval,
        conf_int=ci,
        var=var,
        information=hess,
        loglik=-f,
        loglik_null=-_objective(pp, np.zeros(p)),
        converged=converged,
        iterations=iterations,
        n=int(t.shape[0]),
        n_missing=n_missing,
        n_events=int(is_cause.sum()),
        cause=cause,
        conf_level=conf_level,
        baseline_time=pp.ft,
        baseline_jump=jump,
        _design=design,
    )
