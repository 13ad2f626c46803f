"""Login required everywhere (except the login page, static files and the API's own auth) and
secure response headers."""

from __future__ import annotations

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
