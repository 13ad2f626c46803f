"""The analysis set shared by the study report and the analysis exports (ADSL, ADTTE, ADAE).

One derivation per subject, so the report and the exports count the same patients and events,
and every subject left out of an endpoint is listed with the reason (never skipped silently):

1. Records: the CRFs endpoints need, one query per model for all subjects (:func:`load_records`).
2. Arm: the randomised arm; in a randomised study a subject never randomised has no arm (listed,
   left out of the by-arm analyses, "Not Assigned" in the exports); a single-arm study has one
   arm, :data:`SINGLE_ARM`.
3. Patient course (:func:`patient_course`) and each time-to-event endpoint by
   :func:`npctrial.domain.derive_endpoint` with the protocol's definition; a ValidationError (an
   event before the origin, an assessment after death, a missing origin) makes the subject not
   evaluable for that endpoint with the error as reason.
4. Best overall response (RECIST 1.1, :func:`best_response`): not evaluable without a
   post-baseline assessment or with two assessments on one date.
5. Safety records (:func:`safety_records`): every AE and every lab value with a CTCAE grade >= 1,
   the safety population being the treated subjects; a stored grade outside 0-5 is listed and
   not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from npctrial.domain import (
    EndpointValue,
    Failure,
    PatientCourse,
    Timepoint,
    best_overall_response,
    derive_endpoint,
)
from npctrial.domain.endpoints import STANDARD_ENDPOINTS
from npctrial.errors import ValidationError
from npctrial.web.clinical.models import (
    AdverseEvent,
    Baseline,
    ClinicalEvent,
    DrugAdministration,
    FollowUpVisit,
    LabResult,
    RadiotherapyCourse,
    TumourAssessment,
)
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages.display import message_text

__all__ = ["NOT_ASSIGNED", "SINGLE_ARM", "TIME_TO_EVENT", "AnalysisSet", "NotEvaluable", "SubjectAnalysis",
           "best_response", "best_response_or_reason", "build_analysis_set", "load_records", "patient_course",
           "protocol_cache", "safety_records", "treated_ids"]

#: CDISC controlled terminology for a subject of a randomised study who was never assigned an arm.
NOT_ASSIGNED = "Not Assigned"
#: The arm of every subject of a single-arm study.
SINGLE_ARM = "Single arm"
TIME_TO_EVENT = ("PFS", "OS")


@dataclass
class Records:
    assessments: list[Any] = field(default_factory=list)
    visits: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    rt: Any = None
    baseline: Any = None


def _subject_filter(subjects: list[Subject], within: Any) -> Any:
    """The ``subject_id__in`` value: the query ``within`` (a subquery of subject keys) or the keys."""
    return within if within is not None else [s.pk for s in subjects]


def load_records(subjects: list[Subject], within: Any = None) -> dict[int, Records]:
    """Step 1: the CRF records that endpoints and ADSL need, one query per model for all ``subjects``.

    ``within``: a query of subject keys that holds ``subjects`` (one subquery instead of a list of
    hundreds of keys, read in the same snapshot: :func:`npctrial.web.core.snapshot.read_snapshot`).
    Records of a subject it holds but ``subjects`` does not (enrolled after the list was read,
    outside a snapshot) belong to no analysed subject and are not read into the result."""
    out = {s.pk: Records() for s in subjects}
    keys = _subject_filter(subjects, within)
    for a in TumourAssessment.objects.filter(subject_id__in=keys).order_by("assessment_date", "pk"):
        if a.subject_id in out:
            out[a.subject_id].assessments.append(a)
    for v in FollowUpVisit.objects.filter(subject_id__in=keys).order_by("visit_date"):
        if v.subject_id in out:
            out[v.subject_id].visits.append(v)
    for e in ClinicalEvent.objects.filter(subject_id__in=keys).order_by("event_date"):
        if e.subject_id in out:
            out[e.subject_id].events.append(e)
    for r in RadiotherapyCourse.objects.filter(subject_id__in=keys):
        if r.subject_id in out:
            out[r.subject_id].rt = r
    for b in Baseline.objects.filter(subject_id__in=keys):
        if b.subject_id in out:
            out[b.subject_id].baseline = b
    return out


def patient_course(subject: Subject, records: Records | None = None) -> PatientCourse:
    """Step 3: the subject's dated events from the CRFs (ValidationError for an impossible course)."""
    rec = records if records is not None else load_records([subject])[subject.pk]
    dates = {a.assessment_date for a in rec.assessments}
    dates |= {v.visit_date for v in rec.visits if v.disease_assessed}
    failures = [Failure("progression", a.assessment_date) for a in rec.assessments if a.overall_response == "PD"]
    death = None
    contacts = [v.visit_date for v in rec.visits] + sorted(dates)
    for e in rec.events:
        if e.kind == "locoregional_relapse":
            failures.append(Failure("local", e.event_date))
        elif e.kind == "distant_metastasis":
            failures.append(Failure("distant", e.event_date))
        elif e.kind == "death":
            death = e.event_date if death is None else min(death, e.event_date)
        elif e.kind in ("last_contact", "withdrawal"):  # withdrawing, the patient was known alive
            contacts.append(e.event_date)
    rt = rec.rt
    r = getattr(subject, "randomisation", None)
    return PatientCourse(
        patient_id=subject.subject_id, enrolment=subject.enrolment_date, assessments=tuple(sorted(dates)),
        failures=tuple(failures), death=death, last_contact=max(contacts) if contacts else None,
        randomisation=r.randomisation_date if r is not None else None,
        rt_start=rt.start_date if rt else None, rt_end=rt.end_date if rt else None)


