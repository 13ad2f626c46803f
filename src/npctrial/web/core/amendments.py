"""Protocol amendments under change control: proposal, diff and impact, approval by a second person.

1. **Propose** (``manage``): the amended YAML is validated, must keep the protocol id and differ from
   the current version, and carries a reason. One proposal at a time. It is stored as the next
   protocol version with ``status="proposed"``: nothing changes for screening or randomisation.
2. **Randomisation rule**: an amendment that changes how subjects are allocated (arms, ratio,
   stratification, method, block sizes; :func:`npctrial.domain.protocol_diff.randomisation_key`)
   after the first allocation is refused, unless the proposal records an explicit decision to
   start a new sequence: ``restart_from`` (the next allocation number, stated) and a reason.
   Removing randomisation after the first allocation is always refused.
3. **Review**: :func:`amendment_review` gives the diff against the previous approved version
   (criteria, fields, randomisation, other sections, YAML lines) and its impact: subjects and
   screenings on each version, and the stored screenings whose outcome the new criteria would change.
4. **Approve** (``approve_amendment``, never the proposer) or **reject** (with a note). On
   approval the version is in force for new records; a randomisation change starts the new
   segment of the sequence (:class:`AllocationSegment`) if the stated number is still the next
   one (else the approval is refused: allocations happened since the decision).
Every step is an audit event (``amendment``, ``amendment_approved``, ``amendment_rejected``,
``sequence_restarted``) besides the history of the version row.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.domain.protocol_diff import ProtocolDiff, compare_protocols
from npctrial.errors import ProtocolError, ValidationError
from npctrial.web.core import permissions, protocols
from npctrial.web.core.allocation import segment_hash, segments_of
from npctrial.web.core.events import record_event
from npctrial.web.core.models import (
    AllocationSegment,
    AllocationSequence,
    ProtocolVersion,
    ScreeningRecord,
    Study,
    Subject,
)
from npctrial.web.core.studies import ensure_sequence, version_from_yaml

__all__ = ["AmendmentReview", "amendment_review", "approve_amendment", "propose_amendment", "reject_amendment",
           "require_reviewer", "reviewable_version"]


def _text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(message, field=field)
    return text


def _allocations(study: Study) -> int:
    sequence = AllocationSequence.objects.filter(study=study).first()
    return sequence.count if sequence else 0


def _check_randomisation(study: Study, diff: ProtocolDiff, restart_from: int | None, restart_reason: str) -> None:
    """Rule 2 of the module docstring."""
    count = _allocations(study)
    if not diff.randomisation_changed:
        if restart_from is not None:
            raise ValidationError(_("this amendment does not change randomisation: no new sequence is started"),
                                  field="restart_from")
        return
    if count == 0:
        if restart_from not in (None, 1):
            raise ValidationError(_("no subject is allocated yet: the sequence starts at allocation 1"),
                                  field="restart_from")
        return
    if diff.new_randomisation is None:
        raise ValidationError(_("randomisation cannot be removed after the first allocation (%(n)d so far)")
                              % {"n": count}, field="randomisation")
    if restart_from is None:
        raise ValidationError(
            _("the amendment changes randomisation after %(n)d allocations: refused unless you decide to start a "
              "new sequence from allocation %(next)d (restart_from) and give the reason")
            % {"n": count, "next": count + 1}, field="randomisation")
    if restart_from != count + 1:
        raise ValidationError(_("the new sequence must start at the next allocation, %(next)d (you stated %(stated)d)")
                              % {"next": count + 1, "stated": restart_from}, field="restart_from")
    if not restart_reason.strip():
        raise ValidationError(_("give the reason for starting a new randomisation sequence"), field="restart_reason")


def _previous(version: ProtocolVersion) -> ProtocolVersion | None:
    return (ProtocolVersion.objects.filter(study=version.study, status="approved", number__lt=version.number)
            .order_by("-number").first())


def _diff(old: ProtocolVersion, new_text: str) -> ProtocolDiff:
    return compare_protocols(protocols.parse_protocol(old.yaml_text), protocols.parse_protocol(new_text),
                             old.yaml_text, new_text)


def propose_amendment(study: Study, yaml_text: str, *, user: Any, reason: str, restart_from: int | None = None,
                      restart_reason: str = "", request: Any = None) -> ProtocolVersion:
    """Steps 1-2 of the module docstring; returns the proposed version."""
    permissions.require(user, study, "manage")
    reason = _text(reason, "reason", _("give the reason for the amendment"))
    current = study.current_protocol
    if current is None:
        raise ValidationError(_("the study has no protocol version"), field="protocol")
    if study.protocol_versions.filter(status="proposed").exists():
        raise ValidationError(_("another amendment is waiting for approval: approve or reject it first"),
                              field="amendment")
    protocol = protocols.parse_protocol(yaml_text)
    if protocol.id != current.protocol_id:
        raise ProtocolError(_("id: an amendment must keep the protocol id %(id)r, got %(new)r")
                            % {"id": current.protocol_id, "new": protocol.id}, field="id")
    if protocols.sha256_text(yaml_text) == current.sha256:
        raise ValidationError(_("the amendment is identical to the current protocol version"), field="protocol_yaml")
    diff = _diff(current, yaml_text)
    _check_randomisation(study, diff, restart_from, restart_reason)
    if diff.randomisation_changed:
        protocols.randomisation_spec(protocol)  # stratification factors must be choice/bool fields
    with transaction.atomic():
        number = (study.protocol_versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = version_from_yaml(study, yaml_text, number, user, status="proposed", reason=reason,
                                    sequence_restart=restart_from if diff.randomisation_changed else None,
                                    sequence_reason=restart_reason.strip())
        record_event("amendment", request=request, user=user, study=study, record=str(version), reason=reason,
                     summary=diff.summary(), details={"version": version.label, "number": number,
                                                      "criteria_changed": list(diff.criteria_changed),
                                                      "randomisation_changed": diff.randomisation_changed,
                                                      "restart_from": restart_from})
    return version


def reviewable_version(user: Any, study_pk: Any, version_pk: Any) -> tuple[Study, ProtocolVersion]:
    """(study, version) for a reviewer: 404 without a role, 403 without ``manage`` or ``approve_amendment``."""
    study = require_reviewer(user, study_pk)
    try:
        return study, ProtocolVersion.objects.get(study=study, pk=int(version_pk))
    except (ProtocolVersion.DoesNotExist, TypeError, ValueError):
        from django.http import Http404

        raise Http404("no such protocol version") from None


def require_reviewer(user: Any, study_pk: Any) -> Study:
    study = permissions.get_study_or_404(user, study_pk)
    if not (permissions.can(user, study, "manage") or permissions.can(user, study, "approve_amendment")):
        raise PermissionDenied(_("your role does not review amendments"))
    return study


def _decide(version: ProtocolVersion, user: Any, status: str, note: str) -> None:
    permissions.require(user, version.study, "approve_amendment")
    if version.status != "proposed":
        raise ValidationError(_("this amendment is already %(status)s") % {"status": version.status},
                              field="amendment")
    if version.created_by_id is not None and version.created_by_id == getattr(user, "pk", None):
        raise PermissionDenied(_("an amendment is approved or rejected by someone other than its proposer"))
    version.status = status
    version.decided_by = user
    version.decided_at = timezone.now()
    version.decision_note = note
    version._history_user = user
    version.save(reason=f"amendment {status}" + (f": {note}" if note else ""))


def approve_amendment(version: ProtocolVersion, *, user: Any, note: str = "", request: Any = None) -> ProtocolVersion:
    """Step 4: the version comes into force (and a new sequence segment starts when decided)."""
    study = version.study
    with transaction.atomic():
        version = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
        previous = study.current_protocol
        diff = _diff(previous, version.yaml_text) if previous is not None else None
        sequence = AllocationSequence.objects.select_for_update().filter(study=study).first()
        count = sequence.count if sequence else 0
        if diff is not None and diff.randomisation_changed and count > 0 and version.sequence_restart != count + 1:
            raise ValidationError(
                _("allocations were made since the amendment was proposed: the next allocation is now %(next)d, "
                  "the decision stated %(stated)s; reject it and propose again")
                % {"next": count + 1, "stated": version.sequence_restart}, field="restart_from")
        _decide(version, user, "approved", note.strip())
        record_event("amendment_approved", request=request, user=user, study=study, record=str(version),
                     reason=note.strip(), summary=diff.summary() if diff else "")
        if diff is not None and diff.randomisation_changed:
            _apply_randomisation(study, version, sequence, user, request)
    return version


def _apply_randomisation(study: Study, version: ProtocolVersion, sequence: AllocationSequence | None, user: Any,
                         request: Any) -> None:
    protocol = protocols.parse_protocol(version.yaml_text)
    if sequence is None:
        ensure_sequence(study, protocol, version)
        return
    spec = protocols.randomisation_spec(protocol)
    assert spec is not None  # removal after allocations is refused at proposal
    segments = segments_of(sequence)
    if segments[0].pk is None:  # a sequence older than segments: store its first segment
        segments[0].save()
    segment = AllocationSegment(
        sequence=sequence, number=segments[-1].number + 1, start_number=sequence.count + 1,
        method=str(spec.get("method", "permuted_block")), config=spec, seed=secrets.randbits(62),
        protocol_version=version, reason=version.sequence_reason or _("amendment before the first allocation"),
        hash_before=sequence.state_hash, created_by=user if getattr(user, "is_authenticated", False) else None)
    segment.hash_after = segment_hash(sequence.state_hash, segment)
    segment._history_user = user
    segment.save()
    sequence.method, sequence.config, sequence.seed = segment.method, segment.config, segment.seed
    sequence.state_hash = segment.hash_after
    sequence._history_user = user
    sequence.save(reason=f"new sequence segment {segment.number} from allocation #{segment.start_number}")
    record_event("sequence_restarted", request=request, user=user, study=study, record=str(segment),
                 reason=segment.reason, summary=f"{segment.method} {spec.get('ratio')} from #{segment.start_number}",
                 details={"segment": segment.number, "start_number": segment.start_number,
                          "protocol_version": version.label})


def reject_amendment(version: ProtocolVersion, *, user: Any, note: str, request: Any = None) -> ProtocolVersion:
    note = _text(note, "note", _("give the reason for rejecting the amendment"))
    with transaction.atomic():
        version = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
        _decide(version, user, "rejected", note)
        record_event("amendment_rejected", request=request, user=user, study=version.study, record=str(version),
                     reason=note)
    return version


@dataclass(frozen=True)
class AmendmentReview:
    """Diff and impact of one amendment (step 3)."""

    version: ProtocolVersion
    previous: ProtocolVersion | None
    diff: ProtocolDiff | None
    subjects_by_version: dict[str, int]
    screenings_by_version: dict[str, int]
    outcome_changes: dict[str, int]  # "eligible -> ineligible": n, for stored screenings re-judged
    allocations: int

    @property
    def changed_screenings(self) -> int:
        return sum(self.outcome_changes.values())


def _outcome_changes(study: Study, new_text: str, limit: int = 5000) -> dict[str, int]:
    """How the new version's criteria would judge the values of the stored screenings (nothing is saved)."""
    protocol = protocols.parse_protocol(new_text)
    names = {f.name for f in protocol.fields}
    changes: Counter[str] = Counter()
    for record in ScreeningRecord.objects.filter(study=study).order_by("pk")[:limit]:
        try:
            values = protocols.coerce_values(protocol, {k: v for k, v in record.values.items() if k in names})
        except ValidationError:
            changes[f"{record.outcome} -> {_('value no longer accepted')}"] += 1
            continue
        outcome = protocols.evaluate(protocol, values).outcome
        if outcome != record.outcome:
            changes[f"{record.outcome} -> {outcome}"] += 1
    return dict(changes)


def amendment_review(version: ProtocolVersion) -> AmendmentReview:
    study = version.study
    previous = _previous(version)
    subjects = Counter(Subject.objects.filter(study=study).values_list("protocol_version__label", flat=True))
    screenings = Counter(ScreeningRecord.objects.filter(study=study).values_list("protocol_version__label", flat=True))
    return AmendmentReview(
        version=version, previous=previous,
        diff=_diff(previous, version.yaml_text) if previous is not None else None,
        subjects_by_version=dict(subjects), screenings_by_version=dict(screenings),
        outcome_changes=_outcome_changes(study, version.yaml_text), allocations=_allocations(study))
