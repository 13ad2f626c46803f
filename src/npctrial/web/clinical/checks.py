"""Edit checks on CRF records: the protocol's checks (npctrial.domain.edit_checks) with the EDC's facts.

The rules are protocol data evaluated by the domain; this module only gathers the values a check
reads and stores the outcome:

1. :func:`subject_context`: the subject's timeline (consent, screening, enrolment, randomisation,
   arm, radiotherapy dates, death, last visit finding the patient alive, treatment weeks, today),
   leaving out the record being saved (so an edited death does not see itself).
2. :func:`record_values`: the record's fields and derived values over that context, with
   ``same_day_duplicates`` for labs (same analyte) and tumour assessments.
3. :func:`check_record` (called by :func:`npctrial.web.clinical.crfs.save_crf` before saving):
   a hard check refuses the record with a field-level ValidationError (422 in the API, a form
   error on the page); soft findings are returned.
4. :func:`sync_queries` (after saving): one open data query per soft finding (``edit_check`` set,
   raised by the system); an automatic query whose check no longer fires is closed.
5. :func:`sweep`: every stored record of the given subjects re-checked (data entered before a
   check existed, or made inconsistent by a later record): a list of findings for the
   data-quality page; ``open_queries=True`` also opens the queries, hard findings included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from npctrial.domain.edit_checks import (
    EditCheck,
    EditCheckFinding,
    check_edit_checks,
    edit_checks_for,
    evaluate_edit_checks,
    treatment_weeks,
)
from npctrial.domain.lab_analytes import UNUSUAL_VALUE_CHECK
from npctrial.errors import ValidationError
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.core.screening import protocol_of

ALIVE = ("alive_ned", "alive_disease")
_DUPLICATE_KEYS = {"lab": ("sample_date", "term"), "assessment": ("assessment_date",)}


def checks_of(subject: Subject) -> tuple[EditCheck, ...]:
    return edit_checks_for(protocol_of(subject.protocol_version))


def _exclude(qs: Any, slug: str, current: tuple[str, int | None] | None) -> Any:
    if current is not None and current[0] == slug and current[1] is not None:
        return qs.exclude(pk=current[1])
    return qs


def subject_context(subject: Subject, current: tuple[str, int | None] | None = None) -> dict[str, Any]:
    """Step 1: the subject's timeline; ``current`` = (form, pk) of the record being saved."""
    from npctrial.web.clinical.models import ClinicalEvent, FollowUpVisit, RadiotherapyCourse

    consent = getattr(subject.screening, "consent", None)
    r = getattr(subject, "randomisation", None)
    rt = _exclude(RadiotherapyCourse.objects.filter(subject=subject), "radiotherapy", current).first()
    deaths = _exclude(ClinicalEvent.objects.filter(subject=subject, kind="death"), "event", current)
    withdrawals = _exclude(ClinicalEvent.objects.filter(subject=subject, kind="withdrawal"), "event", current)
    alive = _exclude(FollowUpVisit.objects.filter(subject=subject, status__in=ALIVE), "followup", current)
    death = min(deaths.values_list("event_date", flat=True), default=None)
    weeks = treatment_weeks(protocol_of(subject.protocol_version), rt.start_date if rt else None,
                            rt.end_date if rt else None)
    return {
        "today": timezone.localdate(), "now": timezone.now(),
        "consent_date": consent.consent_date if consent else None,
        "screening_date": subject.screening.screening_date, "enrolment_date": subject.enrolment_date,
        "randomisation_date": r.randomisation_date if r else None, "arm": r.arm if r else None,
        "rt_start": rt.start_date if rt else None, "rt_end": rt.end_date if rt else None,
        "death_date": death, "withdrawal_date": min(withdrawals.values_list("event_date", flat=True), default=None),
        "last_alive_date": max(alive.values_list("visit_date", flat=True), default=None),
        "treatment_weeks": weeks,
    }


def _duplicates(slug: str, record: Any, subject: Subject) -> int | None:
    keys = _DUPLICATE_KEYS.get(slug)
    if keys is None:
        return None
    from npctrial.web.clinical.crfs import spec_of

    values = {k: getattr(record, k, None) for k in keys}
    if any(v is None for v in values.values()):
        return None
    qs = spec_of(slug).model.objects.filter(subject=subject, **values)
    return _exclude(qs, slug, (slug, record.pk)).count()


