"""Confidence intervals for a single binomial proportion (R ``binom.test`` / ``prop.test``)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.validation import check_choice, check_conf_level

_METHODS = ("clopper-pearson", "wilson")


@dataclass(frozen=True)
class ProportionCI(FrozenResult):
    """A proportion k / n with its confidence interval."""

    k: int
    n: int
    estimate: float
    conf_int: tuple[float, float]
    conf_level: float
    method: str

    def summary(self) -> str:
        lo, hi = self.conf_int
        return (
            f"{self.k}/{self.n} = {self.estimate:.4f} "
            f"({self.conf_level * 100:g}% CI {lo:.4f}-{hi:.4f}, {self.method})"
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "k": self.k,
                    "n": self.n,
                    "estimate": self.estimate,
                    "conf_low": self.conf_int[0],
                    "conf_high": self.conf_int[1],
                    "method": self.method,
                }
            ]
        )


def _is_whole(value: object) -> bool:
    """A whole number (int or integral float; not bool, NaN, infinity or text)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    x = float(value)
    return math.isfinite(x) and x.is_integer()


def proportion_ci(
    k: int | np.integer, n: int | np.integer, method: str = "clopper-pearson", conf_level: float = 0.95
) -> ProportionCI:
    """Confidence interval for k successes out of n.

    ``clopper-pearson`` (exact, R ``binom.test``): [Beta^-1(a/2; k, n-k+1), Beta^-1(1-a/2; k+1, n-k)],
    0 when k = 0 and 1 when k = n. ``wilson`` (score interval, R ``prop.test(correct=FALSE)``):
    (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
    References: Clopper & Pearson, Biometrika 26 (1934); Wilson, JASA 22 (1927); Newcombe,
    Stat Med 17 (1998) 857-872.
    """
    check_choice(method, _METHODS, "method")
    if not _is_whole(n) or n < 1:
        raise ValidationError(f"n must be an integer >= 1, got {n!r}", field="n")
    if not _is_whole(k) or not 0 <= k <= n:
        raise ValidationError(f"k must be an integer in [0, n={n}], got {k!r}", field="k")
    conf_level = check_conf_level(conf_level)
    k, n = int(k), int(n)
    alpha = 1 - conf_level
    p = k / n
    if method == "clopper-pearson":
        lo = 0.0 if k == 0 else float(_st.beta.ppf(alpha / 2, k, n - k + 1))
        hi = 1.0 if k == n else float(_st.beta.ppf(1 - alpha / 2, k + 1, n - k))
    else:
        z = float(_st.norm.ppf(1 - alpha / 2))
        centre = p + z * z / (2 * n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        denom = 1 + z * z / n
        lo, hi = max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom)
    return ProportionCI(k=k, n=n, estimate=p, conf_int=(lo, hi), conf_level=conf_level, method=method)
