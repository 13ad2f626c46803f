"""npctrial.survival (public API is listed in __all__ and locked by tests/survival/test_public_api.py)."""

from npctrial.survival.data import Factor, SurvivalData

__all__: list[str] = [
    "Factor",
    "SurvivalData",
]
