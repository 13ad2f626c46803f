"""Normal and chi-square tail probabilities for the survival engine, without importing SciPy.

Importing ``scipy.special`` costs about a quarter of a second of CPU (more than the rest of the
engine's import together), which a user's first call of a script pays every time. The p-values
and quantiles the engine reports need only:

1. ``norm_sf(x)`` = erfc(x / sqrt 2) / 2, from the C library's ``erfc`` (``math.erfc``);
2. ``norm_ppf(q)``: Wichura's algorithm AS 241 (``statistics.NormalDist.inv_cdf``, the algorithm
   of R's ``qnorm``; 1e-16 relative);
3. ``chi2_sf(x, df)`` for integer ``df`` (every test of the engine has integer degrees of
   freedom), from the closed forms of the chi-square tail (Abramowitz & Stegun 26.4.4-26.4.5):
   even df = 2k: Q = sum_{j<k} e^{-x/2} (x/2)^j / j!; odd df = 2k + 1:
   Q = erfc(sqrt(x/2)) + sum_{j=1..k} e^{-x/2} (x/2)^{j-1/2} / Gamma(j + 1/2). Every term is
   positive (no cancellation) and is evaluated in log space, so a tail far below the smallest
   double's exponent range still comes out right when the sum does not underflow.

Non-integer or very large df, and arrays of more than ``_SCALAR_MAX`` values, use
``scipy.special`` (imported then): ``chdtrc``, ``ndtr``, ``ndtri``, the functions
``scipy.stats`` itself evaluates. Both routes agree to a few units in the last place.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = ["chi2_sf", "norm_ppf", "norm_sf"]

_SCALAR_MAX = 256  # beyond this many values the ufuncs of scipy.special are faster
_DF_MAX = 400  # the closed forms sum df/2 terms
_STANDARD = NormalDist()
_LOG_SQRT_PI = 0.5 * math.log(math.pi)


def _elementwise(fn: Any, *args: Any) -> Any:
    """``fn`` over broadcast arrays of floats; a 0-d result comes back as a numpy float."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    out = np.fromiter((fn(*vals) for vals in zip(*(a.ravel() for a in arrays), strict=True)),
                      dtype=np.float64, count=arrays[0].size).reshape(arrays[0].shape)
    return out[()] if out.ndim == 0 else out


def _chi2_sf_int(x: float, df: float) -> float:
    """Q(x; df) for integer df >= 1 and x >= 0 (module docstring, step 3)."""
    if math.isnan(x) or math.isnan(df):
        return math.nan
    if math.isinf(x):
        return 0.0
    k, odd = divmod(int(df), 2)
    if x == 0.0:
        return 1.0
    half = 0.5 * x
    log_half = math.log(half)
    if odd:
        first = math.erfc(math.sqrt(half))
        logs = [-half + (j - 0.5) * log_half - (math.lgamma(j + 0.5)) for j in range(1, k + 1)]
    else:
        first = 0.0
        logs = [-half + j * log_half - math.lgamma(j + 1.0) for j in range(k)]
    if not logs:
        return first
    top = max(logs)
    return first + math.exp(top) * math.fsum(math.exp(v - top) for v in logs)


def _integer_df(df: np.ndarray) -> bool:
    return bool(np.all((df >= 1) & (df <= _DF_MAX) & (df == np.floor(df))))


def chi2_sf(x: Any, df: Any) -> Any:
    """P(X > x) for X ~ chi-square(df); 1 for x <= 0 (a statistic rounded below 0), NaN for NaN."""
    xs = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    dfs = np.asarray(df, dtype=np.float64)
    if max(xs.size, dfs.size) <= _SCALAR_MAX and _integer_df(dfs[~np.isnan(dfs)]):
        return _elementwise(_chi2_sf_int, xs, dfs)
    from scipy.special import chdtrc

    return chdtrc(dfs, xs)


def _norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def norm_sf(x: Any) -> Any:
    """P(Z > x) for a standard normal Z."""
    xs = np.asarray(x, dtype=np.float64)
    if xs.size <= _SCALAR_MAX:
        return _elementwise(_norm_sf, xs)
    from scipy.special import ndtr

    return ndtr(-xs)


def _norm_ppf(q: float) -> float:
    if math.isnan(q) or q < 0.0 or q > 1.0:
        return math.nan
    if q in (0.0, 1.0):
        return math.copysign(math.inf, q - 0.5)
    return _STANDARD.inv_cdf(q)


def norm_ppf(q: Any) -> Any:
    """The standard normal quantile of ``q`` (-inf at 0, inf at 1, NaN outside [0, 1])."""
    qs = np.asarray(q, dtype=np.float64)
    if qs.size <= _SCALAR_MAX:
        return _elementwise(_norm_ppf, qs)
    from scipy.special import ndtri

    return ndtri(qs)