def best_response(subject: Subject, assessments: list[Any] | None = None) -> str | None:
    """Step 4: RECIST best overall response (no confirmation: neither seed protocol asks for it).

    None without a post-baseline response; ValidationError for two assessments on one date.
    """
    rows = (assessments if assessments is not None
            else list(TumourAssessment.objects.filter(subject=subject).order_by("assessment_date", "pk")))
    if len(rows) < 2:
        return None
    origin = rows[0].assessment_date
    points = [Timepoint((a.assessment_date - origin).days, a.overall_response) for a in rows[1:] if a.overall_response]
    if not points:
        return None
    return best_overall_response(points).response


def best_response_or_reason(subject: Subject, assessments: list[Any] | None = None) -> tuple[str | None, str]:
    """The BOR for a casebook page, or why it cannot be given (a page never fails on its subject's data);
    ``assessments`` in date order when the caller has them."""
    from django.utils.translation import gettext as _

    try:
        bor = best_response(subject, assessments)
    except ValidationError as exc:
        return None, _("not evaluable: %(reason)s") % {"reason": exc}
    return bor, "" if bor is not None else _("no post-baseline response yet")


def protocol_cache() -> Callable[[int], Any]:
    """Domain protocol per ProtocolVersion id, parsed once."""
    from npctrial.web.core.models import ProtocolVersion

    cache: dict[int, Any] = {}

    def get(version_id: int) -> Any:
        if version_id not in cache:
            cache[version_id] = protocol_of(ProtocolVersion.objects.only("yaml_text").get(pk=version_id))
        return cache[version_id]

    return get


def endpoint_spec(protocol: Any, name: str) -> Any:
    return next((e for e in protocol.endpoints if e.name == name), STANDARD_ENDPOINTS[name])


@dataclass(frozen=True)
class NotEvaluable:
    """A subject left out of an endpoint, and why (in the language of the report being built:
    the domain's coded refusal rendered for the reader, English outside a request)."""

    endpoint: str
    subject_id: str
    site: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "subject": self.subject_id, "site": self.site, "reason": self.reason}


@dataclass
class SubjectAnalysis:
    subject: Subject
    records: Records
    arm: str | None
    course: PatientCourse | None
    values: dict[str, EndpointValue]
    bor: str | None


@dataclass
class AnalysisSet:
    randomised_study: bool
    rows: list[SubjectAnalysis]
    not_evaluable: list[NotEvaluable]

    def by_pk(self) -> dict[int, SubjectAnalysis]:
        return {r.subject.pk: r for r in self.rows}

    def reasons(self, subject_id: str, endpoint: str) -> str:
        return "; ".join(n.reason for n in self.not_evaluable
                         if n.subject_id == subject_id and n.endpoint in (endpoint, "arm"))


def _arm(subject: Subject, randomised: bool) -> str | None:
    if not randomised:
        return SINGLE_ARM
    r = getattr(subject, "randomisation", None)
    return r.arm if r is not None else None


