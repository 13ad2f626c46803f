"""Normal and chi-square tail probabilities for the survival engine, from ``scipy.special``.

They are the functions ``scipy.stats`` itself evaluates (``norm.sf(x) = ndtr(-x)``,
``norm.ppf(q) = ndtri(q)``, ``chi2.sf(x, df) = chdtrc(df, x)``, the same values bit for bit),
without importing ``scipy.stats``: that import (its distributions, optimisers and spatial code)
costs about half a second when a user's script first touches ``npctrial.survival``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri

__all__ = ["chi2_sf", "norm_ppf", "norm_sf"]


def chi2_sf(x: Any, df: Any) -> Any:
    """P(X > x) for X ~ chi-square(df); 1 for x <= 0 (a statistic rounded below 0), NaN for NaN."""
    return chdtrc(df, np.maximum(x, 0.0))


def norm_sf(x: Any) -> Any:
    """P(Z > x) for a standard normal Z."""
    return ndtr(-np.asarray(x, dtype=np.float64))


def norm_ppf(q: Any) -> Any:
    """The standard normal quantile of ``q``."""
    return ndtri(q)
