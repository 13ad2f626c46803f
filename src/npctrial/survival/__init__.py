"""npctrial.survival (public API is listed in __all__ and locked by tests/survival/test_public_api.py)."""

from npctrial.survival.data import Factor, SurvivalData
from npctrial.survival.kaplan_meier import KaplanMeierCurve, KaplanMeierResult, kaplan_meier
from npctrial.survival.logrank import (
    LogRankResult,
    PairwiseLogRankResult,
    logrank_test,
    pairwise_logrank,
)

__all__: list[str] = [
    "Factor",
    "KaplanMeierCurve",
    "KaplanMeierResult",
    "LogRankResult",
    "PairwiseLogRankResult",
    "SurvivalData",
    "kaplan_meier",
    "logrank_test",
    "pairwise_logrank",
]
