"""npctrial.design (public API is listed in __all__ and locked by tests/design/test_public_api.py)."""

__all__: list[str] = []
