"""Source-data verification of one CRF record (the form on the record page posts here)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.clinical import sdv
from npctrial.web.clinical.views.common import record_for
from npctrial.web.languages import display


@require_POST
def verify_record(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int) -> HttpResponse:
    """Verify ticked critical fields (``fields``) and, with ``whole_record=1``, the record."""
    study, subject, _spec, record = record_for(request, study_pk, pk, form, record_pk, "verify_source", "read")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, _("version: the version of the record you read is required"))
    else:
        try:
            state = sdv.verify_source(subject, form, record, user=request.user, version=version,
                                      fields=request.POST.getlist("fields"),
                                      whole_record=request.POST.get("whole_record") == "1",
                                      note=request.POST.get("note", ""))
        except ValidationError as exc:
            messages.error(request, display.message_text(exc))
        else:
            messages.success(request, _("Record source-data verified") if state.status == "verified"
                             else _("Critical fields verified"))
    return redirect("crf-view", study_pk=study.pk, pk=subject.pk, form=form, record_pk=record.pk)
