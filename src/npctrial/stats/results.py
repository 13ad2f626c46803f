"""The result object shared by the contingency-table and proportion tests.

Every test returns a frozen :class:`TestResult` (or a subclass adding fields), printable like
R's ``htest`` objects via :meth:`TestResult.summary` and tabular via :meth:`TestResult.to_frame`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from npctrial.frozen import FrozenResult


def format_p(p: float) -> str:
    """Format a p-value the way R's print.htest does (4 significant digits, ``< 2.2e-16``)."""
    if p < 2.2e-16:
        return "< 2.2e-16"
    return f"= {p:.4g}"


@dataclass(frozen=True, kw_only=True)
class TestResult(FrozenResult):
    """A hypothesis test: statistic, degrees of freedom, p-value and optional estimate/CI.

    ``df`` is ``None`` for exact tests; ``estimate``/``conf_int`` are ``None`` (the defaults)
    when the test has no effect estimate. Fields are keyword-only.
    """

    __test__ = False  # not a pytest test class

    method: str
    statistic_name: str
    statistic: float
    df: float | None
    p_value: float
    estimate_name: str | None = None
    estimate: float | None = None
    conf_int: tuple[float, float] | None = None
    conf_level: float = 0.95

    def summary(self) -> str:
        lines = [self.method, ""]
        parts = []
        if self.statistic_name:
            parts.append(f"{self.statistic_name} = {self.statistic:.5g}")
        if self.df is not None:
            parts.append(f"df = {self.df:g}")
        parts.append(f"p-value {format_p(self.p_value)}")
        lines.append(", ".join(parts))
        if self.conf_int is not None:
            lo, hi = self.conf_int
            lines.append(f"{self.conf_level * 100:g} percent confidence interval: {lo:.7g} {hi:.7g}")
        if self.estimate is not None:
            lines.append(f"{self.estimate_name}: {self.estimate:.7g}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        lo, hi = self.conf_int if self.conf_int is not None else (None, None)
        return pd.DataFrame(
            [
                {
                    "method": self.method,
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.p_value,
                    "estimate": self.estimate,
                    "conf_low": lo,
                    "conf_high": hi,
                }
            ]
        )
