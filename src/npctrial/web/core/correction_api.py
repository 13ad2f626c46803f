"""Randomisation-correction routes of /api/v1 (tag ``corrections``): list and record mis-randomisations.

Same service as the subject page (:mod:`npctrial.web.core.randomisation_corrections`): the
allocation is never changed; ``correct_randomisation`` (data managers, statisticians) records it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.models import RandomisationCorrection, Subject
from npctrial.web.core.randomisation_corrections import record_correction

router = Router(tags=["corrections"])


class CorrectionIn(Schema):
    kind: str = Field(description="wrong_stratum | randomised_in_error | other")
    reason: str = Field(min_length=1, max_length=2000)
    correct_strata: dict[str, str] | None = None


class CorrectionOut(Schema):
    id: int
    subject_id: str
    allocation_number: int
    kind: str
    correct_strata: dict[str, Any]
    reason: str
    recorded_by: str | None
    recorded_at: datetime


def _out(c: RandomisationCorrection) -> dict[str, Any]:
    return {"id": c.pk, "subject_id": c.randomisation.subject.subject_id, "allocation_number": c.randomisation.number,
            "kind": c.kind, "correct_strata": c.correct_strata, "reason": c.reason,
            "recorded_by": c.recorded_by.get_username() if c.recorded_by else None, "recorded_at": c.recorded_at}


def _randomisation(request: HttpRequest, study_id: int, subject_pk: int, capability: str) -> Any:
    _study, subject = permissions.get_object_for(request.user, study_id, Subject.objects.all(), subject_pk, capability)
    randomisation = getattr(subject, "randomisation", None)
    if randomisation is None:
        raise ValidationError(_("%(subject)s is not randomised") % {"subject": subject.subject_id}, field="subject")
    return randomisation


@router.get("/studies/{study_id}/subjects/{subject_pk}/randomisation/corrections", response=list[CorrectionOut])
def list_corrections(request: HttpRequest, study_id: int, subject_pk: int) -> list[dict[str, Any]]:
    randomisation = _randomisation(request, study_id, subject_pk, "view")
    return [_out(c) for c in randomisation.corrections.select_related("recorded_by", "randomisation__subject")]


@router.post("/studies/{study_id}/subjects/{subject_pk}/randomisation/corrections", response={201: CorrectionOut})
def record_correction_route(request: HttpRequest, study_id: int, subject_pk: int, payload: CorrectionIn) -> Status:
    """Record a mis-randomisation; a wrong stratum gives the correct level of every factor."""
    randomisation = _randomisation(request, study_id, subject_pk, "correct_randomisation")
    correction = record_correction(randomisation, user=request.user, kind=payload.kind, reason=payload.reason,
                                   correct_strata=payload.correct_strata, request=request)
    return Status(201, _out(correction))
