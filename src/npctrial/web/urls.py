"""Root URLconf: the core pages, the JSON API at /api/v1 and, when installed, the clinical app."""

from __future__ import annotations

from importlib.util import find_spec

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from npctrial.web.api import api


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz),
    path("api/v1/", api.urls),
    path("", include("npctrial.web.languages.urls")),
    path("", include("npctrial.web.core.urls")),
]

if apps.is_installed("npctrial.web.clinical") and find_spec("npctrial.web.clinical.urls") is not None:
    urlpatterns.insert(0, path("", include("npctrial.web.clinical.urls")))
