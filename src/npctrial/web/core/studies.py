"""Creating studies from protocol YAML and amending them (an amendment is a new protocol version)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from npctrial.errors import ProtocolError, ValidationError
from npctrial.web.core import protocols
from npctrial.web.core.events import record_event
from npctrial.web.core.models import AllocationSequence, ProtocolVersion, Site, Study, StudySite


def _version_from_yaml(study: Study, yaml_text: str, number: int, user: Any) -> ProtocolVersion:
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
    )


def _ensure_sequence(study: Study, protocol: Any) -> None:
    spec = protocols.randomisation_spec(protocol)
    if spec is None or hasattr(study, "allocation_sequence"):
        return
    seed = secrets.randbits(62)
    from npctrial.web.core.allocation import initial_hash

    AllocationSequence.objects.create(
        study=study,
        method=str(spec.get("method", "permuted_block")),
        config=spec,
        seed=seed,
        count=0,
        state_hash=initial_hash(study.code, seed, spec),
    )


def create_study(
    *, code: str, yaml_text: str, target_enrolment: int = 0, sites: list[Site] | None = None,
    user: Any = None, title: str | None = None, request: Any = None,
) -> Study:
    """Validate the protocol YAML and create the study, its first protocol version and sequence."""
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationError(f"code must be letters, digits, - or _, got {code!r}", field="code")
    if Study.objects.filter(code=code).exists():
        raise ValidationError(f"code {code!r} is already used by another study", field="code")
    if target_enrolment < 0:
        raise ValidationError(f"target_enrolment must be >= 0, got {target_enrolment}", field="target_enrolment")
    protocol = protocols.parse_protocol(yaml_text)
    _pid, _label, ptitle = protocols.protocol_identity(protocol)
    with transaction.atomic():
        study = Study.objects.create(code=code, title=title or ptitle, target_enrolment=target_enrolment)
        _version_from_yaml(study, yaml_text, 1, user)
        for site in sites or []:
            StudySite.objects.create(study=study, site=site)
        _ensure_sequence(study, protocol)
        record_event("study_created", request=request, user=user, study=study, record=study.code,
                     summary=f"{study.code}: {protocol.id} v{protocol.version}")
    return study


def amend_protocol(study: Study, yaml_text: str, user: Any = None) -> ProtocolVersion:
    """Add a protocol amendment; records collected earlier keep their version."""
    current = study.current_protocol
    protocol = protocols.parse_protocol(yaml_text)
    pid, _label, _title = protocols.protocol_identity(protocol)
    if current is not None and pid != current.protocol_id:
        raise ProtocolError(
            f"id: an amendment must keep the protocol id {current.protocol_id!r}, got {pid!r}",
            field="id",
        )
    if current is not None and protocols.sha256_text(yaml_text) == current.sha256:
        raise ValidationError("the amendment is identical to the current protocol version", field="yaml_text")
    with transaction.atomic():
        number = (current.number if current else 0) + 1
        return _version_from_yaml(study, yaml_text, number, user)
