"""Shared by the clinical pages: today's date and the subject of a route, through core permissions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from npctrial.web.core import permissions
from npctrial.web.core.models import Subject


def today() -> date:
    return timezone.localdate()


def subject_for(request: HttpRequest, study_pk: int, pk: int, capability: str) -> tuple[Any, Subject]:
    return permissions.get_object_for(
        request.user, study_pk, Subject.objects.select_related("site", "protocol_version", "study"), pk, capability)
