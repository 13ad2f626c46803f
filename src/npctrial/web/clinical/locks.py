"""Investigator sign-off (e-signature by password re-entry) and data freeze/lock per subject and study.

Rules: 1. a subject's casebook is editable unless the subject or the whole study is locked
(:func:`assert_editable` raises, so every write path refuses); 2. signing re-checks the
signer's password (throttled, locked after repeated failures, every attempt audited:
:mod:`npctrial.web.core.esignature`), stores the manifestation (printed name, date and time,
meaning) and a SHA-256 over the (model, pk, version) of every record, so a
later change shows that the signature no longer covers the current casebook; 3. unlocking
needs a reason (the lock row is deleted through the audited delete).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical.models import CasebookSignature, DataLock
from npctrial.web.core.esignature import check_signature_password, manifestation, printed_name
from npctrial.web.core.events import record_event
from npctrial.web.core.models import Study, Subject

SIGNATURE_STATEMENT = ("I confirm that I have reviewed the case report forms of this subject and that they are "
                       "complete and accurate to the best of my knowledge.")


def is_locked(subject: Subject) -> bool:
    return DataLock.objects.filter(study_id=subject.study_id).filter(subject__isnull=True).exists() or \
        DataLock.objects.filter(subject=subject).exists()


def study_locked(study: Study) -> bool:
    return DataLock.objects.filter(study=study, subject__isnull=True).exists()


def assert_editable(subject: Subject) -> None:
    """Raise ValidationError(field='lock') when the subject's data are frozen."""
    if study_locked(subject.study):
        raise ValidationError(_("study %(study)s is locked: edits are refused") % {"study": subject.study.code}, field="lock")
    if DataLock.objects.filter(subject=subject).exists():
        raise ValidationError(_("subject %(subject)s is locked: edits are refused") % {"subject": subject.subject_id},
                              field="lock")


def hash_record_versions(items: Iterable[tuple[str, int, int]]) -> str:
    """SHA-256 over (model name, pk, version) of a casebook's records (order-independent)."""
    parts = sorted(f"{name}:{pk}:{version}" for name, pk, version in items)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def casebook_hash(subject: Subject) -> str:
    from npctrial.web.clinical.crfs import subject_records

    return hash_record_versions((type(r).__name__, r.pk, r.version) for r in subject_records(subject))


def sign_casebook(subject: Subject, user: Any, password: str, request: Any = None) -> CasebookSignature:
    """E-signature: the signer re-enters their password (21 CFR 11.200(a)(1)), throttled and audited.

    The password is checked (and a failure audited and committed) before the signature's transaction;
    the signature and its ``signature`` audit event, with the manifestation, are written together.
    """
    label = f"casebook {subject.subject_id}"
    check_signature_password(user, password, request=request, study=subject.study, subject=subject, record=label)
    with transaction.atomic():
        sig = CasebookSignature(subject=subject, signed_by=user, printed_name=printed_name(user), meaning="approval",
                                statement=SIGNATURE_STATEMENT, records_hash=casebook_hash(subject))
        sig._history_user = user  # type: ignore[attr-defined]
        sig.save()
        shown = manifestation(sig)
        record_event("signature", request=request, user=user, subject=subject, record=label, form="signature",
                     summary=shown.text(), details={"signature": sig.pk, "printed_name": shown.printed_name,
                                                    "meaning": sig.meaning, "records_hash": sig.records_hash})
    return sig


def signature_current(subject: Subject) -> CasebookSignature | None:
    """The latest signature if it still covers the casebook as it is now, else None."""
    sig = subject.signatures.order_by("-signed_at", "-pk").first()
    if sig is None or sig.records_hash != casebook_hash(subject):
        return None
    return sig


def _what(study: Study, subject: Subject | None) -> str:
    return f"subject {subject.subject_id}" if subject else f"study {study.code}"


def lock(study: Study, user: Any, subject: Subject | None = None, request: Any = None) -> DataLock:
    try:
        with transaction.atomic():
            row = DataLock(study=study, subject=subject, locked_by=user)
            row._history_user = user  # type: ignore[attr-defined]
            row.save()
            record_event("lock", request=request, user=user, study=study, subject=subject,
                         record=_what(study, subject), form="lock")
    except IntegrityError:
        what = (_("subject %(subject)s is already locked") % {"subject": subject.subject_id} if subject
                else _("study %(study)s is already locked") % {"study": study.code})
        raise ValidationError(what, field="lock") from None
    return row


def unlock(study: Study, user: Any, reason: str, subject: Subject | None = None, request: Any = None) -> None:
    if not (reason or "").strip():
        raise ValidationError(_("a reason is required to unlock"), field="reason")
    row = DataLock.objects.filter(study=study, subject=subject).first()
    if row is None:
        raise ValidationError(_("not locked"), field="lock")
    with transaction.atomic():
        row._history_user = user  # type: ignore[attr-defined]
        row.delete(reason=reason)
        record_event("unlock", request=request, user=user, study=study, subject=subject,
                     record=_what(study, subject), form="lock", reason=reason)
