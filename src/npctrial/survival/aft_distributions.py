"""Error distributions of the accelerated failure time models (R ``survreg.distributions``).

An AFT model says log T = x'beta + sigma W. W follows a standard distribution: extreme value
(minimum) for the Weibull and exponential models, logistic for the log-logistic, normal for the
log-normal (Kalbfleisch & Prentice 2002, ch. 2-3; Klein & Moeschberger 2003, sec. 12.1).

For z = (log t - eta) / sigma each observation contributes g(z) - log sigma (an event,
g = log f_W) or g(z) (right-censored, g = log S_W). :meth:`AftErrorDistribution.log_terms`
returns g, g' and g'' for both cases, from which the fit builds the score and information of
(beta, log sigma):

    dl/deta = -g'/sigma          dl/dtau = -z g' - delta        (tau = log sigma)
    d2l/deta2 = g''/sigma^2      d2l/deta dtau = (z g'' + g')/sigma      d2l/dtau2 = z g' + z^2 g''

Extreme value: log f = z - e^z, log S = -e^z. Logistic (p = e^z / (1 + e^z)): log f = z -
2 log(1 + e^z), log S = -log(1 + e^z). Normal: log f = -z^2/2 - log sqrt(2 pi), log S = log
Phi(-z) with g' = -lambda, g'' = -lambda (lambda - z), lambda = phi(z) / Phi(-z) (computed from
log Phi, stable far in the tail).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AFT_DISTRIBUTIONS", "AftErrorDistribution"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _expit(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-z) = e^z / (1 + e^z), without overflow at either end."""
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


@dataclass(frozen=True)
class AftErrorDistribution:
    """The standard error distribution W of an AFT model."""

    name: str  # "extreme", "logistic" or "gaussian" (R's names)
    title: str  # as R prints it: "Weibull", "Log logistic", ...
    #: (intercept offset, variance divisor) of R's starting values: mean + offset, var / divisor
    init: tuple[float, float]

    def log_terms(self, z: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """g, g', g'' at z (events: log f, censored: log S)."""
        if self.name == "extreme":
            ez = np.exp(z)
            g = np.where(event, z - ez, -ez)
            return g, np.subtract(event, ez), -ez  # event - e^z: where(event, 1 - e^z, -e^z) exactly
        if self.name == "logistic":
            p = _expit(z)
            log1p = np.logaddexp(0.0, z)
            g = np.where(event, z - 2.0 * log1p, -log1p)
            return g, np.where(event, 1.0 - 2.0 * p, -p), np.where(event, -2.0, -1.0) * p * (1.0 - p)
        # the log-normal model only: scipy's import cost stays off the others
        from scipy.special import log_ndtr

        log_s = log_ndtr(-z)
        lam = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_s)
        g = np.where(event, -0.5 * z * z - _LOG_SQRT_2PI, log_s)
        return g, np.where(event, -z, -lam), np.where(event, -1.0, -lam * (lam - z))

    def survival(self, z: np.ndarray) -> np.ndarray:
        """P(W > z)."""
        if self.name == "extreme":
            return np.exp(-np.exp(z))
        if self.name == "logistic":
            return _expit(-z)
        from scipy.special import ndtr

        return ndtr(-z)

    def quantile(self, p: np.ndarray) -> np.ndarray:
        """The p-quantile of W."""
        if self.name == "extreme":
            return np.log(-np.log1p(-p))
        if self.name == "logistic":
            return np.log(p / (1.0 - p))
        from scipy.special import ndtri

        return ndtri(p)  # scipy.stats.norm.ppf, without importing scipy.stats


_EXTREME = AftErrorDistribution("extreme", "Weibull", (0.572, 1.64))

#: dist name -> (error distribution, fixed scale or None)
AFT_DISTRIBUTIONS: dict[str, tuple[AftErrorDistribution, float | None]] = {
    "weibull": (_EXTREME, None),
    "exponential": (AftErrorDistribution("extreme", "Exponential", (0.572, 1.64)), 1.0),
    "lognormal": (AftErrorDistribution("gaussian", "Log Normal", (0.0, 1.0)), None),
    "loglogistic": (AftErrorDistribution("logistic", "Log logistic", (0.0, 3.2)), None),
}
