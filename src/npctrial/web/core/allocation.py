"""Concealed, atomic, audited randomisation through :mod:`npctrial.design`.

Algorithm of :func:`randomise`:

1. Open a transaction and lock the study's :class:`AllocationSequence` row
   (``SELECT ... FOR UPDATE``; SQLite: the IMMEDIATE transaction holds the write lock), so
   concurrent requests are serialised and each sees every earlier allocation.
2. Refuse if the subject already has a randomisation (also a unique constraint: no
   re-randomisation, ever), or if the entered randomisation date (default today) is in the
   future or before the enrolment date (:func:`npctrial.domain.timeline.check_randomisation_date`).
3. Read the stratification factors from the subject's screening values (``site``/``centre``
   come from the subject's site).
4. Ask the design layer for the arm: permuted blocks -> ``next_assignment(stratum, n)`` where n
   is the number already allocated in the stratum; minimisation -> ``assign(factors, history)``.
   Both are pure functions of the concealed seed and the stored allocations.
5. Extend the hash chain: ``hash_after = SHA-256(hash_before | number | subject | stratum | arm)``;
   store the allocation (who, when, strata, details, both hashes) and the new sequence state, and
   the ``randomisation`` audit event (arm and stratum in its concealed part).

Segments: the sequence runs in :class:`AllocationSegment` s (method, settings, seed). An approved
amendment that changes randomisation after the first allocation starts a new segment at a stated
allocation number (:mod:`npctrial.web.core.amendments`); step 4 then uses the current segment's
settings and only the allocations of that segment, and the chain gets one link for the change:
``SHA-256(state | segment | k | start | method | settings | seed)``.

Allocations lost by a restore (:class:`LostAllocation`, issued after the backup the database went
back to) stay in the sequence: their numbers are never handed out again (``count`` covers them),
they are part of the history of step 4 and the chain runs through them.

:func:`verify_sequence` recomputes the chain and every arm from the seeds: an intact sequence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.domain.timeline import check_randomisation_date
from npctrial.errors import ValidationError
from npctrial.web.core.audit import create_audited
from npctrial.web.core.events import record_event
from npctrial.web.core.models import (
    AllocationSegment,
    AllocationSequence,
    LostAllocation,
    Randomisation,
    Subject,
)

_SITE_FACTORS = {"site", "centre", "center"}


def initial_hash(study_code: str, seed: int, config: dict[str, Any]) -> str:
    payload = f"{study_code}|{seed}|{json.dumps(config, sort_keys=True)}"
    return hashlib.sha256(payload.encode()).hexdigest()


def chain_hash(before: str, number: int, subject_id: str, stratum: dict[str, Any], arm: str) -> str:
    payload = f"{before}|{number}|{subject_id}|{json.dumps(stratum, sort_keys=True)}|{arm}"
    return hashlib.sha256(payload.encode()).hexdigest()


def segment_hash(before: str, segment: AllocationSegment) -> str:
    """The chain link that records the start of a new segment (its settings and seed)."""
    payload = (f"{before}|segment|{segment.number}|{segment.start_number}|{segment.method}|"
               f"{json.dumps(segment.config, sort_keys=True)}|{segment.seed}")
    return hashlib.sha256(payload.encode()).hexdigest()


def segments_of(sequence: AllocationSequence) -> list[AllocationSegment]:
    """The segments in order; a sequence older than segments has one, built from its own fields."""
    segments = list(sequence.segments.order_by("number"))
    if segments:
        return segments
    return [AllocationSegment(sequence=sequence, number=1, start_number=1, method=sequence.method,
                              config=sequence.config, seed=sequence.seed,
                              hash_after=initial_hash(sequence.study.code, sequence.seed, sequence.config))]


def segment_for(segments: list[AllocationSegment], number: int) -> AllocationSegment:
    """The segment allocation ``number`` belongs to (the last one starting at or before it)."""
    return [s for s in segments if s.start_number <= number][-1]


def sequence_history(sequence: AllocationSequence, from_number: int = 1) -> list[Any]:
    """Every allocation of the sequence from ``from_number`` on, in number order: the randomisations
    and the allocations a restore lost (both have number, arm, strata, details and the hashes)."""
    kept = list(sequence.allocations.filter(number__gte=from_number).select_related("subject"))
    lost = list(sequence.lost_allocations.filter(number__gte=from_number))
    return sorted([*kept, *lost], key=lambda a: a.number)


@dataclass(frozen=True)
class PriorAllocation:
    """What a decision reads of an earlier allocation."""

    number: int
    arm: str
    strata: dict[str, Any]
    details: dict[str, Any]


def decision_history(sequence: AllocationSequence, from_number: int = 1) -> list[PriorAllocation]:
    """:func:`sequence_history` reduced to number, arm, strata and details (two ``values_list``
    queries, no model instances): read under the sequence's row lock on every randomisation."""
    fields = ("number", "arm", "strata", "details")
    rows = [*sequence.allocations.filter(number__gte=from_number).values_list(*fields),
            *sequence.lost_allocations.filter(number__gte=from_number).values_list(*fields)]
    return [PriorAllocation(*row) for row in sorted(rows, key=lambda row: row[0])]


