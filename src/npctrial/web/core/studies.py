"""Creating studies from protocol YAML (amendments: :mod:`npctrial.web.core.amendments`)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core import protocols
from npctrial.web.core.events import record_event
from npctrial.web.core.models import (
    AllocationSegment,
    AllocationSequence,
    ProtocolVersion,
    Site,
    Study,
    StudySite,
)


def version_from_yaml(study: Study, yaml_text: str, number: int, user: Any, **fields: Any) -> ProtocolVersion:
    """Store a validated protocol text as version ``number`` (``fields``: status, reason ...)."""
    protocol = protocols.parse_protocol(yaml_text)
    pid, label, _title = protocols.protocol_identity(protocol)
    return ProtocolVersion.objects.create(
        study=study,
        number=number,
        label=label,
        protocol_id=pid,
        yaml_text=yaml_text,
        parsed=protocols.protocol_as_json(protocol),
        sha256=protocols.sha256_text(yaml_text),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        **fields,
    )


def ensure_sequence(study: Study, protocol: Any, version: ProtocolVersion | None = None) -> None:
    """Create the concealed allocation sequence (and its first segment) of a randomised protocol."""
    spec = protocols.randomisation_spec(protocol)
    if spec is None or hasattr(study, "allocation_sequence"):
        return
    seed = secrets.randbits(62)
    from npctrial.web.core.allocation import initial_hash

    method = str(spec.get("method", "permuted_block"))
    state = initial_hash(study.code, seed, spec)
    sequence = AllocationSequence.objects.create(study=study, method=method, config=spec, seed=seed, count=0,
                                                 state_hash=state)
    AllocationSegment.objects.create(sequence=sequence, number=1, start_number=1, method=method, config=spec,
                                     seed=seed, protocol_version=version, hash_after=state)


def create_study(
    *, code: str, yaml_text: str, target_enrolment: int = 0, sites: list[Site] | None = None,
    user: Any = None, title: str | None = None, request: Any = None, status: str = "development",
) -> Study:
    """Validate the protocol YAML and create the study, its first protocol version and sequence.

    A new study starts in development (UAT, :mod:`npctrial.web.core.study_status`).
    """
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationError(_("code must be letters, digits, - or _, got %(code)r") % {"code": code}, field="code")
    if Study.objects.filter(code=code).exists():
        raise ValidationError(_("code %(code)r is already used by another study") % {"code": code}, field="code")
    if target_enrolment < 0:
        raise ValidationError(_("target_enrolment must be >= 0, got %(n)s") % {"n": target_enrolment},
                              field="target_enrolment")
    protocol = protocols.parse_protocol(yaml_text)
    _pid, _label, ptitle = protocols.protocol_identity(protocol)
    with transaction.atomic():
        study = Study.objects.create(code=code, title=title or ptitle, target_enrolment=target_enrolment,
                                     status=status)
        version = version_from_yaml(study, yaml_text, 1, user)
        for site in sites or []:
            StudySite.objects.create(study=study, site=site)
        ensure_sequence(study, protocol, version)
        record_event("study_created", request=request, user=user, study=study, record=study.code, form="protocol",
                     summary=f"{study.code}: {protocol.id} v{protocol.version}",
                     details={"protocol_id": protocol.id, "version": protocol.version,
                              "sha256": protocols.sha256_text(yaml_text)})
    return study
