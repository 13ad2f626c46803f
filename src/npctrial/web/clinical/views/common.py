"""Shared by the clinical pages: today's date and the subject of a route, through core permissions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical.declared import any_spec
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject


def today() -> date:
    return timezone.localdate()


def subject_for(request: HttpRequest, study_pk: int, pk: int, capability: str) -> tuple[Any, Subject]:
    return permissions.get_object_for(
        request.user, study_pk, Subject.objects.select_related("site", "protocol_version", "study"), pk, capability)


def record_for(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int, capability: str,
               access: str) -> tuple[Any, Subject, Any, Any]:
    """(study, subject, form spec, record) of one CRF record, voided ones included; 404 for an unknown form
    or a record out of the user's scope, 403 without ``capability`` or ``access`` ("read"/"edit") to the form."""
    study, subject = subject_for(request, study_pk, pk, capability)
    spec = any_spec(subject.protocol_version, form)  # a CRF, or a form the subject's protocol declares
    if spec is None:
        raise Http404("no such form")
    form_access.require_form(request.user, study, form, access, subject.site)
    records = spec.records(subject, voided=True) if getattr(spec, "declared", False) else \
        spec.model.all_objects.filter(subject=subject)
    record = permissions.get_scoped_or_404(request.user, study, records, record_pk, site_field="subject__site")
    return study, subject, spec, record


def posted_version(text: str | None) -> int:
    """The version an edit was made on (a hidden field; anything but a whole number is refused)."""
    try:
        return int(text or 0)
    except ValueError:
        raise ValidationError(_("version must be a whole number, got %(value)r") % {"value": text},
                              field="version") from None
