"""Activate the signed-in user's saved language (after Django's LocaleMiddleware, which chose
from the language cookie or the browser's Accept-Language)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from npctrial.web.languages.models import LanguagePreference


class UserLanguageMiddleware:
    """A saved preference wins over the cookie and the browser; the response says which applied."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            saved = LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()
            if saved:
                translation.activate(saved)
                request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
