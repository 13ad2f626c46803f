"""npctrial.stats (public API is listed in __all__ and locked by tests/stats/test_public_api.py)."""

__all__: list[str] = []
