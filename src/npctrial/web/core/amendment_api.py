"""Amendment routes of /api/v1 (tag ``amendments``): propose, review (diff + impact), approve, reject.

Same service as the pages (:mod:`npctrial.web.core.amendments`): proposing needs ``manage``,
reviewing ``manage`` or ``approve_amendment``, deciding ``approve_amendment`` and never the proposer.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from npctrial.web.core import amendments, permissions, protocols
from npctrial.web.core.models import ProtocolVersion

router = Router(tags=["amendments"])


class AmendmentIn(Schema):
    protocol_yaml: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=2000)
    restart_from: int | None = Field(default=None, ge=1)
    restart_reason: str = ""


class DecisionIn(Schema):
    note: str = Field(default="", max_length=2000)


class AmendmentOut(Schema):
    id: int
    number: int
    version: str
    status: str
    in_force: bool
    reason: str
    proposed_by: str | None
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    sequence_restart: int | None


class ReviewOut(AmendmentOut):
    previous_version: str | None
    criteria: list[dict[str, Any]]
    fields: list[dict[str, Any]]
    randomisation_changed: bool
    old_randomisation: dict[str, Any] | None
    new_randomisation: dict[str, Any] | None
    sections: list[str]
    text_diff: list[str]
    subjects_by_version: dict[str, int]
    screenings_by_version: dict[str, int]
    outcome_changes: dict[str, int]
    allocations: int


def _out(v: ProtocolVersion) -> dict[str, Any]:
    current = v.study.current_protocol
    return {"id": v.pk, "number": v.number, "version": v.label, "status": v.status,
            "in_force": current is not None and current.pk == v.pk, "reason": v.reason,
            "proposed_by": v.created_by.get_username() if v.created_by else None, "proposed_at": v.created_at,
            "decided_by": v.decided_by.get_username() if v.decided_by else None, "decided_at": v.decided_at,
            "decision_note": v.decision_note, "sequence_restart": v.sequence_restart}


def _reviewer_version(request: HttpRequest, study_id: int, version_id: int) -> ProtocolVersion:
    return amendments.reviewable_version(request.user, study_id, version_id)[1]


@router.get("/studies/{study_id}/amendments", response=list[AmendmentOut])
def list_amendments(request: HttpRequest, study_id: int) -> list[dict[str, Any]]:
    study = amendments.require_reviewer(request.user, study_id)
    return [_out(v) for v in study.protocol_versions.select_related("created_by", "decided_by").order_by("number")]


@router.post("/studies/{study_id}/amendments", response={201: AmendmentOut})
def propose_amendment_route(request: HttpRequest, study_id: int, payload: AmendmentIn) -> Status:
    """Propose an amendment; a randomisation change after the first allocation needs ``restart_from``."""
    study = permissions.get_study_for(request.user, study_id, "manage")
    with protocols.protocol_input("protocol_yaml"):
        version = amendments.propose_amendment(study, payload.protocol_yaml, user=request.user, reason=payload.reason,
                                               restart_from=payload.restart_from,
                                               restart_reason=payload.restart_reason, request=request)
    return Status(201, _out(version))


@router.get("/studies/{study_id}/amendments/{version_id}", response=ReviewOut)
def review_amendment(request: HttpRequest, study_id: int, version_id: int) -> dict[str, Any]:
    """The amendment with its diff against the previous approved version and its impact."""
    review = amendments.amendment_review(_reviewer_version(request, study_id, version_id))
    diff = review.diff
    return {**_out(review.version), "previous_version": review.previous.label if review.previous else None,
            "criteria": [asdict(c) for c in diff.criteria] if diff else [],
            "fields": [asdict(f) for f in diff.fields] if diff else [],
            "randomisation_changed": bool(diff and diff.randomisation_changed),
            "old_randomisation": diff.old_randomisation if diff else None,
            "new_randomisation": diff.new_randomisation if diff else None,
            "sections": list(diff.sections) if diff else [], "text_diff": list(diff.text_diff) if diff else [],
            "subjects_by_version": review.subjects_by_version, "screenings_by_version": review.screenings_by_version,
            "outcome_changes": review.outcome_changes, "allocations": review.allocations}


@router.post("/studies/{study_id}/amendments/{version_id}/approve", response=AmendmentOut)
def approve_amendment_route(request: HttpRequest, study_id: int, version_id: int, payload: DecisionIn) -> dict[str, Any]:
    version = _reviewer_version(request, study_id, version_id)
    return _out(amendments.approve_amendment(version, user=request.user, note=payload.note, request=request))


@router.post("/studies/{study_id}/amendments/{version_id}/reject", response=AmendmentOut)
def reject_amendment_route(request: HttpRequest, study_id: int, version_id: int, payload: DecisionIn) -> dict[str, Any]:
    version = _reviewer_version(request, study_id, version_id)
    return _out(amendments.reject_amendment(version, user=request.user, note=payload.note, request=request))
