"""Part 11 e-signatures: password re-entry, throttled and locked after repeated failures, audited.

21 CFR 11.200(a)(1): a signature made outside a continuous session uses both components (the
user is logged in; the signature re-enters the password). 11.300(d): attempts at unauthorised use
are detected and reported: every failed attempt is an audit event, and repeated failures lock
signing. 11.50: the signature shows the printed name, date and time, and meaning
(:func:`manifestation`).

Algorithm of :func:`check_signature_password` (state = the user's audit events, so it holds
across processes and restarts):

1. Find the user's last ``signature_locked`` event after their last successful ``signature``. If
   its lock has not expired (``until`` in the event), refuse without looking at the password and
   record ``signature_refused``.
2. Check the password. Right: return (the caller records the ``signature`` event with the
   manifestation, in the same transaction as the signature).
3. Wrong: record ``signature_failed``. Count the failures since the last success or the last lock
   (whichever is later); at :data:`settings.ESIGNATURE_FAILURE_LIMIT` record ``signature_locked``
   with ``until`` = now + ``ESIGNATURE_COOLOFF``. Raise ``ValidationError(field="password")``
   saying how many attempts are left or until when signing is locked.

Call it before opening the transaction that writes the signature: the failed-attempt events are
committed even though the signature is refused (inside a transaction that the error rolls back,
they would be lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core.events import record_event
from npctrial.web.core.models_audit import AuditEvent

__all__ = ["Manifestation", "check_signature_password", "manifestation", "printed_name", "signature_locked_until"]

MEANINGS = {
    "approval": "Approval",
    "review": "Review",
    "authorship": "Authorship",
    "responsibility": "Responsibility",
}


def printed_name(user: Any) -> str:
    """The signer's printed name: full name when recorded, else the username."""
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


@dataclass(frozen=True)
class Manifestation:
    """What 11.50 requires a signed record to show."""

    printed_name: str
    username: str
    signed_at: datetime
    meaning: str
    statement: str

    def text(self) -> str:
        when = timezone.localtime(self.signed_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        return f"{self.printed_name} ({self.username}), {when}, {self.meaning}: {self.statement}"


def manifestation(signature: Any) -> Manifestation:
    return Manifestation(
        printed_name=signature.printed_name or printed_name(signature.signed_by),
        username=signature.signed_by.get_username(), signed_at=signature.signed_at,
        meaning=MEANINGS.get(signature.meaning, signature.meaning), statement=signature.statement)


def _events(user: Any) -> Any:
    return AuditEvent.objects.filter(user=user, action__in=("signature", "signature_failed", "signature_locked"))


def _since_last_success(user: Any) -> list[AuditEvent]:
    out: list[AuditEvent] = []
    for event in _events(user).order_by("-at", "-pk")[:200]:
        if event.action == "signature":
            break
        out.append(event)
    return out


def signature_locked_until(user: Any) -> datetime | None:
    """End of the user's current e-signature lock, or None when they may sign (step 1)."""
    for event in _since_last_success(user):
        if event.action == "signature_locked":
            until = parse_datetime(str(event.details.get("until", "")))
            return until if until is not None and until > timezone.now() else None
    return None


def check_signature_password(user: Any, password: str, *, request: Any = None, study: Any = None,
                             subject: Any = None, record: str = "") -> None:
    """Steps 1-3 of the module docstring; returns only when the password is right and signing is allowed."""
    where = {"request": request, "user": user, "study": study, "subject": subject, "record": record}
    until = signature_locked_until(user)
    if until is not None:
        record_event("signature_refused", **where, details={"locked_until": until.isoformat()})
        raise ValidationError(
            _("e-signature is locked after repeated wrong passwords until %(until)s") % {
                "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M %Z")}, field="password")
    if password and user.check_password(password):
        return
    record_event("signature_failed", **where)
    limit = int(settings.ESIGNATURE_FAILURE_LIMIT)
    failures = 0
    for event in _since_last_success(user):
        if event.action == "signature_locked":
            break
        failures += 1
    if failures >= limit:
        until = timezone.now() + settings.ESIGNATURE_COOLOFF
        record_event("signature_locked", **where, details={"until": until.isoformat(), "failures": failures})
        raise ValidationError(
            _("wrong password: e-signature is now locked until %(until)s after %(n)d failed attempts") % {
                "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M %Z"), "n": failures}, field="password")
    raise ValidationError(
        _("password is not correct: nothing was signed (%(left)d attempt(s) left before signing is locked)") % {
            "left": limit - failures}, field="password")
