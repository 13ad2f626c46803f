"""Bridge to :mod:`npctrial.domain`: parse protocol YAML, list its fields, evaluate eligibility.

The web layer never re-implements a clinical rule; it turns the domain's frozen results into
JSON-serialisable dicts stored with each record (so a record keeps what it was evaluated under).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from django.utils.translation import gettext as _

from npctrial.domain.eligibility import evaluate_eligibility
from npctrial.domain.protocol import Protocol
from npctrial.domain.protocol import parse_protocol as domain_parse_protocol
from npctrial.domain.risk import assess_high_risk
from npctrial.errors import ProtocolError, ValidationError


@dataclass(frozen=True)
class FieldSpec:
    """One entry of the protocol's field catalogue, as the web layer uses it to build inputs."""

    name: str
    label: str
    type: str  # number | int | bool | date | choice | text
    unit: str = ""
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    help: str = ""


@dataclass(frozen=True)
class Verdict:
    id: str
    kind: str
    verdict: str  # met | not_met | missing
    text: str
    rule: str
    values: dict[str, Any]
    excludes: bool  # True when this criterion makes the patient ineligible

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "verdict": self.verdict,
            "text": self.text,
            "rule": self.rule,
            "values": jsonable(self.values),
            "excludes": self.excludes,
        }


@dataclass(frozen=True)
class Evaluation:
    outcome: str  # eligible | ineligible | incomplete
    verdicts: tuple[Verdict, ...]

    @property
    def failed_criteria(self) -> list[str]:
        return [v.id for v in self.verdicts if v.excludes]


def jsonable(value: Any) -> Any:
    """``value`` as JSON can carry it: dates in ISO form, mappings and sequences walked, other objects as text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def parse_protocol(yaml_text: str) -> Protocol:
    """Validate protocol YAML with the domain schema; raises ProtocolError listing every problem."""
    try:
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        raise ProtocolError(_("protocol is not valid YAML: %(error)s") % {"error": exc}, field="protocol",
                            errors=[str(exc)]) from exc
    protocol = domain_parse_protocol(data, origin="protocol")
    from npctrial.web.core.blinding import check_blinding_roles

    check_blinding_roles(protocol)  # the roles a protocol names must exist in the EDC
    return protocol


@contextmanager
def protocol_input(field: str) -> Iterator[None]:
    """Report a ProtocolError raised inside as an error of the input ``field`` that holds the YAML.

    The messages keep the path inside the document (``id: ...``, ``randomisation.arms: ...``); the
    field is the one the user typed into, so an API client sees which input to correct.
    """
    try:
        yield
    except ProtocolError as exc:
        raise ProtocolError(exc.message or str(exc), field=field, errors=exc.errors, problems=exc.problems) from exc


def load_bundled_protocol_text(name: str) -> str:
    """The YAML text of a protocol shipped with npctrial.domain (``imrt-s1``, ...)."""
    return resources.files("npctrial.domain").joinpath("protocols", f"{name}.yaml").read_text("utf-8")


def protocol_as_json(protocol: Protocol) -> dict[str, Any]:
    return json.loads(protocol.model_dump_json())


def protocol_identity(protocol: Protocol) -> tuple[str, str, str]:
    """(id, version, title) of a parsed protocol."""
    return protocol.id, protocol.version, protocol.title


def field_catalogue(protocol: Protocol) -> list[FieldSpec]:
    """The protocol's fields, in protocol order, as the web layer shows them."""
    return [
        FieldSpec(
            name=f.name, label=f.label, type=f.type, unit=f.unit or "",
            choices=tuple(f.choices or ()), min=f.min, max=f.max, help=f.help or "",
        )
        for f in protocol.fields
    ]


_RISK_FIELDS = ("ebv_dna_post_induction", "induction_response")

#: catalogued fields recorded at screening although no criterion reads them: demographics of the
#: enrolment record (ADSL ``sex``). Everything else the screening form shows comes from the protocol.
ENROLMENT_FIELDS = ("sex",)


def screening_field_names(protocol: Protocol) -> set[str]:
    """Names of the fields collected at screening.

    1. Every field an eligibility criterion reads (``Criterion.fields``, filled from the rule).
    2. The stratification factors of the randomisation (except ``site``/``centre``, set by the system).
    3. The inputs of the high-risk rule (:data:`_RISK_FIELDS`) when the protocol catalogues them.
    4. :data:`ENROLMENT_FIELDS` when catalogued.
    Fields only later CRFs use (e.g. ``rt_end_date``) are left out.
    """
    names: set[str] = set()
    for criterion in protocol.criteria:
        names.update(criterion.fields)
    if protocol.randomisation is not None:
        names.update(protocol.randomisation.stratification)
    names.update(_RISK_FIELDS)
    names.update(ENROLMENT_FIELDS)
    return names & {f.name for f in protocol.fields}


