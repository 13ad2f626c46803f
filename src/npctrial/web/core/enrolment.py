"""Consent and enrolment: subject IDs from the protocol's pattern, high-risk derivation.

When the protocol says ``randomisation.at_enrolment: true`` the subject is randomised in the same
transaction: a subject is enrolled only if the allocation succeeds (e.g. every stratification
factor is recorded), never left enrolled and unrandomised.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.domain.timeline import check_enrolment_date
from npctrial.errors import ValidationError
from npctrial.web.core import protocols
from npctrial.web.core.allocation import randomise
from npctrial.web.core.audit import create_audited
from npctrial.web.core.models import Consent, ScreeningRecord, Study, StudySite, Subject
from npctrial.web.core.screening import from_storage, protocol_of
from npctrial.web.core.screening_identity import check_single_enrolment


def format_subject_id(pattern: str, *, site: str, seq: int, study: str) -> str:
    """``IMRT-{site}-{seq:03d}`` -> ``IMRT-GZ-007``; a bad pattern is a ValidationError."""
    try:
        return pattern.format(site=site, seq=seq, study=study)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            _("subject_id_pattern %(pattern)r cannot be formatted: %(error)s") % {"pattern": pattern, "error": exc},
            field="subject_id_pattern"
        ) from None


def check_unused_subject_id(subject_id: str) -> None:
    """Subject IDs are unique across studies: an ID another study already gave is refused."""
    taken = Subject.objects.filter(subject_id=subject_id).select_related("study").first()
    if taken is not None:
        raise ValidationError(
            _("subject ID %(id)s is already used in study %(study)s: subject IDs are unique across studies; "
              "amend the protocol's subject_id_pattern (e.g. a study prefix or {study})")
            % {"id": subject_id, "study": taken.study.code}, field="subject_id_pattern")


def enrol(
    screening: ScreeningRecord, *, consent_date: date, consent_version: str, user: Any,
    enrolment_date: date | None = None, reason: str | None = None,
) -> Subject:
    """Record consent and enrol an eligible screened patient (atomic; once per screening).

    ``enrolment_date`` is the date entered by the site (default: today); it is the origin of the
    enrolment-based endpoints and must not be in the future nor before consent or screening.
    """
    if screening.outcome != "eligible":
        raise ValidationError(
            _("only eligible patients can be enrolled; screening outcome is %(outcome)s")
            % {"outcome": _(screening.outcome)},
            field="screening",
        )
    if not consent_version or not str(consent_version).strip():
        raise ValidationError(_("consent_version is required"), field="consent_version")
    today = timezone.localdate()
    enrolled_on = check_enrolment_date(enrolment_date or today, consent=consent_date, today=today,
                                       screening=screening.screening_date)
    version = screening.protocol_version
    protocol = protocol_of(version)
    values = from_storage(version, screening.values)
    high_risk, risk_reason = protocols.derive_high_risk(protocol, values)
    actor = user if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            Study.objects.select_for_update().get(pk=screening.study_id)  # one enrolment per person, any site
            StudySite.objects.select_for_update().get(study=screening.study, site=screening.site)
            if Subject.objects.filter(screening=screening).exists():
                raise ValidationError(_("this patient is already enrolled"), field="screening")
            check_single_enrolment(screening)
            create_audited(
                Consent, actor, reason=reason, screening=screening, consent_date=consent_date,
                consent_version=str(consent_version).strip(), recorded_by=actor,
            )
            seq = (
                Subject.objects.filter(study=screening.study, site=screening.site).aggregate(m=Max("seq"))["m"]
                or 0
            ) + 1
            subject_id = format_subject_id(
                protocols.subject_id_pattern(protocol), site=screening.site.code, seq=seq,
                study=screening.study.code,
            )
            check_unused_subject_id(subject_id)
            subject = create_audited(
                Subject, actor, reason=reason, study=screening.study, site=screening.site, screening=screening,
                protocol_version=version, subject_id=subject_id, seq=seq, enrolment_date=enrolled_on,
                high_risk=high_risk, high_risk_reason=risk_reason[:300], enrolled_by=actor,
            )
            if protocol.randomisation is not None and protocol.randomisation.at_enrolment:
                randomise(subject, user, randomisation_date=enrolled_on)  # at enrolment: both or neither
            return subject
    except IntegrityError:
        raise ValidationError(_("this patient is already enrolled"), field="screening") from None
