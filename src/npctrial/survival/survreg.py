"""Parametric accelerated failure time regression, as R's ``survreg`` (survival 3.5).

``survreg(data, duration, event, covariates, dist=...)`` fits log T = b0 + x'b + sigma W for
``dist`` "weibull" (W extreme value), "exponential" (Weibull with sigma = 1), "lognormal" (W
normal) and "loglogistic" (W logistic) by maximum likelihood (Kalbfleisch & Prentice 2002,
ch. 3; Klein & Moeschberger 2003, ch. 12); the numerics are in :mod:`.aft_fit`,
the distributions in :mod:`.aft_distributions`.

1. The design is the Cox design of :func:`~npctrial.survival.cox_ph` (na.omit, treatment
   contrasts for ``categorical``, event 0/1 or R's 1/2) with an intercept column; follow-up
   times must be > 0 (R: "Invalid survival times for this distribution"); aliased covariates
   are an error naming them.
2. Coefficients are on the log-time scale (a positive coefficient lengthens survival: the
   time ratio is exp(coef)); ``scale`` = sigma; ``var`` covers the coefficients and, unless the
   scale is fixed, Log(scale) (R's layout, "Log(scale)" last).
3. ``loglik`` / ``loglik_null`` (the intercept-only model) are on the time scale, as R's;
   the likelihood-ratio chi-square has (number of coefficients - 1) degrees of freedom.
4. Predictions as R's ``predict.survreg``: linear predictor (``type="lp"``), exp(lp)
   (``"response"``), quantiles exp(lp + sigma Q_W(p)) (``"quantile"``), with delta-method
   standard errors from ``var`` (Log(scale) included for quantiles); survival probabilities
   S(t | x) = S_W((log t - lp) / sigma).

Divergences from R: no strata (one scale per stratum), no interval or left censoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ConvergenceWarning, ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.aft_distributions import AFT_DISTRIBUTIONS, AftErrorDistribution
from npctrial.survival.aft_fit import MAX_ITER, fit_aft
from npctrial.survival.cox.design_matrix import (
    CoxDesign,
    build_design,
    find_aliased,
    newdata_matrix,
)
from npctrial.survival.distributions import chi2_sf, norm_ppf, norm_sf
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.validation import check_choice, check_conf_level, check_count

__all__ = ["SurvregResult", "survreg"]


@dataclass(frozen=True)
class SurvregResult(FrozenResult):
    """A fitted AFT model (R ``survreg``). ``names`` starts with "(Intercept)"."""

    names: tuple[str, ...]
    coef: np.ndarray
    scale: float
    var: np.ndarray  # coefficients, then Log(scale) unless the scale is fixed
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    dist: str
    fixed_scale: bool
    n: int
    n_events: int
    n_dropped: int
    linear_predictors: np.ndarray
    conf_level: float = 0.95
    _design: CoxDesign | None = field(default=None, repr=False, compare=False)

    @property
    def _distribution(self) -> AftErrorDistribution:
        return AFT_DISTRIBUTIONS[self.dist][0]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Rows of ``var``: the coefficients, then "Log(scale)" unless the scale is fixed."""
        return self.names if self.fixed_scale else (*self.names, "Log(scale)")

    @property
    def se(self) -> np.ndarray:
        """Standard errors of ``parameter_names`` (sqrt of the diagonal of ``var``)."""
        return np.sqrt(np.diag(self.var))

    @property
    def time_ratio(self) -> np.ndarray:
        """exp(coef): the factor by which a unit change multiplies survival times."""
        return np.exp(self.coef)

    @property
    def lr_test(self) -> tuple[float, int, float]:
        """Likelihood-ratio chi-square against the intercept-only model: (chisq, df, p)."""
        chisq = 2.0 * (self.loglik - self.loglik_null)
        df = len(self.names) - 1
        return chisq, df, float(chi2_sf(chisq, df)) if df > 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """R's ``summary(fit)$table``: Value, Std. Error, z, p per parameter, and the limits."""
        value = self.coef if self.fixed_scale else np.r_[self.coef, np.log(self.scale)]
        se = self.se
        z = value / se
        q = norm_ppf(1.0 - (1.0 - self.conf_level) / 2.0)
        lvl = f"{self.conf_level:g}"[2:]
        return pd.DataFrame({"Value": value, "Std. Error": se, "z": z, "p": 2.0 * norm_sf(np.abs(z)),
                             f"lower .{lvl}": value - q * se, f"upper .{lvl}": value + q * se},
                            index=pd.Index(self.parameter_names, name="term"))

    def summary(self) -> str:
        """Text laid out like R's ``print(summary(survreg(...)))``."""
        table = self.to_frame().iloc[:, :4]
        lines = [table.to_string(float_format=lambda v: f"{v:.3g}" if abs(v) < 1e-3 else f"{v:.5g}"), ""]
        lines.append(f"Scale{' fixed at' if self.fixed_scale else '='} {self.scale:.3g} ")
        lines += ["", f"{self._distribution.title} distribution"]
        lines.append(f"Loglik(model)= {self.loglik:.1f}   Loglik(intercept only)= {self.loglik_null:.1f}")
        chisq, df, p = self.lr_test
        if df > 0:
            lines.append(f"\tChisq= {chisq:.2f} on {df} degrees of freedom, p= {p:.2g} ")
        lines.append(f"Number of Newton-Raphson Iterations: {self.iterations} ")
        dropped = f" ({self.n_dropped} observation{'s' if self.n_dropped > 1 else ''} deleted due to missingness)"
        lines.append(f"n={self.n}{dropped if self.n_dropped else ''}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # ------------------------------------------------------------------ prediction
    def _x(self, newdata: pd.DataFrame) -> np.ndarray:
        if self._design is None:
            raise ValidationError("this SurvregResult carries no design to predict from", field="result")
        x, _ = newdata_matrix(self._design, newdata)
        return np.column_stack([np.ones(len(newdata)), x]) if x.size else np.ones((len(newdata), 1))

    def predict(self, newdata: pd.DataFrame, type: str = "lp", p: Sequence[float] = (0.5,),
                se_fit: bool = False) -> Any:
        """R ``predict(fit, newdata, type, p, se.fit)``: "lp", "response" (exp(lp)) or "quantile"
        (rows of newdata x p). Returns the predictions, or (predictions, standard errors)."""
        check_choice(type, ("lp", "response", "quantile"), "type")
        x = self._x(newdata)
        k = len(self.names)
        lp = x @ self.coef
        se_lp = np.sqrt(np.einsum("ij,jk,ik->i", x, self.var[:k, :k], x))
        if type != "quantile":
            fit = lp if type == "lp" else np.exp(lp)
            return (fit, se_lp if type == "lp" else se_lp * fit) if se_fit else fit
        probs = np.asarray([check_conf_level(v, "p") for v in p], dtype=float)
        qw = self._distribution.quantile(probs)
        log_q = lp[:, None] + self.scale * qw[None, :]
        fit = np.exp(log_q)
        if not se_fit:
            return fit
        se = np.empty_like(fit)
        for j, q in enumerate(qw):
            grad = x if self.fixed_scale else np.column_stack([x, np.full(len(x), q * self.scale)])
            v = self.var if not self.fixed_scale else self.var[:k, :k]
            se[:, j] = np.sqrt(np.einsum("ij,jk,ik->i", grad, v, grad)) * fit[:, j]
        return fit, se

    def predict_survival(self, newdata: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
        """S(t | x) for each row of ``newdata`` (rows) at each of ``times`` (columns)."""
        t = np.asarray(times, dtype=float)
        if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise ValidationError(f"times must be finite and > 0, got {times!r}", field="times")
        lp = self._x(newdata) @ self.coef
        z = (np.log(t)[None, :] - lp[:, None]) / self.scale
        return pd.DataFrame(self._distribution.survival(z), index=newdata.index, columns=t)


@without_huge_page_hint
def survreg(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str] = (),
    *,
    dist: str = "weibull",
    categorical: Sequence[str] = (),
    reference: dict[str, Any] | None = None,
    weights: str | None = None,
    offset: str | None = None,
    max_iter: int = MAX_ITER,
    conf_level: float = 0.95,
    event_codes: tuple[Any, Any] | None = None,
) -> SurvregResult:
    """Accelerated failure time regression as R's ``survreg(Surv(duration, event) ~ covariates,
    dist=)`` (module docstring). Returns a :class:`SurvregResult`."""
    check_choice(dist, tuple(AFT_DISTRIBUTIONS), "dist")
    check_count(max_iter, "max_iter")
    conf_level = check_conf_level(conf_level)
    design = build_design(data, duration, event, list(covariates), categorical=categorical, reference=reference,
                          weights=weights, offset=offset, event_codes=event_codes, check=False)
    bad = design.time <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"{duration} must be > 0 for a log-time model (R: invalid survival times for this "
                              f"distribution); row {design.index[i]!r} is {design.time[i]:g}", field=duration,
                              row=int(design.rows[i]))
    aliased = find_aliased(design.x, design.names, design.weights)
    if aliased:
        raise ValidationError(f"covariate(s) {', '.join(design.names[j] for j in aliased)} are constant or "
                              "collinear: X matrix is singular", field=design.names[aliased[0]])
    error_dist, fixed = AFT_DISTRIBUTIONS[dist]
    fit = fit_aft(np.log(design.time), design.status, design.x if design.x.size else None, error_dist, fixed_scale=fixed,
                  weights=design.weights, offset=design.offset, max_iter=max_iter)
    if not fit.converged and max_iter > 1:
        import warnings

        warnings.warn(f"survreg ran out of iterations (max_iter={max_iter}) and did not converge",
                      ConvergenceWarning, stacklevel=2)
    k = 1 + design.x.shape[1]
    return SurvregResult(
        names=("(Intercept)", *design.names), coef=fit.theta[:k],
        scale=float(fixed if fixed is not None else np.exp(fit.theta[k])), var=fit.var,
        loglik=fit.loglik, loglik_null=fit.loglik_null, iterations=fit.iterations, converged=fit.converged,
        dist=dist, fixed_scale=fixed is not None, n=design.n, n_events=design.n_events,
        n_dropped=design.n_dropped, linear_predictors=fit.linear_predictors, conf_level=conf_level,
        _design=design,
    )
