"""Template context for the language switcher: the choices and the active language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def languages(request: HttpRequest) -> dict[str, Any]:
    return {"language_choices": settings.LANGUAGES, "active_language": translation.get_language()}
