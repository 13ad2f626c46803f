"""Study status: development / UAT (test records, wipeable, marked on every page) and production.

1. A study created in the EDC starts in development: its records are test records, every page of
   the study carries a UAT banner and exported file names end in ``-uat``.
2. :func:`wipe_test_data` (``manage``, development only, the study code typed as confirmation and
   a reason) deletes every screening and everything that hangs on it (consent, subject,
   randomisation, case report forms, queries, signatures, ... of any installed app), each with the
   reason in its history: the audit trail of the test records is kept. The allocation sequence
   restarts at #1 with a new concealed seed.
3. :func:`move_to_production` (same checks) wipes the test records, restarts the sequence, and
   sets the study live: from then on nothing can be wiped and randomisation is for real (the
   seed UAT testers may have seen arms from is gone).
Both are audit events (``test_data_wiped``, ``study_status``) with the counts deleted per kind.
"""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core import permissions, protocols
from npctrial.web.core.allocation import initial_hash
from npctrial.web.core.audit import AuditedModel
from npctrial.web.core.events import record_event
from npctrial.web.core.models import AllocationSegment, AllocationSequence, ScreeningRecord, Study

__all__ = ["move_to_production", "wipe_test_data"]


def _is_audit_table(model: type[models.Model]) -> bool:
    """History rows and audit events are the trail itself: never deleted."""
    from npctrial.web.core.models_audit import AuditEvent, AuditSeal

    return model in (AuditEvent, AuditSeal) or hasattr(model, "instance_type")


def _collect(objects: list[models.Model], out: list[models.Model], seen: set[tuple[str, Any]]) -> None:
    """Append every object depending on ``objects`` (dependents first), then ``objects`` themselves."""
    for obj in objects:
        key = (obj._meta.label, obj.pk)
        if key in seen:
            continue
        seen.add(key)
        for rel in obj._meta.get_fields(include_hidden=True):
            if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
                continue
            related = rel.related_model
            if _is_audit_table(related):
                continue
            children = list(related._base_manager.filter(**{rel.field.name: obj}))
            _collect(children, out, seen)
        out.append(obj)


def _check(study: Study, user: Any, confirm: str, reason: str) -> str:
    permissions.require(user, study, "manage")
    if not study.in_development:
        raise ValidationError(_("%(study)s is in production: its records cannot be wiped") % {"study": study.code},
                              field="status")
    if (confirm or "").strip() != study.code:
        raise ValidationError(_("type the study code %(code)s to confirm") % {"code": study.code}, field="confirm")
    text = (reason or "").strip()
    if not text:
        raise ValidationError(_("a reason is required"), field="reason")
    return text


def _restart_sequence(study: Study, user: Any, reason: str) -> None:
    sequence = AllocationSequence.objects.select_for_update().filter(study=study).first()
    if sequence is None:
        return
    for segment in AllocationSegment.objects.filter(sequence=sequence).order_by("-number"):
        segment._history_user = user
        segment.delete(reason=reason)
    version = study.current_protocol
    spec = protocols.randomisation_spec(protocols.parse_protocol(version.yaml_text)) if version else None
    if spec is None:  # randomisation removed by an amendment made before the first allocation
        spec = sequence.config
    sequence.method, sequence.config, sequence.seed = str(spec.get("method", sequence.method)), spec, secrets.randbits(62)
    sequence.count = 0
    sequence.state_hash = initial_hash(study.code, sequence.seed, spec)
    sequence._history_user = user
    sequence.save(reason=reason)
    AllocationSegment(sequence=sequence, number=1, start_number=1, method=sequence.method, config=spec,
                      seed=sequence.seed, protocol_version=version, reason=reason,
                      hash_after=sequence.state_hash, created_by=user).save()


def _wipe(study: Study, user: Any, reason: str) -> dict[str, int]:
    out: list[models.Model] = []
    _collect(list(ScreeningRecord.objects.filter(study=study).order_by("pk")), out, set())
    counts: Counter[str] = Counter()
    for obj in out:
        if isinstance(obj, AuditedModel):
            obj._history_user = user  # type: ignore[attr-defined]
            obj.delete(reason=reason)
        else:
            obj.delete()
        counts[obj._meta.model_name or obj._meta.label] += 1
    _restart_sequence(study, user, reason)
    return dict(counts)


def wipe_test_data(study: Study, *, user: Any, confirm: str, reason: str, request: Any = None) -> dict[str, int]:
    """Step 2 of the module docstring; returns the number of records deleted per kind."""
    reason = _check(study, user, confirm, reason)
    with transaction.atomic():
        counts = _wipe(study, user, _("UAT test records wiped: %(reason)s") % {"reason": reason})
        record_event("test_data_wiped", request=request, user=user, study=study, record=study.code, reason=reason,
                     summary=", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "nothing to wipe",
                     details={"deleted": counts})
    return counts


def move_to_production(study: Study, *, user: Any, confirm: str, reason: str, request: Any = None) -> dict[str, int]:
    """Step 3 of the module docstring; returns the test records deleted per kind."""
    reason = _check(study, user, confirm, reason)
    with transaction.atomic():
        counts = _wipe(study, user, _("test records removed before production: %(reason)s") % {"reason": reason})
        study.status = "production"
        study.production_since = timezone.now()
        study._history_user = user
        study.save(reason=_("moved to production: %(reason)s") % {"reason": reason})
        record_event("study_status", request=request, user=user, study=study, record=study.code, reason=reason,
                     summary="development -> production", details={"deleted": counts, "status": "production"})
    return counts
