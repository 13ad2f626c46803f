"""npctrial.cohort (public API is listed in __all__ and locked by tests/cohort/test_public_api.py)."""

__all__: list[str] = []