def allocation_label(allocation: Any) -> str:
    """The subject ID an allocation was issued to (a lost allocation keeps it as text)."""
    return allocation.subject_label if isinstance(allocation, LostAllocation) else allocation.subject.subject_id


def _arms(config: dict[str, Any]) -> list[str]:
    arms = config.get("arms") or []
    return [a if isinstance(a, str) else str(a.get("id") or a.get("name")) for a in arms]


def _factors(config: dict[str, Any]) -> dict[str, list[str]]:
    factors = config.get("factors") or config.get("stratification") or config.get("strata") or {}
    if isinstance(factors, list):
        out: dict[str, list[str]] = {}
        for f in factors:
            out[str(f.get("name") or f.get("field"))] = [str(x) for x in f.get("levels", [])]
        return out
    return {str(k): [str(x) for x in v] for k, v in factors.items()}


def subject_factors(subject: Subject, config: dict[str, Any]) -> dict[str, str]:
    """The subject's level of every stratification factor; ValidationError if one is missing."""
    values = subject.screening.values
    out: dict[str, str] = {}
    for name, levels in _factors(config).items():
        if name in _SITE_FACTORS:
            value: Any = subject.site.code
        else:
            value = values.get(name)
        if value is None:
            raise ValidationError(_("stratification factor %(name)r is not recorded for the subject") % {"name": name},
                                  field=name)
        value = str(value)
        if levels and value not in levels:
            raise ValidationError(_("%(name)s must be one of %(levels)s for randomisation, got %(value)r")
                                  % {"name": name, "levels": levels, "value": value}, field=name)
        out[name] = value
    return out


def _site_levels(sequence: AllocationSequence) -> list[str]:
    return list(sequence.study.study_sites.values_list("site__code", flat=True).order_by("site__code"))


def design_factors(sequence: AllocationSequence, config: dict[str, Any]) -> dict[str, list[str]]:
    """Each stratification factor with its levels (a site factor takes the study's site codes)."""
    factors = _factors(config)
    return {k: (v or _site_levels(sequence)) if k in _SITE_FACTORS else v for k, v in factors.items()}


@dataclass(frozen=True)
class Decision:
    arm: str
    details: dict[str, Any]


def _decide(sequence: AllocationSequence, segment: AllocationSegment, factors: dict[str, str],
            previous: list[Any]) -> Decision:
    """Step 4 under ``segment``'s settings; ``previous`` = the earlier allocations of that segment."""
    config = segment.config
    arms = _arms(config)
    ratio = tuple(int(r) for r in (config.get("ratio") or [1] * len(arms)))
    levels = design_factors(sequence, config)
    if segment.method in {"minimisation", "minimization"}:
        from npctrial.design import Minimisation

        kwargs: dict[str, Any] = {}
        for key in ("weights", "imbalance", "p_best"):
            if config.get(key) is not None:
                kwargs[key] = config[key]
        mini = Minimisation(
            arms=tuple(arms), factors=levels, ratio=ratio, seed=segment.seed, **kwargs
        )
        history = [(r.strata, r.arm) for r in previous]
        allocation = mini.assign(factors, history, sequence_number=len(previous))
        details = {
            "method": "minimisation",
            "scores": dict(allocation.scores),
            "probabilities": dict(allocation.probabilities),
            "random_draw": allocation.random_draw,
            "minimisers": list(allocation.minimisers),
        }
        return Decision(str(allocation.arm), details)
    from npctrial.design import PermutedBlockRandomiser

    block_sizes = tuple(int(b) for b in (config.get("block_sizes") or (4, 6)))
    randomiser = PermutedBlockRandomiser(
        arms=tuple(arms), ratio=ratio, block_sizes=block_sizes,
        strata=levels or None, seed=segment.seed,
    )
    stratum = factors or None
    label = randomiser.stratum_label(stratum)
    position = sum(1 for r in previous if r.details.get("stratum") == label)
    entry = randomiser.next_assignment(stratum, position)
    return Decision(
        entry.arm,
        {"method": "permuted_block", "stratum": label, "position_in_stratum": entry.sequence},
    )


