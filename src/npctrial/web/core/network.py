"""The client's address behind a configured number of trusted reverse proxies.

Behind a TLS reverse proxy every request comes from the proxy's address. Login lockout
(django-axes, per username and address) and the audit log need the real client address, but
``X-Forwarded-For`` is written by the client too, so it is trusted only as far as the proxies
that the deployment declares: ``NPCTRIAL_TRUSTED_PROXIES=N`` (settings ``TRUSTED_PROXY_COUNT``).

Algorithm of :func:`client_ip`:

1. With no trusted proxy (the default), the address is ``REMOTE_ADDR``; ``X-Forwarded-For`` is
   ignored (a client cannot choose its address to dodge a lockout).
2. With N trusted proxies, each proxy appended the address it saw to ``X-Forwarded-For``; the
   client address is the N-th entry from the right (what the outermost trusted proxy saw).
   Entries further left were written by the client and are ignored.
3. A missing, short or malformed header falls back to ``REMOTE_ADDR`` (never to a client-written
   value).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings

__all__ = ["client_ip"]


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The client address of ``request`` (steps in the module docstring)."""
    meta = getattr(request, "META", {}) or {}
    remote = _valid(str(meta.get("REMOTE_ADDR", "") or ""))
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    header = str(meta.get("HTTP_X_FORWARDED_FOR", "") or "")
    hops = [h.strip() for h in header.split(",") if h.strip()]
    if len(hops) < count:
        return remote
    return _valid(hops[-count]) or remote
