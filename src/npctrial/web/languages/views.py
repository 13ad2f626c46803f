"""The language switcher: POST a language; it is saved for the user (and in a cookie)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.web.languages.models import LanguagePreference


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Save ``language`` (one of settings.LANGUAGES) and go back to ``next`` (same site only)."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        choices = ", ".join(dict(settings.LANGUAGES))
        return HttpResponseBadRequest(_("Unknown language %(code)r: choose one of %(choices)s.")
                                      % {"code": code, "choices": choices})
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        nxt = "/"
    if request.user.is_authenticated:
        LanguagePreference.objects.update_or_create(user=request.user, defaults={"language": code})
    translation.activate(code)
    response = HttpResponseRedirect(nxt)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    return response