def record_values(slug: str, record: Any, subject: Subject, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Step 2: the values a check of ``slug`` reads."""
    from npctrial.web.clinical.crfs import DERIVED, spec_of

    spec = spec_of(slug)
    out = dict(context if context is not None else subject_context(subject, (slug, record.pk)))
    out.update({f: getattr(record, f, None) for f in (*spec.fields, *DERIVED.get(slug, ()))})
    for f in spec.fields:  # a datetime field compares with ``now``; dates stay dates
        if isinstance(out[f], str) and not out[f]:
            out[f] = None
    out["same_day_duplicates"] = _duplicates(slug, record, subject)
    return out


#: Built-in soft checks of the domain's plausibility limits (listed with the declared checks).
LAB_UNUSUAL = UNUSUAL_VALUE_CHECK


def domain_findings(slug: str, record: Any) -> list[EditCheckFinding]:
    """Soft findings of domain rules that are not expressions: a lab value outside the analyte's usual range."""
    if slug != "lab":
        return []
    from npctrial.web.clinical.derive import lab_value_checks

    fields = {"value": "value", "baseline": "baseline_value"}
    return [EditCheckFinding(LAB_UNUSUAL, "lab", fields[c.kind], "soft", c.unusual)
            for c in lab_value_checks(record) if c.unusual]


#: A stored record the form would refuse today (a CTCAE grade the term lacks, a value impossible in its
#: unit ...): data entered before the rule existed, or imported.
FORM_RULES = "FORM-RULES"


def revalidate(slug: str, record: Any, subject: Subject) -> EditCheckFinding | None:
    """Run the form's domain validation on a copy of a stored record; the refusal it would give, if any."""
    import copy

    from npctrial.web.clinical.crfs import _derive, spec_of

    work = copy.copy(record)
    try:
        _derive(spec_of(slug), work, subject)
    except ValidationError as exc:
        return EditCheckFinding(FORM_RULES, slug, exc.field or "", "hard", str(exc))
    return None


#: forms whose own record feeds the subject context (and is left out of it when checking that record)
_TIMELINE_FORMS = ("radiotherapy", "event", "followup")


def evaluate_record(slug: str, record: Any, subject: Subject,
                    context: dict[str, Any] | None = None) -> list[EditCheckFinding]:
    """Every finding on a stored record (hard ones included: data stored before the check existed)."""
    found = evaluate_edit_checks(checks_of(subject), slug, record_values(slug, record, subject, context))
    refused = revalidate(slug, record, subject)
    return [*found, refused] if refused is not None else [*found, *domain_findings(slug, record)]


def check_record(slug: str, record: Any, subject: Subject) -> list[EditCheckFinding]:
    """Step 3: raise for the first hard check; the soft findings otherwise."""
    found = check_edit_checks(checks_of(subject), slug, record_values(slug, record, subject))
    return found + domain_findings(slug, record)


def _record_key(slug: str, record: Any) -> str:
    from npctrial.web.clinical.crfs import query_record

    return query_record(slug, record.pk)


def sync_queries(subject: Subject, slug: str, record: Any, findings: Iterable[EditCheckFinding]) -> list[DataQuery]:
    """Step 4: open the missing automatic queries of ``record``; close those no longer firing."""
    from npctrial.web.clinical.crfs import spec_of
    from npctrial.web.core.queries import close_query, raise_query

    key = _record_key(slug, record)
    spec = spec_of(slug)
    fired = {f.check: f for f in findings}
    automatic = list(DataQuery.objects.filter(subject=subject, record=key).exclude(edit_check=""))
    existing = {q.edit_check: q for q in automatic if q.status != "closed"}
    settled = {(q.edit_check, q.text) for q in automatic if q.status == "closed"}
    opened = []
    for check, finding in fired.items():
        text = f"{finding.message} [{check}]"
        if check not in existing and (check, text) not in settled:  # a closed query is not re-raised unchanged
            field = finding.field if finding.field in spec.fields else spec.date_field or spec.fields[0]
            opened.append(raise_query(subject, record=key, field_name=field, user=None, text=text, edit_check=check))
    for check, query in existing.items():
        if check not in fired:
            close_query(query, user=None, note=f"edit check {check} no longer fires after the data were corrected")
    return opened


def resync_open_queries(subject: Subject, exclude: set[tuple[str, int]] | frozenset[tuple[str, int]] = frozenset()) -> None:
    """Re-check the records that have open automatic queries (a later record may have resolved them);
    ``exclude``: the (form, pk) just saved and synced."""
    from npctrial.web.clinical.crfs import CRFS

    keys = set(DataQuery.objects.filter(subject=subject).exclude(edit_check="").exclude(status="closed")
               .values_list("record", flat=True))
    for key in sorted(keys):
        slug, _, pk = key.partition(":")
        if slug not in CRFS or not pk.isdigit() or (slug, int(pk)) in exclude:
            continue
        record = CRFS[slug].model.objects.filter(subject=subject, pk=int(pk)).first()
        if record is not None:
            sync_queries(subject, slug, record, evaluate_record(slug, record, subject))


@dataclass(frozen=True)
class SweepFinding:
    """A check that fires on a stored record (shown on the data-quality page)."""

    subject: Subject
    form: str
    record_pk: int
    finding: EditCheckFinding

    @property
    def record(self) -> str:
        return f"{self.form}:{self.record_pk}"


def sweep(subjects: Iterable[Subject], *, open_queries: bool = False) -> list[SweepFinding]:
    """Step 5: every record of every subject re-checked against the protocol's checks."""
    from npctrial.web.clinical.crfs import CRFS

    out: list[SweepFinding] = []
    for subject in subjects:
        base = subject_context(subject)  # the record itself matters only for the timeline forms
        for slug, spec in CRFS.items():
            for record in spec.model.objects.filter(subject=subject).order_by("pk"):
                context = subject_context(subject, (slug, record.pk)) if slug in _TIMELINE_FORMS else base
                findings = evaluate_record(slug, record, subject, context)
                out.extend(SweepFinding(subject, slug, record.pk, f) for f in findings)
                if open_queries:
                    sync_queries(subject, slug, record, findings)
    return out
