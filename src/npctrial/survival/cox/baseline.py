"""Baseline hazard and predicted survival after a Cox fit, as R's ``basehaz`` / ``survfit.coxph``.

Algorithm (R ``agsurv.R``, ``agsurv5.c``, ``coxsurvfit.R``; the hazard follows the fit's ties:
Efron fit -> Efron hazard (ctype 2), Breslow fit -> Breslow/Nelson-Aalen hazard (ctype 1)):

1. Per stratum and each distinct time t (events or censorings), with the tie terms of
   :mod:`.engine`: hazard increment dH = sum_k h_k, variance increment dV = sum_k c_k / phi_k^2,
   and dX = sum_k h_k xbar_k (zero at times without events); covariates centred at ``means``.
2. For a covariate vector z (centred) in stratum s (a stratified model needs the strata columns in
   ``newdata``), r = exp(z'beta): cumhaz(t) = r sum dH,
   Var(cumhaz) = r^2 [sum dV + D(t)' V D(t)], D(t) = sum (dH z - dX), V the fit's variance;
   std.err = sqrt(Var) (the SE of the cumulative hazard, = SE of log S). S = exp(-cumhaz).
3. ``basehaz(centered=True)``: z = means (cumhaz at the mean covariates, R's fit$means, whose
   0/1 indicator entries are 0); ``centered=False``: z = 0, i.e. times exp(-means'beta).
4. Bands from :func:`npctrial.survival.confidence.confidence_band` (log, log-log, plain, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.confidence import check_conf, confidence_band
from npctrial.survival.cox.design_matrix import newdata_matrix

if TYPE_CHECKING:
    from npctrial.survival.cox.context import CoxFitContext

__all__ = ["BaselineHazard", "CoxSurvivalCurve", "CoxSurvivalPrediction", "compute_baseline_hazard",
           "predict_survival"]


@dataclass(frozen=True)
class _StratumTerms:
    stratum: Any
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    d_haz: np.ndarray
    d_var: np.ndarray
    d_x: np.ndarray  # (times, p)


@dataclass(frozen=True)
class BaselineHazard(FrozenResult):
    """Cumulative baseline hazard per stratum (R ``basehaz``)."""

    time: np.ndarray
    hazard: np.ndarray  # cumulative hazard
    strata: np.ndarray | None
    centered: bool

    def to_frame(self) -> pd.DataFrame:
        cols: dict[str, Any] = {"time": self.time, "hazard": self.hazard}
        if self.strata is not None:
            cols["strata"] = self.strata
        return pd.DataFrame(cols)


@dataclass(frozen=True)
class CoxSurvivalCurve(FrozenResult):
    """One predicted curve (one newdata row)."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    cumhaz: np.ndarray
    std_err: np.ndarray  # SE of the cumulative hazard
    lower: np.ndarray
    upper: np.ndarray
    stratum: Any = None


@dataclass(frozen=True)
class CoxSurvivalPrediction(FrozenResult):
    """Curves for the rows of ``newdata`` (R ``survfit(fit, newdata)``)."""

    curves: tuple[CoxSurvivalCurve, ...]
    conf_type: str
    conf_level: float

    def _stack(self, attr: str) -> np.ndarray:
        t0 = self.curves[0].time
        if any(len(c.time) != len(t0) or np.any(c.time != t0) for c in self.curves):
            raise ValidationError("curves have different time points (different strata); use .curves",
                                  field="newdata")
        return np.column_stack([getattr(c, attr) for c in self.curves])

    @property
    def time(self) -> np.ndarray:
        return self.curves[0].time

    @property
    def surv(self) -> np.ndarray:
        """(times, rows) matrix of survival probabilities."""
        return self._stack("surv")

    @property
    def cumhaz(self) -> np.ndarray:
        return self._stack("cumhaz")

    @property
    def std_err(self) -> np.ndarray:
        return self._stack("std_err")

    @property
    def lower(self) -> np.ndarray:
        return self._stack("lower")

    @property
    def upper(self) -> np.ndarray:
        return self._stack("upper")

    def to_frame(self) -> pd.DataFrame:
        frames = []
        for i, c in enumerate(self.curves):
            frames.append(pd.DataFrame({"row": i, "time": c.time, "n.risk": c.n_risk, "n.event": c.n_event,
                                        "n.censor": c.n_censor, "surv": c.surv, "cumhaz": c.cumhaz,
                                        "std.err": c.std_err, "lower": c.lower, "upper": c.upper}))
        return pd.concat(frames, ignore_index=True)


