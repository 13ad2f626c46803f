"""Login required everywhere (except the login page, static files and the API's own auth) and
secure response headers."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

_PUBLIC_PREFIXES = ("/i18n/language/", "/accounts/login/", "/accounts/set-password/", "/static/", "/healthz")


class LoginRequiredMiddleware:
    """Anonymous requests: redirect pages to the login form; API calls get a 401 JSON body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not request.user.is_authenticated and not path.startswith(_PUBLIC_PREFIXES):
            if path.startswith("/api/"):
                return JsonResponse({"detail": _("authentication required"), "errors": []}, status=401)
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class IdleSessionMiddleware:
    """Sessions end after ``SESSION_COOKIE_AGE`` (30 min) without a request (21 CFR 11.300(d)-style
    idle logout), with one session write per :data:`TOUCH_SECONDS` instead of one per request.

    Django's ``SESSION_SAVE_EVERY_REQUEST`` rewrites the session row (a committed, fsynced write) on
    every page; here a request marks the session modified only when its last mark is
    ``TOUCH_SECONDS`` old or older, and the save moves the server-side expiry to now + the idle
    limit. A user is therefore logged out between ``SESSION_COOKIE_AGE - TOUCH_SECONDS`` and
    ``SESSION_COOKIE_AGE`` after their last request, never later.
    """

    TOUCH_SECONDS = 60
    KEY = "_npctrial_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and getattr(request, "user", None) is not None \
                and request.user.is_authenticated:
            now = int(time.time())
            seen = session.get(self.KEY)
            if not isinstance(seen, int) or now - seen >= self.TOUCH_SECONDS:
                session[self.KEY] = now  # saved by SessionMiddleware on the way out, with a new expiry
        return response


class SecureHeadersMiddleware:
    """Content-Security-Policy and no caching of clinical pages.

    Scripts come from this origin only, never inline and never through eval: htmx is vendored and
    configured with ``allowEval: false`` (``<meta name="htmx-config">`` in the base template),
    behaviours live in ``core/app.js``. Styles keep ``'unsafe-inline'`` (``style=`` attributes);
    no script can run from them.
    """

    CSP = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/v1/docs"):
            response.setdefault("Content-Security-Policy", self.CSP)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store")
        return response
