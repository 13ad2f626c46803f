"""Everything the event grid and the status dashboard need about subjects, in a few queries.

:func:`load_states` reads, for a list of subjects, one query per CRF model and one each for
lesions, open queries, nothing-to-report marks, locks, signatures and source-data verifications,
so the dashboard of a 500-subject study costs the same number of queries as one casebook.
Whether a signature still covers the casebook is computed from the loaded record versions with
the same hash as :func:`npctrial.web.clinical.locks.casebook_hash`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from npctrial.web.clinical import crfs
from npctrial.web.clinical.locks import hash_record_versions
from npctrial.web.clinical.models import (
    CasebookSignature,
    DataLock,
    DeclaredRecord,
    Lesion,
    NothingToReport,
    SourceVerification,
)
from npctrial.web.core.models import DataQuery, Subject


@dataclass
class SubjectState:
    """One subject's records and their review state (open queries, SDV, marks, lock, signature)."""

    subject: Subject
    records: dict[str, list[Any]] = field(default_factory=dict)
    voided: list[Any] = field(default_factory=list)  # records voided as entered in error (any form)
    lesion_versions: list[tuple[int, int]] = field(default_factory=list)
    open_queries: Counter[str] = field(default_factory=Counter)
    marks: dict[tuple[str, str], Any] = field(default_factory=dict)
    verified: dict[str, int] = field(default_factory=dict)  # record ref -> version verified (whole record)
    fields_verified: dict[str, set[int]] = field(default_factory=dict)  # ref -> versions with fields verified
    locked: bool = False
    signed: bool = False

    @property
    def rt(self) -> Any:
        courses = self.records.get("radiotherapy") or []
        return courses[0] if courses else None


#: Other apps add ``(states: dict[subject pk, SubjectState]) -> None`` loaders (e.g. SDV rows).
STATE_LOADERS: list[Any] = []


#: columns a status summary reads beyond those every form has (the anchors and the stop of follow-up)
SUMMARY_FIELDS = {"radiotherapy": ("start_date", "end_date"), "event": ("kind", "event_date")}
_COMMON_FIELDS = ("pk", "subject_id", "event", "version", "voided_at")


class SummaryRecord:
    """A record reduced to the columns the grid's statuses read (see :func:`summary_fields`)."""

    __slots__ = ("__dict__",)

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


@cache
def _summary_class(model_name: str) -> type[SummaryRecord]:
    # named after the model: the signature hash names each record by its model (record_versions)
    return type(model_name, (SummaryRecord,), {"__slots__": ()})


def summary_fields(slug: str) -> tuple[str, ...]:
    """The columns of form ``slug`` the grid's statuses and timings read."""
    spec = crfs.CRFS[slug]
    extra = (spec.date_field,) if spec.date_field else ()
    return tuple(dict.fromkeys((*_COMMON_FIELDS, *extra, *spec.expected, *SUMMARY_FIELDS.get(slug, ()))))


def _records(slug: str, ids: list[int], summary: bool) -> Iterable[Any]:
    spec = crfs.CRFS[slug]
    rows = spec.model.all_objects.filter(subject_id__in=ids).order_by("pk")
    if not summary:
        return rows
    cls, names = _summary_class(spec.model.__name__), summary_fields(slug)
    return (cls(**dict(zip(names, row, strict=True))) for row in rows.values_list(*names))


def load_states(subjects: list[Subject], *, summary: bool = False) -> dict[int, SubjectState]:
    """The state of every subject in ``subjects`` (their study, site and screening already loaded).

    ``summary=True`` (the status dashboard): each record is a :class:`SummaryRecord` holding only
    the columns the grid's statuses read, from one ``values_list`` query per form (no model
    instances); the statuses, timings and signature check are those of the full records.
    """
    states = {s.pk: SubjectState(s, records={slug: [] for slug in crfs.CRFS}) for s in subjects}
    ids = list(states)
    if not ids:
        return states
    for slug in crfs.CRFS:
        for r in _records(slug, ids, summary):
            state = states[r.subject_id]
            if r.voided_at is None:
                state.records[slug].append(r)
            else:
                state.voided.append(r)
    for r in DeclaredRecord.all_objects.filter(subject_id__in=ids).order_by("pk"):  # protocol-declared forms
        state = states[r.subject_id]
        if r.voided_at is None:
            state.records.setdefault(r.form, []).append(r)
        else:
            state.voided.append(r)
    for subject_id, pk, version in Lesion.objects.filter(assessment__subject_id__in=ids).values_list(
            "assessment__subject_id", "pk", "version"):
        states[subject_id].lesion_versions.append((pk, version))
    for subject_id, record in DataQuery.objects.filter(subject_id__in=ids).exclude(status="closed").values_list(
            "subject_id", "record"):
        states[subject_id].open_queries[record] += 1
    for mark in NothingToReport.objects.filter(subject_id__in=ids):
        states[mark.subject_id].marks[(mark.event, mark.form)] = mark
    _load_verifications(states)
    _load_locks(states, subjects)
    _load_signatures(states)
    for loader in STATE_LOADERS:
        loader(states)
    return states


def _load_verifications(states: dict[int, SubjectState]) -> None:
    for subject_id, record, name, version in SourceVerification.objects.filter(
            subject_id__in=list(states)).values_list("subject_id", "record", "field", "record_version"):
        state = states[subject_id]
        if name:
            state.fields_verified.setdefault(record, set()).add(version)
        else:
            state.verified[record] = max(version, state.verified.get(record, 0))


def _load_locks(states: dict[int, SubjectState], subjects: list[Subject]) -> None:
    study_ids = {s.study_id for s in subjects}
    locked_studies = set(DataLock.objects.filter(study_id__in=study_ids, subject__isnull=True)
                         .values_list("study_id", flat=True))
    locked_subjects = set(DataLock.objects.filter(subject_id__in=list(states)).values_list("subject_id", flat=True))
    for pk, state in states.items():
        state.locked = state.subject.study_id in locked_studies or pk in locked_subjects


def record_versions(state: SubjectState) -> list[tuple[str, int, int]]:
    """(model name, pk, version) of every record of the casebook (as the signature hashes them)."""
    items = [(type(r).__name__, r.pk, r.version) for recs in (*state.records.values(), state.voided) for r in recs]
    items += [("Lesion", pk, version) for pk, version in state.lesion_versions]
    return items


def _load_signatures(states: dict[int, SubjectState]) -> None:
    latest: dict[int, str] = {}
    for subject_id, records_hash in CasebookSignature.objects.filter(subject_id__in=list(states)).order_by(
            "subject_id", "-signed_at", "-pk").values_list("subject_id", "records_hash"):
        latest.setdefault(subject_id, records_hash)
    for pk, records_hash in latest.items():
        states[pk].signed = records_hash == hash_record_versions(record_versions(states[pk]))


def load_state(subject: Subject) -> SubjectState:
    return load_states([subject])[subject.pk]