def randomise(subject: Subject, user: Any, randomisation_date: Any = None, request: Any = None) -> Randomisation:
    """Allocate an arm to ``subject`` on ``randomisation_date`` (default today; module docstring)."""
    today = timezone.localdate()
    day = check_randomisation_date(randomisation_date or today, enrolment=subject.enrolment_date, today=today)
    try:
        with transaction.atomic():
            sequence = AllocationSequence.objects.select_for_update().get(study=subject.study_id)
            if Randomisation.objects.filter(subject=subject).exists():
                raise ValidationError(_("%(subject)s is already randomised") % {"subject": subject.subject_id}, field="subject")
            number = sequence.count + 1
            segment = segment_for(segments_of(sequence), number)
            factors = subject_factors(subject, segment.config)
            previous = decision_history(sequence, segment.start_number)
            decision = _decide(sequence, segment, factors, previous)
            details = {**decision.details, "segment": segment.number}
            before = sequence.state_hash
            after = chain_hash(before, number, subject.subject_id, factors, decision.arm)
            allocation = create_audited(
                Randomisation, user, subject=subject, sequence=sequence, number=number, arm=decision.arm,
                strata=factors, details=details, hash_before=before, hash_after=after,
                randomisation_date=day,
                allocated_by=user if getattr(user, "is_authenticated", False) else None,
            )
            sequence.count = number
            sequence.state_hash = after
            if getattr(user, "is_authenticated", False):
                sequence._history_user = user
            sequence.save(reason=f"allocation #{number}")
            record_event("randomisation", request=request, user=user, subject=subject, record=f"allocation #{number}",
                         form="randomisation", details={"number": number, "method": sequence.method},
                         concealed={"arm": decision.arm, "stratum": factors})
            return allocation
    except AllocationSequence.DoesNotExist:
        raise ValidationError(_("this study is not randomised"), field="study") from None
    except IntegrityError:
        if Randomisation.objects.filter(subject=subject).exists():
            raise ValidationError(_("%(subject)s is already randomised") % {"subject": subject.subject_id},
                                  field="subject") from None
        raise ValidationError(
            _("the allocation collided with a simultaneous one and was not saved; try again"), field="subject"
        ) from None


@dataclass(frozen=True)
class SequenceCheck:
    intact: bool
    problems: tuple[str, ...]
    count: int


def verify_sequence(sequence: AllocationSequence) -> SequenceCheck:
    """Recompute the hash chain and every arm from the seed and the stored allocations."""
    problems: list[str] = []
    segments = segments_of(sequence)
    state = initial_hash(sequence.study.code, segments[0].seed, segments[0].config)
    allocations = sequence_history(sequence)
    pending = segments[1:]
    for i, alloc in enumerate(allocations, start=1):
        while pending and pending[0].start_number <= alloc.number:
            state = _check_segment_link(pending.pop(0), state, problems)
        if alloc.number != i:
            problems.append(f"allocation numbers are not consecutive at {i} (found {alloc.number})")
        if alloc.hash_before != state:
            problems.append(f"allocation #{alloc.number}: hash_before breaks the chain")
        segment = segment_for(segments, alloc.number)
        earlier = [a for a in allocations[: i - 1] if a.number >= segment.start_number]
        try:
            expected = _decide(sequence, segment, alloc.strata, earlier).arm
        except ValidationError as exc:  # settings altered so that they no longer allocate at all
            problems.append(f"allocation #{alloc.number}: segment {segment.number} cannot allocate ({exc})")
            expected = alloc.arm
        if expected != alloc.arm:
            problems.append(f"allocation #{alloc.number}: arm {alloc.arm!r}, sequence gives {expected!r}")
        state = chain_hash(state, alloc.number, allocation_label(alloc), alloc.strata, alloc.arm)
        if alloc.hash_after != state:
            problems.append(f"allocation #{alloc.number}: hash_after breaks the chain")
    for segment in pending:  # segments that start after the last allocation
        state = _check_segment_link(segment, state, problems)
    if sequence.count != len(allocations):
        problems.append(f"sequence count {sequence.count} != {len(allocations)} allocations")
    if sequence.state_hash != state:
        problems.append("sequence state hash does not match the chain")
    return SequenceCheck(not problems, tuple(problems), len(allocations))


def _check_segment_link(segment: AllocationSegment, state: str, problems: list[str]) -> str:
    if segment.hash_before != state:
        problems.append(f"segment {segment.number}: hash_before breaks the chain")
    after = segment_hash(state, segment)
    if segment.hash_after != after:
        problems.append(f"segment {segment.number}: hash_after breaks the chain")
    return after
