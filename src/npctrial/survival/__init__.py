"""npctrial.survival (public API is listed in __all__ and locked by tests/survival/test_public_api.py)."""

from npctrial.survival.data import Factor, SurvivalData
from npctrial.survival.kaplan_meier import KaplanMeierCurve, KaplanMeierResult, kaplan_meier

__all__: list[str] = [
    "Factor",
    "KaplanMeierCurve",
    "KaplanMeierResult",
    "SurvivalData",
    "kaplan_meier",
]
