"""A deliberately messy demo site (MX): records as they arrive from an import done before the edit checks existed.

Three synthetic patients per study, screened and enrolled through the normal services, whose CRF
records are written directly (audited, but without the form's validation), as a legacy import
would: a death dated before consent and before two "alive" visits; two RECIST assessments on
one date; grades CTCAE v4.03 does not define (dry mouth 4, febrile neutropenia 1); a bilirubin
ULN stored in the value's unit by mistake; a follow-up visit in the future; an "acute" RTOG grade
5 at day 104; radiotherapy before consent; in the randomised study, nimotuzumab for a patient of
the control arm, dated before randomisation. The screening log of the site shows a re-screening
(a patient first screened without the staging, then re-screened with it, linked and with its
reason) and a duplicate imported before duplicate detection existed: patient ``a`` screened a
second time, unlinked; screening ``a`` again now is refused naming both earlier screenings.

After loading, every edit check is re-run on the site (:func:`npctrial.web.clinical.checks.sweep`
with ``open_queries``): each problem becomes a data query, the report lists the subjects it cannot
evaluate, and nothing is dropped silently.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone

from npctrial.web.clinical import checks
from npctrial.web.clinical.models import (
    AdverseEvent,
    ClinicalEvent,
    DrugAdministration,
    FollowUpVisit,
    LabResult,
    Lesion,
    RadiotherapyCourse,
    RtogScore,
    TumourAssessment,
)
from npctrial.web.core.allocation import randomise
from npctrial.web.core.audit import create_audited
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Membership, ScreeningRecord, Site, Study, StudySite, Subject
from npctrial.web.core.screening import create_screening

SITE = ("MX", "Messy demo site (records imported before the edit checks)")
COORDINATOR = "coordinator_mx"


def _site_and_user(study: Study, password: str) -> tuple[Site, Any]:
    site, _ = Site.objects.get_or_create(code=SITE[0], defaults={"name": SITE[1]})
    StudySite.objects.get_or_create(study=study, site=site)
    user, _ = get_user_model().objects.get_or_create(username=COORDINATOR)
    user.set_password(password)
    user.save()
    Membership.objects.get_or_create(user=user, study=study, site=site, role="coordinator")
    return site, user


def _legacy(model: type, user: Any, subject: Subject, **fields: Any) -> Any:
    """A record written as an import would: audited, never validated."""
    return create_audited(model, user, subject=subject, protocol_version=subject.protocol_version,
                          created_by=user, **fields)


def _rt(user: Any, subject: Subject, start: Any) -> Any:
    return _legacy(RadiotherapyCourse, user, subject, technique="IMRT", total_dose_gy=70.0, fractions=33,
                   start_date=start, end_date=start + timedelta(days=45), delivered_fractions=33)


_PEOPLE = ({"initials": "MXA", "birth_date": "1961-05-02", "hospital_number": "MX-0001"},
           {"initials": "MXB", "birth_date": "1972-11-30", "hospital_number": "MX-0002"},
           {"initials": "MXC", "birth_date": "1958-02-28", "hospital_number": "MX-0003"})
_RESCREENED = {"initials": "RS", "birth_date": "1966-08-19", "hospital_number": "MX-0004"}


def _patients(study: Study, site: Site, user: Any, values: dict[str, Any], n: int) -> list[Subject]:
    today = timezone.localdate()
    out = []
    for i in range(n):
        record = create_screening(study, site, values, user, screening_date=today - timedelta(days=200 + i),
                                  identity=_PEOPLE[i % len(_PEOPLE)])
        out.append(enrol(record, consent_date=today - timedelta(days=199 + i), consent_version="1.0", user=user,
                         enrolment_date=today - timedelta(days=198 + i)))
    return out


def _screening_history(site: Site, user: Any, values: dict[str, Any], enrolled: Subject) -> None:
    """A re-screening (first without the staging: incomplete) and a duplicate imported unlinked."""
    today = timezone.localdate()
    study = enrolled.study
    first = create_screening(study, site, {k: v for k, v in values.items() if k != "t_category"}, user,
                             screening_date=today - timedelta(days=120), identity=_RESCREENED)
    create_screening(study, site, values, user, screening_date=today - timedelta(days=110),
                     identity={**_RESCREENED, "rescreen_of": first.pk,
                               "rescreen_reason": "staging MRI reported after the first screening"})
    earlier = enrolled.screening
    number = (ScreeningRecord.objects.filter(study=study, site=site).aggregate(m=Max("number"))["m"] or 0) + 1
    create_audited(ScreeningRecord, user, reason="legacy import (before duplicate detection)", study=study, site=site,
                   protocol_version=earlier.protocol_version, number=number, values=earlier.values,
                   verdicts=earlier.verdicts, failed_criteria=earlier.failed_criteria, outcome=earlier.outcome,
                   screened_by=user, screening_date=earlier.screening_date + timedelta(days=2),
                   initials=earlier.initials, birth_date=earlier.birth_date)


def load_messy_site(study: Study, password: str, values: dict[str, Any]) -> list[Subject]:
    """Create site MX in ``study`` with three messy patients; returns them (queries already opened)."""
    site, user = _site_and_user(study, password)
    a, b, c = _patients(study, site, user, values, 3)
    _screening_history(site, user, values, a)
    today = timezone.localdate()
    consent = a.enrolment_date - timedelta(days=1)
    # a: death before consent and before two "alive" visits (issue 12)
    rt_a = _rt(user, a, a.enrolment_date + timedelta(days=7))
    for months in (2, 5):
        _legacy(FollowUpVisit, user, a, visit_date=rt_a.end_date + timedelta(days=30 * months), status="alive_ned")
    _legacy(ClinicalEvent, user, a, kind="death", event_date=consent - timedelta(days=20), cause="unknown")
    # b: two RECIST assessments on one date, impossible CTCAE grades, a ULN in the wrong unit
    rt_b = _rt(user, b, b.enrolment_date + timedelta(days=7))
    baseline = _legacy(TumourAssessment, user, b, assessment_date=b.enrolment_date - timedelta(days=3),
                       new_lesions="no", note="baseline")
    Lesion.objects.create(assessment=baseline, lesion_id="T1", location="nasopharynx", target=True, diameter_mm=40)
    day = rt_b.end_date + timedelta(days=28)
    for response in ("PR", "SD"):
        a1 = _legacy(TumourAssessment, user, b, assessment_date=day, new_lesions="no", overall_response=response)
        Lesion.objects.create(assessment=a1, lesion_id="T1", location="nasopharynx", target=True, diameter_mm=25)
    for term, grade in (("dry_mouth", 4), ("febrile_neutropenia", 1)):
        _legacy(AdverseEvent, user, b, week=4, term=term, grade=grade, attribution="probable",
                start_date=rt_b.start_date + timedelta(days=24))
    _legacy(LabResult, user, b, week=3, sample_date=rt_b.start_date + timedelta(days=16),
            term="blood_bilirubin_increased", value=3.0, unit="mg/dL", uln=20.0, uln_unit="mg/dL", grade=0,
            suggested_grade=0)
    # c: RT before consent, a visit in the future, an "acute" RTOG grade 5 at day 104
    rt_c = _rt(user, c, c.enrolment_date - timedelta(days=5))
    _legacy(FollowUpVisit, user, c, visit_date=today + timedelta(days=40), status="alive_ned")
    _legacy(RtogScore, user, c, assessment_date=rt_c.end_date + timedelta(days=104), scale="acute",
            organ="mucous_membrane", grade=5, days_after_rt_end=104)
    if hasattr(study, "allocation_sequence"):  # the randomised study
        allocation = randomise(b, user, b.enrolment_date + timedelta(days=2))
        # nimotuzumab for the control arm before randomisation, or for a patient never randomised (c)
        target = b if allocation.arm == "CCRT" else c
        _legacy(DrugAdministration, user, target, drug="nimotuzumab", date=target.enrolment_date,
                planned_dose_mg=200.0, dose_mg=200.0)
    subjects = [a, b, c]
    checks.sweep(subjects, open_queries=True)
    return subjects
