"""Logins, logouts, failed logins and lockouts into the audit log (receivers of Django/axes signals)."""

from __future__ import annotations

from typing import Any

from npctrial.web.core.events import record_event


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event("login", request=request, user=user, record=user.get_username())


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        record_event("logout", request=request, user=user, record=user.get_username())


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """A failed login names the username typed (the account may not exist); no password is kept."""
    username = str(credentials.get("username", "") or "")[:150]
    record_event("login_failed", request=request, user=None, username=username, record=username)


def on_locked_out(sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any) -> None:
    record_event("login_locked", request=request, user=None, username=str(username or "")[:150],
                 record=str(username or ""), details={"ip_address": ip_address})
