"""Screening: typed values from the protocol's field catalogue, evaluation, storage, edits."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.domain.screening_identity import derive_age_value
from npctrial.domain.timeline import check_screening_date
from npctrial.errors import ValidationError
from npctrial.web.core import protocols
from npctrial.web.core.locking import save_with_version
from npctrial.web.core.models import ProtocolVersion, ScreeningRecord, Site, Study, StudySite
from npctrial.web.core.screening_identity import check_duplicates, clean_identity


def protocol_of(version: ProtocolVersion) -> Any:
    return protocols.parse_protocol(version.yaml_text)


def to_storage(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def from_storage(version: ProtocolVersion, stored: dict[str, Any]) -> dict[str, Any]:
    """Typed values of a stored record, under the protocol version it was collected with."""
    return protocols.coerce_values(protocol_of(version), stored)


def evaluate_values(version: ProtocolVersion, values: dict[str, Any]) -> protocols.Evaluation:
    return protocols.evaluate(protocol_of(version), values)


def create_screening(study: Study, site: Site, raw: dict[str, Any], user: Any,
                     screening_date: date | None = None, reason: str | None = None,
                     identity: dict[str, Any] | None = None) -> ScreeningRecord:
    """Validate, evaluate and store a screening record under the study's current protocol.

    ``screening_date`` is the date entered by the site (default today; not in the future);
    ``reason`` is kept in the record's first history row (e.g. the reason of a data import);
    ``identity``: initials, birth_date, hospital_number, rescreen_of, rescreen_reason
    (:mod:`npctrial.web.core.screening_identity`: a person screened before is refused unless
    confirmed as a re-screening). The protocol's age field, if any, is computed from the birth date.
    """
    today = timezone.localdate()
    day = check_screening_date(screening_date or today, today=today)
    version = study.current_protocol
    if version is None:
        raise ValidationError(_("the study has no protocol version"), field="protocol")
    if not study.study_sites.filter(site=site, active=True).exists():
        raise ValidationError(_("site %(site)s does not take part in %(study)s") % {"site": site.code, "study": study.code},
                              field="site")
    ident = clean_identity(study, identity or {}, screening_date=day, today=today)
    protocol = protocol_of(version)
    values = protocols.coerce_values(protocol, derive_age_value([f.name for f in protocol.fields], raw,
                                                                ident.birth_date, day))
    evaluation = evaluate_values(version, values)
    with transaction.atomic():
        Study.objects.select_for_update().get(pk=study.pk)  # serialise duplicate detection across sites
        StudySite.objects.select_for_update().get(study=study, site=site)  # serialise numbering
        check_duplicates(study, site, ident)
        last = ScreeningRecord.objects.filter(study=study, site=site)
        number = (last.aggregate(m=Max("number"))["m"] or 0) + 1
        record = ScreeningRecord(
            study=study,
            site=site,
            protocol_version=version,
            number=number,
            values=to_storage(values),
            verdicts=[v.as_dict() for v in evaluation.verdicts],
            failed_criteria=evaluation.failed_criteria,
            outcome=evaluation.outcome,
            screened_by=user if getattr(user, "is_authenticated", False) else None,
            screening_date=day,
            initials=ident.initials, birth_date=ident.birth_date, hospital_number=ident.hospital_number,
            rescreen_of=ident.rescreen_of, rescreen_reason=ident.rescreen_reason,
        )
        if getattr(user, "is_authenticated", False):
            record._history_user = user
        record.save(reason=reason)
    return record


def merge_patch(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The values after a partial update: ``patch`` keys replace stored ones, absent keys are kept.

    A key sent with ``None`` (JSON ``null``) or ``""`` clears that value; only keys present in
    ``patch`` ever change (a PATCH of one value never drops the others).
    """
    merged = dict(stored)
    for name, value in patch.items():
        if value is None or value == "":
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def patch_screening(
    record: ScreeningRecord, patch: dict[str, Any], *, expected_version: int, reason: str, user: Any
) -> ScreeningRecord:
    """Partial update (API PATCH): merge ``patch`` into the stored values, then :func:`update_screening`.

    The merge reads the row under the same lock as the save, so it never merges into stale values.
    """
    with transaction.atomic():
        current = ScreeningRecord.objects.select_for_update().get(pk=record.pk)
        return update_screening(current, merge_patch(current.values, patch), expected_version=expected_version,
                                reason=reason, user=user)


def update_screening(
    record: ScreeningRecord, raw: dict[str, Any], *, expected_version: int, reason: str, user: Any
) -> ScreeningRecord:
    """Replace the screening values (optimistic lock + reason); re-evaluates under the record's version.

    ``raw`` is the complete set of values (the edit page posts every field it shows); partial
    updates go through :func:`patch_screening`.
    """
    if hasattr(record, "subject"):
        raise ValidationError(_("the patient is enrolled: screening data can no longer change"), field="values")
    values = protocols.coerce_values(protocol_of(record.protocol_version), raw)
    evaluation = evaluate_values(record.protocol_version, values)
    return save_with_version(
        record,
        expected_version=expected_version,
        changes={
            "values": to_storage(values),
            "verdicts": [v.as_dict() for v in evaluation.verdicts],
            "failed_criteria": evaluation.failed_criteria,
            "outcome": evaluation.outcome,
        },
        reason=reason,
        user=user,
    )