def _stratum_terms(ctx: CoxFitContext, coef: np.ndarray) -> list[_StratumTerms]:
    lay = ctx.layout
    state = ctx.state(coef)
    n_groups = lay.n_groups
    gi = lay.exp_group
    d_haz_g = state.group_hazard
    d_var_g = np.bincount(gi, weights=lay.exp_c / state.phi**2, minlength=n_groups)
    d_x_g = lay.xbar_sums(state, state.hazard)
    w = lay.weights_s
    bs = lay.block_start
    b_time = lay.time_s[bs]
    b_strat = lay.strata_s[bs]
    b_event = np.add.reduceat(w * lay.status_s, bs)
    b_cens = np.add.reduceat(w * (1 - lay.status_s), bs)
    nb = len(bs)
    # weighted number at risk at each block time: rows with entry < t <= stop in the stratum
    at_risk = np.empty(nb)
    for s in np.unique(b_strat):
        sel = np.flatnonzero(b_strat == s)
        rows = lay.strata_s == s
        stops = np.sort(lay.time_s[rows])
        wsr = w[rows][np.argsort(lay.time_s[rows], kind="stable")]
        tail = np.concatenate([np.cumsum(wsr[::-1])[::-1], [0.0]])
        at_risk[sel] = tail[np.searchsorted(stops, b_time[sel], side="left")]
        if lay.entry_s is not None:
            eo = np.argsort(lay.entry_s[rows], kind="stable")
            ent = lay.entry_s[rows][eo]
            etail = np.concatenate([np.cumsum(w[rows][eo][::-1])[::-1], [0.0]])
            at_risk[sel] -= etail[np.searchsorted(ent, b_time[sel], side="left")]
    p = ctx.x_centred.shape[1]
    d_haz = np.zeros(nb)
    d_var = np.zeros(nb)
    d_x = np.zeros((nb, p))
    d_haz[lay.grp_block] = d_haz_g
    d_var[lay.grp_block] = d_var_g
    d_x[lay.grp_block] = d_x_g
    out = []
    levels = ctx.design.strata_levels
    for s in np.unique(b_strat):
        sel = b_strat == s
        label = levels[s] if levels else None
        out.append(_StratumTerms(label, b_time[sel], at_risk[sel], b_event[sel], b_cens[sel], d_haz[sel],
                                 d_var[sel], d_x[sel]))
    return out


def compute_baseline_hazard(ctx: CoxFitContext, coef: np.ndarray, centered: bool = True) -> BaselineHazard:
    """Cumulative baseline hazard of a fit (its context and coefficients; steps 1 and 3 of the
    module docstring)."""
    terms = _stratum_terms(ctx, coef)
    factor = 1.0 if centered else float(np.exp(-np.dot(ctx.means, coef)))
    time = np.concatenate([t.time for t in terms])
    haz = np.concatenate([np.cumsum(t.d_haz) for t in terms]) * factor
    strata = None
    if terms[0].stratum is not None:
        strata = np.concatenate([[t.stratum] * len(t.time) for t in terms])
    return BaselineHazard(time=time, hazard=haz, strata=strata, centered=centered)


def predict_survival(ctx: CoxFitContext, coef: np.ndarray, var: np.ndarray, newdata: pd.DataFrame,
                     conf_type: str = "log", conf_level: float = 0.95) -> CoxSurvivalPrediction:
    """Predicted survival with SE and bands for each row of ``newdata`` from a fit (its context,
    coefficients and variance; module docstring)."""
    check_conf(conf_type, conf_level)
    x2, strata_idx = newdata_matrix(ctx.design, newdata)
    all_terms = _stratum_terms(ctx, coef)
    levels = ctx.design.strata_levels
    by_label = {t.stratum: t for t in all_terms}
    curves = []
    for i, z in enumerate(x2 - ctx.means):
        if strata_idx is None:
            terms = all_terms[0]
        else:
            label = levels[strata_idx[i]]
            if label not in by_label:
                raise ValidationError(f"stratum {label!r} has no rows in the fit", field="newdata")
            terms = by_label[label]
        cum_haz0 = np.cumsum(terms.d_haz)
        cum_var0 = np.cumsum(terms.d_var)
        r = float(np.exp(z @ coef))
        dt = np.cumsum(terms.d_haz[:, None] * z[None, :] - terms.d_x, axis=0)
        varh = (cum_var0 + np.einsum("ij,jk,ik->i", dt, var, dt)) * r * r
        se = np.sqrt(varh)
        cumhaz = cum_haz0 * r
        surv = np.exp(-cumhaz)
        lower, upper = confidence_band(surv, se, conf_type, conf_level)
        curves.append(CoxSurvivalCurve(terms.time, terms.n_risk, terms.n_event, terms.n_censor, surv, cumhaz,
                                       se, lower, upper, terms.stratum))
    return CoxSurvivalPrediction(tuple(curves), conf_type, float(conf_level))
