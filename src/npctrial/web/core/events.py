"""Study-wide audit events: the small API every part of the EDC calls for non-record events.

Changes of records are audited by django-simple-history (:mod:`npctrial.web.core.audit`). Everything
else that must be attributable goes through :func:`record_event`::

    from npctrial.web.core.events import record_event

    record_event("export", request=request, study=study, record="adsl.csv",
                 summary="ADSL exported (42 subjects)", details={"format": "csv", "subjects": 42})

Rules:

1. ``action`` is one of :data:`EVENT_ACTIONS` (a new kind of event is a new row there, with a
   translatable label); anything else is a ``ValueError`` (a programming error, not user input).
2. The user comes from ``user`` or ``request.user``; ``username`` keeps what was typed for failed
   logins of unknown users. The client address comes from the request (proxy-aware,
   :func:`npctrial.web.core.network.client_ip`).
3. ``concealed`` holds what only roles allowed to see allocations may read (arm, stratum); the
   audit log masks it for everyone else (:mod:`npctrial.web.core.blinding`).
4. The event is append-only and sealed into the audit hash chain
   (:mod:`npctrial.web.core.audit_chain`); it is written in the caller's transaction, so an event
   about work that is rolled back disappears with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from npctrial.web.core.models_audit import AuditEvent
from npctrial.web.core.network import client_ip

__all__ = ["EVENT_ACTIONS", "record_event"]

#: Every kind of audit event, with its label in the audit log.
EVENT_ACTIONS: Mapping[str, Promise] = MappingProxyType({
    "login": _("Logged in"),
    "login_failed": _("Failed login"),
    "login_locked": _("Login locked after repeated failures"),
    "logout": _("Logged out"),
    "signature": _("E-signature"),
    "signature_failed": _("Failed e-signature (wrong password)"),
    "signature_locked": _("E-signature locked after repeated failures"),
    "signature_refused": _("E-signature refused (locked)"),
    "export": _("Export downloaded"),
    "backup": _("Backup written"),
    "restore": _("Database restored from a backup"),
    "unblinding": _("Allocation list viewed (unblinding)"),
    "lock": _("Data locked"),
    "unlock": _("Data unlocked"),
    "randomisation": _("Randomised"),
    "study_created": _("Study created"),
    "amendment": _("Protocol amendment"),
    "amendment_approved": _("Protocol amendment approved"),
    "amendment_rejected": _("Protocol amendment rejected"),
    "sequence_restarted": _("New randomisation sequence started"),
    "study_status": _("Study status changed"),
    "test_data_wiped": _("Test (UAT) records wiped"),
    "site_added": _("Site added"),
    "site_deactivated": _("Site deactivated"),
    "site_reactivated": _("Site reactivated"),
    "member_added": _("Member added"),
    "member_removed": _("Member removed"),
    "user_created": _("User created"),
    "user_deactivated": _("User deactivated"),
    "user_reactivated": _("User reactivated"),
    "password_reset": _("Password reset"),
    "import": _("Data imported"),
    "attachment_uploaded": _("Attachment uploaded"),
    "attachment_downloaded": _("Attachment downloaded"),
    "attachment_voided": _("Attachment voided"),
    "attachment_superseded": _("Attachment superseded"),
    "randomisation_correction": _("Randomisation correction recorded"),
})


def _user_of(user: Any, request: HttpRequest | None) -> Any:
    if user is None and request is not None:
        user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def record_event(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    study: Any = None,
    site: Any = None,
    subject: Any = None,
    record: str = "",
    form: str = "",
    summary: str = "",
    reason: str = "",
    details: Mapping[str, Any] | None = None,
    concealed: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the study-wide audit log (rules in the module docstring)."""
    if action not in EVENT_ACTIONS:
        raise ValueError(f"unknown audit event action {action!r}: add it to EVENT_ACTIONS")
    actor = _user_of(user, request)
    if subject is not None:
        study = study if study is not None else subject.study
        site = site if site is not None else subject.site
    event = AuditEvent(
        action=action, user=actor, username=(actor.get_username() if actor is not None else username)[:150],
        study=study, site=site, subject=subject, record=str(record)[:200], form=form[:80], summary=str(summary),
        reason=reason or "", details=dict(details or {}), concealed=dict(concealed or {}),
        ip_address=client_ip(request) if request is not None else None,
    )
    event.save()
    return event
