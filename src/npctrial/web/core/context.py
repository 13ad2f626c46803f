"""Template context: the navigation (studies the user can see, and the current study's links)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

#: Other apps append (label, url_name) pairs shown in a study's nav bar; url_name takes study_pk.
STUDY_NAV: list[tuple[str, str]] = [
    ("Dashboard", "study-dashboard"),
    ("Screening", "screening-log"),
    ("Subjects", "subject-list"),
    ("Queries", "query-list"),
]


def nav(request: HttpRequest) -> dict[str, Any]:
    return {"study_nav": STUDY_NAV}
