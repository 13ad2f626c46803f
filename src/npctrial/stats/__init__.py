"""npctrial.stats: contingency tables, proportions and exact tests agreeing with R's stats package.

Public API is listed in ``__all__`` and locked by ``tests/stats/test_public_api.py``.
"""

from npctrial.stats.contingency import ChiSquareResult, as_count_table, chi_square_test
from npctrial.stats.fisher import FisherResult, fisher_exact
from npctrial.stats.mantel_haenszel import MantelHaenszelResult, mantel_haenszel
from npctrial.stats.mcnemar import mcnemar
from npctrial.stats.proportions import ProportionCI, proportion_ci
from npctrial.stats.results import TestResult, format_p
from npctrial.stats.trend import cochran_armitage_trend

__all__ = [
    "ChiSquareResult",
    "FisherResult",
    "MantelHaenszelResult",
    "ProportionCI",
    "TestResult",
    "as_count_table",
    "chi_square_test",
    "cochran_armitage_trend",
    "fisher_exact",
    "format_p",
    "mantel_haenszel",
    "mcnemar",
    "proportion_ci",
]