def _analyse(subject: Subject, records: Records, protocol: Any, randomised: bool,
             out: list[NotEvaluable]) -> SubjectAnalysis:
    def drop(endpoint: str, reason: str) -> None:
        out.append(NotEvaluable(endpoint, subject.subject_id, subject.site.code, reason))

    arm = _arm(subject, randomised)
    if arm is None:
        drop("arm", _("never randomised: left out of the analyses by arm"))
    course = None
    try:
        course = patient_course(subject, records)
    except ValidationError as exc:
        for name in TIME_TO_EVENT:
            drop(name, message_text(exc))
    values: dict[str, EndpointValue] = {}
    for name in TIME_TO_EVENT:
        if course is None:
            break
        try:
            values[name] = derive_endpoint(course, endpoint_spec(protocol, name))
        except ValidationError as exc:
            drop(name, message_text(exc))
    bor = None
    try:
        bor = best_response(subject, records.assessments)
    except ValidationError as exc:
        days = [a.assessment_date for a in records.assessments]
        twice = ", ".join(sorted({d.isoformat() for d in days if days.count(d) > 1}))
        where = _("RECIST assessments of %(subject)s") % {"subject": subject.subject_id}
        drop("BOR", f"{message_text(exc)}{': ' + twice if twice else ''} ({where})")
    else:
        if bor is None:
            drop("BOR", _("no post-baseline RECIST 1.1 response yet"))
    return SubjectAnalysis(subject, records, arm, course, values, bor)


def build_analysis_set(subjects: list[Subject], randomised: bool,
                       protocol_for: Callable[[int], Any] | None = None,
                       records: dict[int, Records] | None = None) -> AnalysisSet:
    """Steps 1-4 for ``subjects`` (already scoped to the user's sites)."""
    protocol_for = protocol_for or protocol_cache()
    records = records if records is not None else load_records(subjects)
    out: list[NotEvaluable] = []
    rows = [_analyse(s, records[s.pk], protocol_for(s.protocol_version_id), randomised, out) for s in subjects]
    return AnalysisSet(randomised, rows, out)


@dataclass(frozen=True)
class SafetyRecord:
    subject_id: str
    site: str
    term: str
    grade: int
    source: str  # "AE" or "LAB"
    record: str  # "<form>:<id>"
    start: Any
    row: Any


def treated_ids(subjects: list[Subject], records: dict[int, Records], within: Any = None) -> set[int]:
    """The safety population: subjects with radiotherapy or any drug administration recorded
    (``within``: as for :func:`load_records`)."""
    dosed = set(DrugAdministration.objects.filter(subject_id__in=_subject_filter(subjects, within))
                .values_list("subject_id", flat=True).distinct())
    return {s.pk for s in subjects if records[s.pk].rt is not None or s.pk in dosed}


def safety_records(subjects: list[Subject], out: list[NotEvaluable] | None = None,
                   within: Any = None) -> list[SafetyRecord]:
    """Step 5: every AE and every lab-derived CTCAE grade >= 1 of ``subjects`` (the report and ADAE;
    ``within``: as for :func:`load_records`)."""
    sites = {s.pk: (s.subject_id, s.site.code) for s in subjects}
    keys = _subject_filter(subjects, within)
    rows: list[SafetyRecord] = []

    def add(source: str, form: str, r: Any, term: str, start: Any) -> None:
        if r.subject_id not in sites:  # a subject outside the list (see load_records)
            return
        sid, site = sites[r.subject_id]
        if isinstance(r.grade, bool) or not isinstance(r.grade, int) or not 0 <= r.grade <= 5:
            if out is not None:
                out.append(NotEvaluable("AE", sid, site, f"{form}:{r.pk} grade {r.grade!r} is not a CTCAE grade: "
                                                         "not counted"))
            return
        rows.append(SafetyRecord(sid, site, term, r.grade, source, f"{form}:{r.pk}", start, r))

    for ae in AdverseEvent.objects.filter(subject_id__in=keys).order_by("subject_id", "start_date", "pk"):
        add("AE", "ae", ae, ae.term, ae.start_date)
    for lab in LabResult.objects.filter(subject_id__in=keys, grade__gte=1).order_by("subject_id", "sample_date", "pk"):
        add("LAB", "lab", lab, lab.term, lab.sample_date)
    return rows
