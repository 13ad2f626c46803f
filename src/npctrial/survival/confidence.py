"""Pointwise confidence bands for a survival curve, as R's ``survfit_confint``.

The band is computed from ``std_err`` = SE of the cumulative hazard (= SE of log S, R's
``logse=TRUE``), z = Phi^-1(1 - (1 - conf_level)/2):

=========  ==============================================================================
plain      S -/+ z S se, clipped to [0, 1]                 (Klein & Moeschberger eq. 4.3.1)
log        S exp(-/+ z se), upper capped at 1              (R default)
log-log    exp(-exp(log(-log S) -/+ z se / log S))         (NA where S is 0 or 1)
logit      1 - 1/(1 + exp(logit S -/+ z se (1 + S/(1-S)))) (NA where S is 0)
arcsin     sin^2(asin(sqrt S) -/+ z se sqrt(S/(1-S)) / 2), arguments clipped to [0, pi/2]
=========  ==============================================================================

Where S = 0 the log, log-log, logit and arcsin bands are NA (NaN here) and the plain band is
NaN (R: se is Inf, so S*se is NaN), exactly as R survival 3.5 ``survfit_confint``.

Where S = 1 (censorings before the first event, se = 0) the log and plain bands equal S, but
the log-log band is NA: R sets ``xx <- ifelse(p==0 | p==1, NA, p)`` before taking log(-log p)
(survival 3.5 ``survfit_confint``). ``domain/statistics.md`` section 2 ("sigma = 0 -> both bounds
= S") does not hold for log-log; this module follows R.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from npctrial.survival.distributions import norm_ppf
from npctrial.validation import check_choice, check_conf_level

__all__ = ["CONF_TYPES", "ConfType", "check_conf", "check_conf_level", "confidence_band"]

ConfType = Literal["log", "log-log", "plain", "logit", "arcsin"]
CONF_TYPES: tuple[str, ...] = ("log", "log-log", "plain", "logit", "arcsin")


def check_conf(conf_type: str, conf_level: float) -> None:
    """Raise ValidationError for an unknown conf_type or a conf_level outside (0, 1)."""
    check_choice(conf_type, CONF_TYPES, "conf_type")
    check_conf_level(conf_level)


def confidence_band(
    surv: np.ndarray, std_err: np.ndarray, conf_type: str = "log", conf_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper pointwise bands (R ``survfit_confint`` with ``logse=TRUE``, ``ulimit``).

    Steps: 1. z = Phi^-1(1 - (1-conf_level)/2); 2. transform S, add -/+ z times the delta-method
    SE on the transformed scale; 3. back-transform, marking S = 0 (and S = 1 for log-log) NA.
    """
    check_conf(conf_type, conf_level)
    z = float(norm_ppf(1 - (1 - conf_level) / 2))
    p = np.asarray(surv, dtype=np.float64)
    se = np.asarray(std_err, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0.0), np.minimum(p + se2, 1.0)
        if conf_type == "log":
            # in place on fresh arrays (the curves can have millions of points)
            lx = np.log(p)
            lx[p == 0] = np.nan
            se2 = np.multiply(z, se)
            lower = np.subtract(lx, se2)
            np.exp(lower, out=lower)
            upper = np.add(lx, se2, out=lx)
            np.exp(upper, out=upper)
            np.minimum(upper, 1.0, out=upper)
            return lower, upper
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            ll = np.log(-np.log(xx))
            return np.exp(-np.exp(ll - se2)), np.exp(-np.exp(ll + se2))
        if conf_type == "logit":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se * (1 + xx / (1 - xx))
            lg = np.log(p / (1 - p))
            return 1 - 1 / (1 + np.exp(lg - se2)), 1 - 1 / (1 + np.exp(lg + se2))
        # arcsin
        xx = np.where(p == 0, np.nan, p)
        se2 = 0.5 * z * se * np.sqrt(xx / (1 - xx))
        a = np.arcsin(np.sqrt(xx))
        lower = np.sin(_pmax(0.0, a - se2)) ** 2
        upper = np.sin(_pmin(np.pi / 2, a + se2)) ** 2
        return lower, upper


def _pmax(c: float, x: np.ndarray) -> np.ndarray:
    """R's pmax (NaN propagates)."""
    return np.maximum(c, x)


def _pmin(c: float, x: np.ndarray) -> np.ndarray:
    return np.minimum(c, x)