def screening_fields(protocol: Protocol) -> list[FieldSpec]:
    """The screening form's fields (:func:`screening_field_names`), in protocol order."""
    names = screening_field_names(protocol)
    return [f for f in field_catalogue(protocol) if f.name in names]


def coerce_values(protocol: Protocol, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values (domain coercion: types, units, plausibility limits) of the non-empty inputs.

    Unknown names and the first bad value raise ValidationError naming the field.
    """
    known = {f.name for f in protocol.fields}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationError(_("%(field)s: not a field of protocol %(protocol)s") % {"field": unknown[0], "protocol": protocol.id},
                              field=unknown[0])
    out: dict[str, Any] = {}
    for spec in protocol.fields:
        value = raw.get(spec.name)
        if value is None or value == "":
            continue
        out[spec.name] = spec.coerce(value)
    return out


def field_errors(protocol: Protocol, raw: Mapping[str, Any],
                 text: Callable[[ValidationError], str] = str) -> dict[str, str]:
    """Every bad input with its message (for forms showing all field errors at once); ``text``
    makes the message (English by default; pages pass the reader's language)."""
    errors: dict[str, str] = {}
    for spec in protocol.fields:
        value = raw.get(spec.name)
        if value is None or value == "":
            continue
        try:
            spec.coerce(value)
        except ValidationError as exc:
            errors[spec.name] = text(exc)
    return errors


def evaluate(protocol: Protocol, values: Mapping[str, Any]) -> Evaluation:
    """Run the domain's eligibility evaluation and flatten it for storage and display."""
    report = evaluate_eligibility(protocol, {k: v for k, v in values.items() if v is not None})
    verdicts = tuple(
        Verdict(
            id=r.criterion_id,
            kind=r.kind,
            verdict=r.status.replace(" ", "_"),
            text=r.wording,
            rule=r.rule,
            values=dict(r.values),
            excludes=r.excludes,
        )
        for r in report.results
    )
    return Evaluation(outcome=report.verdict, verdicts=verdicts)


def with_protocol_wording(protocol: Protocol, verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored verdicts with each criterion's wording from the protocol they were evaluated under
    (its translations beside it) when it is the stored English text; otherwise the stored text."""
    wording = {c.id: c.wording for c in protocol.criteria}
    return [{**v, "text": wording[v["id"]]} if v.get("id") in wording and wording[v["id"]] == v.get("text") else v
            for v in verdicts]


def derive_high_risk(protocol: Protocol, values: Mapping[str, Any]) -> tuple[bool | None, str]:
    """High-risk status (npctrial.domain.risk) for protocols that collect its inputs, else None."""
    names = {f.name for f in protocol.fields}
    if not set(_RISK_FIELDS) <= names:
        return None, ""
    assessment = assess_high_risk(values.get(_RISK_FIELDS[0]), values.get(_RISK_FIELDS[1]))
    return assessment.high_risk, assessment.summary()


def randomisation_spec(protocol: Protocol) -> dict[str, Any] | None:
    """The protocol's randomisation as a plain dict with factor levels, or None (single arm).

    Factor levels come from the stratification fields' choices; a ``site``/``centre`` factor
    takes the study's sites at allocation time.
    """
    spec = protocol.randomisation
    if spec is None:
        return None
    factors: dict[str, list[str]] = {}
    for name in spec.stratification:
        if name in {"site", "centre", "center"}:
            factors[name] = []
            continue
        field = protocol.field(name)
        if field.type == "bool":
            factors[name] = ["True", "False"]
        elif field.choices:
            factors[name] = list(field.choices)
        else:
            raise ProtocolError(
                _("randomisation.stratification: field %(field)r must be a choice or bool field") % {"field": name},
                field="randomisation",
            )
    return {
        "method": spec.method,
        "arms": [a.code for a in spec.arms],
        "arm_labels": {a.code: a.label for a in spec.arms},
        "ratio": list(spec.ratio),
        "factors": factors,
        "block_sizes": list(spec.block_sizes) or [2 * sum(spec.ratio), 3 * sum(spec.ratio)],
    }


def subject_id_pattern(protocol: Protocol) -> str:
    return protocol.subject_id_pattern
