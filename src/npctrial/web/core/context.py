"""Template context: the navigation (studies the user can see, and the current study's links)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

#: Other apps append (label, url_name) pairs shown in a study's nav bar; url_name takes study_pk.
STUDY_NAV: list[tuple[Any, str]] = [  # (label: str or lazy translation, url_name)
    (_("Dashboard"), "study-dashboard"),
    (_("Screening"), "screening-log"),
    (_("Subjects"), "subject-list"),
    (_("Queries"), "query-list"),
]


def nav(request: HttpRequest) -> dict[str, Any]:
    """``study_nav_links(study_pk)`` in templates via the resolved list for the current study."""
    match = getattr(request, "resolver_match", None)
    study_pk = match.kwargs.get("study_pk") if match else None
    links: list[tuple[Any, str]] = []
    if study_pk is not None:
        for label, name in STUDY_NAV:
            try:
                links.append((label, reverse(name, kwargs={"study_pk": study_pk})))
            except NoReverseMatch:  # an app whose routes are not installed
                continue
    return {"study_nav": STUDY_NAV, "study_nav_links": links}
