"""CoxResult: the frozen result of :func:`cox_ph`, laid out like R's ``summary(coxph)``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.cox import residuals as res
from npctrial.survival.cox.baseline import (
    BaselineHazard,
    CoxSurvivalPrediction,
    compute_baseline_hazard,
    predict_survival,
)
from npctrial.survival.cox.concordance import Concordance, compute_concordance
from npctrial.survival.cox.context import CoxFitContext
from npctrial.survival.cox.products import row_dot
from npctrial.survival.cox.zph import CoxZphResult, compute_zph, plot_zph
from npctrial.survival.distributions import chi2_sf, norm_ppf, norm_sf

if TYPE_CHECKING:
    from npctrial.survival.cox.design_matrix import CoxDesign

__all__ = ["CoxTest", "CoxResult"]

RESIDUAL_KINDS = ("martingale", "deviance", "score", "schoenfeld", "scaled_schoenfeld", "dfbeta")


@dataclass(frozen=True)
class CoxTest(FrozenResult):
    """A chi-square test: statistic, degrees of freedom and p-value."""

    statistic: float
    df: int
    p_value: float

    @classmethod
    def of(cls, statistic: float, df: int) -> CoxTest:
        return cls(float(statistic), int(df), float(chi2_sf(statistic, df)))


@dataclass(frozen=True)
class CoxResult(FrozenResult):
    """A fitted Cox model. Arrays are indexed like ``names`` (one entry per coefficient).

    ``aliased`` names the terms R would report as NA (constant or collinear columns): their
    coef, se, var rows/columns, z, p and limits are NaN; the diagnostics (residuals, zph,
    baseline hazard, predictions) are those of the model of the other terms.
    """

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray  # model-based SE, sqrt(diag(naive var))
    robust_se: np.ndarray | None
    var: np.ndarray  # robust when robust_se is not None
    naive_var: np.ndarray | None
    loglik_null: float
    loglik: float
    iterations: int
    converged: bool
    lr_test: CoxTest
    wald_test: CoxTest
    score_test: CoxTest
    robust_score_test: CoxTest | None
    means: np.ndarray
    n: int
    n_events: int
    n_dropped: int
    ties: str
    conf_level: float = 0.95
    terms: dict[str, tuple[int, ...]] = field(default_factory=dict)
    aliased: tuple[str, ...] = ()
    _ctx: CoxFitContext | None = field(default=None, repr=False, compare=False)
    _estimable: CoxResult | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_fit(cls, *, ctx: CoxFitContext, coef: np.ndarray, var: np.ndarray, naive_var: np.ndarray | None,
                 loglik_null: float, loglik: float, iterations: int, converged: bool, score_test: float,
                 wald_test: float, robust_score_test: float | None) -> CoxResult:
        d = ctx.design
        p = len(coef)
        base_var = var if naive_var is None else naive_var
        return cls(
            names=d.names,
            coef=coef,
            se=np.sqrt(np.diag(base_var)),
            robust_se=None if naive_var is None else np.sqrt(np.diag(var)),
            var=var,
            naive_var=naive_var,
            loglik_null=float(loglik_null),
            loglik=float(loglik),
            iterations=int(iterations),
            converged=bool(converged),
            lr_test=CoxTest.of(2.0 * (loglik - loglik_null), p),
            wald_test=CoxTest.of(wald_test, p),
            score_test=CoxTest.of(score_test, p),
            robust_score_test=None if robust_score_test is None else CoxTest.of(robust_score_test, p),
            means=ctx.means,
            n=d.n,
            n_events=d.n_events,
            n_dropped=d.n_dropped,
            ties=ctx.ties,
            terms=dict(d.terms),
            _ctx=ctx,
        )

    def with_aliased(self, design: CoxDesign, aliased: Sequence[int], means: np.ndarray) -> CoxResult:
        """This fit (of ``design`` without the ``aliased`` columns) reported on every column of
        ``design``: NaN for the aliased ones, as R's NA coefficients."""
        p = len(design.names)
        keep = np.setdiff1d(np.arange(p), np.asarray(aliased, dtype=int))

        def vec(v: np.ndarray) -> np.ndarray:
            out = np.full(p, np.nan)
            out[keep] = v
            return out

        def mat(m: np.ndarray) -> np.ndarray:
            out = np.full((p, p), np.nan)
            out[np.ix_(keep, keep)] = m
            return out

        return replace(self, names=design.names, coef=vec(self.coef), se=vec(self.se),
                       robust_se=None if self.robust_se is None else vec(self.robust_se), var=mat(self.var),
                       naive_var=None if self.naive_var is None else mat(self.naive_var),
                       means=means, terms=dict(design.terms),
                       aliased=tuple(design.names[j] for j in aliased), _estimable=self)

    @property
    def _core(self) -> CoxResult:
        """The fit of the estimable terms (itself when nothing is aliased)."""
        return self if self._estimable is None else self._estimable

    # ------------------------------------------------------------ inference
    @property
    def hazard_ratio(self) -> np.ndarray:
        return np.exp(self.coef)

    @property
    def _se_used(self) -> np.ndarray:
        return self.se if self.robust_se is None else self.robust_se

    @property
    def z(self) -> np.ndarray:
        """Wald z = coef / SE (robust SE when the variance is robust, as R's summary)."""
        return self.coef / self._se_used

    @property
    def p(self) -> np.ndarray:
        return 2.0 * norm_sf(np.abs(self.z))

    @property
    def conf_int_coef(self) -> np.ndarray:
        """(p, 2) confidence limits of the coefficients at ``conf_level``."""
        q = norm_ppf(1.0 - (1.0 - self.conf_level) / 2.0)
        return np.column_stack([self.coef - q * self._se_used, self.coef + q * self._se_used])

    @property
    def conf_int(self) -> np.ndarray:
        """(p, 2) confidence limits of the hazard ratios at ``conf_level``."""
        return np.exp(self.conf_int_coef)

    @property
    def dropped_by_column(self) -> dict[str, int]:
        """Rows with a missing value, counted per column (a row may count in several)."""
        return dict(self._require_ctx().design.dropped_by_column)

    @property
    def xlevels(self) -> dict[str, tuple[Any, ...]]:
        """Levels of each categorical covariate, reference first (R ``fit$xlevels``)."""
        return dict(self._require_ctx().design.xlevels)

    @property
    def linear_predictors(self) -> np.ndarray:
        """x'beta + offset centred at ``means`` (R ``fit$linear.predictors``), in data order."""
        ctx = self._require_ctx()
        core = self._core
        # R: x %*% coef - sum(coef * means). ``row_dot`` sends every row through the same
        # floating-point operations, so identical covariate rows get bit-identical values
        # (concordance counts ties in the predictor by exact equality, as R does).
        lp = row_dot(ctx.design.x, core.coef)
        lp -= float(core.coef @ core.means)
        if ctx.design.offset is not None:
            lp += ctx.design.offset
        return lp

    @cached_property
    def concordance(self) -> Concordance:
        """Harrell's C of the linear predictor as R's ``concordance()`` (within strata)."""
        ctx = self._require_ctx()
        d = ctx.design
        return compute_concordance(d.time, d.status, self.linear_predictors, strata=d.strata,
                                   weights=d.weights, cluster=d.cluster, entry=d.entry, reverse=True)

    # ---------------------------------------------------------- diagnostics
    def _require_ctx(self) -> CoxFitContext:
        if self._ctx is None:
            raise ValidationError("this CoxResult carries no fit data", field="result")
        return self._ctx

    def residuals(self, kind: str = "martingale") -> np.ndarray:
        """Residuals as R's ``residuals(fit, type)``: martingale, deviance (one per row, data
        order), score, dfbeta (n x p, data order), schoenfeld, scaled_schoenfeld (one row per
        event in (stratum, time) order, deaths first within a time)."""
        if kind not in RESIDUAL_KINDS:
            raise ValidationError(f"kind must be one of {RESIDUAL_KINDS}, got {kind!r}", field="kind")
        if self._estimable is not None:
            r = self._estimable.residuals(kind)
            if r.ndim == 1:
                return r
            out = np.full((r.shape[0], len(self.names)), np.nan)
            out[:, [self.names.index(nm) for nm in self._estimable.names]] = r
            return out
        ctx = self._require_ctx()
        if ctx.ties == "exact" and kind not in ("martingale", "deviance"):
            raise ValidationError(f"{kind} residuals are not available for ties='exact' (as in R)", field="kind")
        lay = ctx.layout
        state = ctx.state(self.coef)
        inv = np.empty_like(lay.order)
        inv[lay.order] = np.arange(len(lay.order))
        if kind in ("martingale", "deviance"):
            m = res.martingale_residuals(lay, state)[inv]
            if kind == "martingale":
                return m
            return res.deviance_residuals(m, ctx.design.status)
        if kind in ("score", "dfbeta"):
            sr = res.score_residuals(lay, state, ctx.x_centred)[inv]
            if kind == "score":
                return sr
            w = np.ones(len(sr)) if ctx.design.weights is None else ctx.design.weights
            base = self.var if self.naive_var is None else self.naive_var
            return (sr * w[:, None]) @ base
        sch = res.schoenfeld_residuals(lay, state, ctx.x_centred)
        if kind == "schoenfeld":
            return sch
        base = self.var if self.naive_var is None else self.naive_var
        return self.coef + sch @ base * self.n_events

    @property
    def event_times(self) -> np.ndarray:
        """Times of the events in the order of the Schoenfeld residual rows."""
        lay = self._require_ctx().layout
        return lay.time_s[lay.death_rows]

    def zph(self, transform: str = "km") -> CoxZphResult:
        """Test of proportional hazards as R's ``cox.zph(fit, transform)`` (terms and GLOBAL; the
        terms of an aliased fit are the estimable ones, as R)."""
        core = self._core
        base = core.var if core.naive_var is None else core.naive_var
        return compute_zph(core._require_ctx(), core.coef, base, transform=transform)

    def plot_zph(self, term: str | None = None, transform: str = "km", ax: Any = None) -> Any:
        """Plot scaled Schoenfeld residuals against transformed time with a lowess-free smooth."""
        return plot_zph(self.zph(transform), term=term, ax=ax)

    def baseline_hazard(self, centered: bool = True) -> BaselineHazard:
        """Cumulative baseline hazard as R's ``basehaz(fit, centered)``."""
        core = self._core
        return compute_baseline_hazard(core._require_ctx(), core.coef, centered=centered)

    def predict_survival(self, newdata: pd.DataFrame, conf_type: str = "log",
                         conf_level: float = 0.95) -> CoxSurvivalPrediction:
        """Predicted survival curves as R's ``survfit(fit, newdata, conf.type)``."""
        core = self._core
        return predict_survival(core._require_ctx(), core.coef, core.var, newdata, conf_type=conf_type,
                                conf_level=conf_level)

    # -------------------------------------------------------------- output
    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: coef, exp(coef), se(coef), [robust se], z, p, CI of exp(coef)."""
        ci = self.conf_int
        cols: dict[str, Any] = {"coef": self.coef, "exp(coef)": self.hazard_ratio, "se(coef)": self.se}
        if self.robust_se is not None:
            cols["robust se"] = self.robust_se
        lvl = f"{self.conf_level:g}"
        cols.update({"z": self.z, "p": self.p, f"lower .{lvl[2:]}": ci[:, 0], f"upper .{lvl[2:]}": ci[:, 1]})
        return pd.DataFrame(cols, index=pd.Index(self.names, name="term"))

    def summary(self) -> str:
        """Text laid out like R's ``summary(coxph)``."""
        frame = self.to_frame()
        lines = [f"  n= {self.n}, number of events= {self.n_events}"]
        if self.n_dropped:
            lines.append(f"   ({self.n_dropped} observation{'s' if self.n_dropped > 1 else ''} deleted due to "
                         "missingness)")
        lines.append("")
        first = frame[[c for c in frame.columns if c in ("coef", "exp(coef)", "se(coef)", "robust se", "z")]].copy()
        first["Pr(>|z|)"] = self.p
        lines.append(first.to_string(float_format=lambda v: f"{v:.5g}", na_rep="NA"))
        lines.append("")
        second = pd.DataFrame({"exp(coef)": self.hazard_ratio, "exp(-coef)": np.exp(-self.coef),
                               frame.columns[-2]: frame.iloc[:, -2], frame.columns[-1]: frame.iloc[:, -1]},
                              index=frame.index)
        lines.append(second.to_string(float_format=lambda v: f"{v:.4g}", na_rep="NA"))
        lines.append("")
        if self.aliased:
            lines.append(f"Aliased (NA, constant or collinear): {', '.join(self.aliased)}")
            lines.append("")
        c = self.concordance
        lines.append(f"Concordance= {c.c_index:.3f}  (se = {c.std_err:.3f} )")
        lines.append(f"Likelihood ratio test= {self.lr_test.statistic:.2f}  on {self.lr_test.df} df,   "
                     f"p={self.lr_test.p_value:.3g}")
        lines.append(f"Wald test            = {self.wald_test.statistic:.2f}  on {self.wald_test.df} df,   "
                     f"p={self.wald_test.p_value:.3g}")
        lines.append(f"Score (logrank) test = {self.score_test.statistic:.2f}  on {self.score_test.df} df,   "
                     f"p={self.score_test.p_value:.3g}"
                     + ("" if self.robust_score_test is None else
                        f",   Robust = {self.robust_score_test.statistic:.2f}  p={self.robust_score_test.p_value:.3g}"))
        if self.robust_se is not None:
            lines.append("")
            lines.append("  (Note: the likelihood ratio and score tests assume independence of")
            lines.append("     observations within a cluster, the Wald and robust score tests do not).")
        return "\n".join(lines)
