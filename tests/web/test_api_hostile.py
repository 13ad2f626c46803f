"""Every API operation of the OpenAPI schema, as every role, with hostile values: no 5xx, 4xx name the field.

Schemathesis (``test_api_schemathesis``) covers what the schema says; this test sends what real
clients send. For each operation a plausible, well-formed body is built from the schema's property
names (site codes, dates, the protocol's own screening values, a valid record of each CRF form),
then one to three of its fields (top-level or inside ``values``) are replaced by values of
:data:`tests.web.fuzz_world.HOSTILE` (NaN, 1e308, 2**63, "", "汉字", "31/02/2024", nulls, lists ...),
or the whole body by broken JSON; path values are the world's real objects or hostile segments;
every list accepts hostile query strings. Requests rotate over the six study roles (each role
calls every operation) and run in a savepoint rolled back afterwards.

Every response must be < 500. A 4xx JSON body carries ``detail``; a 422 lists ``errors`` with a
field each, and when exactly one field was made hostile and the request was refused with 422,
that field is among the fields named (the API validates like the forms: per field).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import CCRT_ELIGIBLE, IMRT_ELIGIBLE, World, login
from tests.web.fuzz_world import (
    CRF_VALUES,
    HOSTILE,
    HOSTILE_PATH,
    HOSTILE_QUERY,
    QUERY_KEYS,
    attachment,
    crf_records,
)

USERS = ("coordinator", "investigator", "data_manager", "study_admin", "statistician", "monitor")
#: examples per operation (a multiple of the six roles: each role calls each operation at least once)
EXAMPLES = int(os.environ.get("NPCTRIAL_FUZZ_EXAMPLES", "6"))
#: operations that compute the whole study per call: one example per role would dominate the run time
SLOW = {"npctrial_web_clinical_api_report": 3, "npctrial_web_clinical_api_export": 6}
RAW_BODIES = (b"{", b"\xff\xfe\x00", b"null", b"[]", b'"x"', b"NaN", b'{"values": NaN}',
              b'{"values": {"height_cm": 1e400, "weight_kg": -1e400}}', b'{"values": []}', b"{}" * 1000)
BASE: dict[str, Any] = {
    "code": "NEW1", "target_enrolment": 10, "title": "t", "site": "GZ", "screening_date": "2026-01-04",
    "version": 1, "reason": "checked source", "consent_date": "2026-01-05", "consent_version": "1.0",
    "enrolment_date": "2026-01-06", "randomisation_date": "2026-01-06", "record": "screening",
    "field_name": "t_category", "text": "please check", "answer": "checked", "note": "ok", "name": "New site",
    "username": "newuser", "role": "monitor", "first_name": "A", "last_name": "B", "email": "a@example.org",
    "password": None, "status": "production", "confirm": "imrt-s1", "restart_from": None, "restart_reason": "",
    "kind": "other", "correct_strata": None, "lesions": None, "term": "anemia", "value": 75, "unit": "g/L",
    "lln": 120, "uln": None, "baseline": None,
}
EXPORTS = ("adsl", "adae", "adtte", "odm", "screening")
FORMATS = ("csv", "wide.csv", "long.csv", "xlsx", "sav", "xml", "yaml", "pdf")
STATUSES: dict[str, Counter[int]] = {}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _scenes(world: World) -> list[dict[str, Any]]:
    """Consistent path values (study, its subject, screening, query, records ...) per (study, site)."""
    from npctrial.web.core.models import Membership

    scenes = []
    for key, site in (("imrt", "A"), ("ccrt", "A"), ("ccrt", "B")):
        study = world.studies[key]
        user = world.users["coordinator" if site == "A" else "coordinator_b"]
        records = crf_records(world, key, site)
        scenes.append({
            "study": key, "study_id": study.pk, "screening_id": world.screenings[(key, site)].pk,
            "subject_pk": world.subjects[(key, site)].pk, "query_id": world.queries[(key, site)].pk,
            "code": world.sites[site].code, "user_id": user.pk, "version_id": study.current_protocol.pk,
            "membership_id": Membership.objects.get(study=study, user=user).pk, "records": records,
            "attachment_id": attachment(world, key, site),
        })
    return scenes


def _properties(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return _properties(schema, schema["components"]["schemas"][node["$ref"].split("/")[-1]])
    for option in node.get("anyOf", []):
        if option.get("type") != "null":
            return _properties(schema, option)
    return node.get("properties", {})


def _body_schema(op: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    content = op.get("requestBody", {}).get("content", {})
    return next(iter(content.items()), None)


def _path(template: str, scene: dict[str, Any], form: str, export: tuple[str, str], hostile: dict[str, str]) -> str:
    names = {"form": form, "record_id": scene["records"][form], "name": export[0], "fmt": export[1]}
    return re.sub(r"\{(\w+)\}", lambda m: str(hostile.get(m[1], scene.get(m[1], names.get(m[1], 1)))), template)


def _base_body(props: dict[str, Any], scene: dict[str, Any], template: str, form: str) -> dict[str, Any]:
    body = {k: BASE[k] for k in props if k in BASE}
    if template.endswith("/imports"):
        body["kind"] = "screening"
    if template.endswith("/members"):
        body["username"] = "outsider"  # an existing account without a role in the study
    if "values" in props:
        if "/crf/" in template:
            body["values"] = _jsonable(CRF_VALUES[form])
        else:
            body["values"] = dict(IMRT_ELIGIBLE if scene["study"] == "imrt" else CCRT_ELIGIBLE)
    if "protocol_yaml" in props:
        from npctrial.web.core.protocols import load_bundled_protocol_text

        body["protocol_yaml"] = load_bundled_protocol_text("imrt-s1")
    return body


def _mutate(body: dict[str, Any], mutations: list[tuple[str, Any]]) -> set[str]:
    touched = set()
    for key, value in mutations:
        if key.startswith("values.") and isinstance(body.get("values"), dict):
            body["values"][key[len("values."):]] = value
            touched.add(key[len("values."):])
        else:
            body[key] = value
            touched.add(key)
    return touched


def _send(client: Client, method: str, url: str, media: str | None, body: Any) -> Any:
    if media is None:
        return client.generic(method.upper(), url)
    if media.startswith("multipart"):
        return client.post(url, body)
    data = body if isinstance(body, bytes) else json.dumps(body, default=str)
    return client.generic(method.upper(), url, data=data, content_type="application/json")


def _check(label: str, response: Any, where: str, touched: set[str], fields: set[str], failures: list[str]) -> None:
    STATUSES.setdefault(label, Counter())[response.status_code] += 1
    if response.status_code >= 500:
        failures.append(f"{response.status_code} {where} -> {response.content[:300]!r}")
        return
    if response.status_code < 400 or not response.get("Content-Type", "").startswith("application/json"):
        return
    payload = response.json()
    if "detail" not in payload:
        failures.append(f"{response.status_code} without detail: {where}")
    if response.status_code != 422:
        return
    errors = payload.get("errors") or []
    named = {str(e.get("field", "")) for e in errors}
    if not errors or "" in named:
        failures.append(f"422 without field-level errors: {where} -> {payload!r:.300}")
    elif len(touched) == 1 and all(set(n.split(".")) & fields for n in named):  # else: refused for a state
        (field,) = touched
        if not any(n == field or n.startswith(field + ".") or n.endswith("." + field) for n in named):
            failures.append(f"422 does not name {field!r} (named {sorted(named)}): {where} -> {payload['detail']:.200}")


def _fuzz(template: str, method: str, op: dict[str, Any], schema: dict[str, Any], clients: dict[str, Client],
          scenes: list[dict[str, Any]], failures: list[str]) -> int:
    from npctrial.web.clinical.crfs import CRFS

    media_schema = _body_schema(op)
    media = media_schema[0] if media_schema else None
    props = _properties(schema, media_schema[1]["schema"]) if media_schema else {}
    path_keys = re.findall(r"\{(\w+)\}", template)
    value_keys = sorted({k for v in CRF_VALUES.values() for k in v} | set(IMRT_ELIGIBLE) | set(CCRT_ELIGIBLE))
    keys = list(props) + ([f"values.{k}" for k in value_keys] if "values" in props else [])
    mutation = st.lists(st.tuples(st.sampled_from(keys), st.sampled_from(HOSTILE)), min_size=1, max_size=3) \
        if keys else st.just([])
    bodies = st.one_of(mutation, st.sampled_from(RAW_BODIES)) if media and "json" in media else mutation
    label = f"{method.upper()} {template}"
    examples = min(SLOW.get(op.get("operationId", ""), EXAMPLES), EXAMPLES)
    sent = 0

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(scene=st.sampled_from(scenes), form=st.sampled_from(list(CRFS)), change=bodies,
           export=st.tuples(st.sampled_from([*EXPORTS, *CRFS]), st.sampled_from(FORMATS)),
           hostile_path=st.dictionaries(st.sampled_from(path_keys or ["-"]), st.sampled_from(HOSTILE_PATH), max_size=1),
           query=st.dictionaries(st.sampled_from(QUERY_KEYS), st.sampled_from(HOSTILE_QUERY), max_size=3))
    def call(scene: dict[str, Any], form: str, change: Any, export: tuple[str, str], hostile_path: dict[str, str], query: dict[str, str]) -> None:
        nonlocal sent
        user = USERS[sent % len(USERS)]
        url = _path(template, scene, form, export, hostile_path)
        touched: set[str] = set()
        if method == "get":
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
            body: Any = None
        elif isinstance(change, bytes):
            body = change
        else:
            body = _base_body(props, scene, template, form)
            touched = _mutate(body, change)
            if media and media.startswith("multipart"):
                body = {k: "" if v is None else str(v) for k, v in body.items()}
                body["file"] = SimpleUploadedFile("data.csv", "subject_id,t_category\n汉字,T9\n\x00,NaN\n".encode())
        with transaction.atomic():
            response = _send(clients[user], method, url, media if method != "get" else None, body)
            transaction.set_rollback(True)
        sent += 1
        where = f"{user} {method.upper()} {url[:200]} body={str(body)[:300]}"
        values = body.get("values") if isinstance(body, dict) else None
        fields = (set(body) if isinstance(body, dict) else set()) | (set(values) if isinstance(values, dict) else set())
        _check(label, response, where, touched if not hostile_path else set(), fields | {"__all__"}, failures)

    call()
    return sent


@pytest.fixture(autouse=True)
def _own_attachment_dir(settings: Any, tmp_path: Any) -> None:
    settings.NPCTRIAL_ATTACHMENT_DIR = tmp_path / "attachments"


@pytest.mark.django_db
def test_every_api_operation_as_every_role_with_hostile_values_never_answers_5xx(world: World):
    served = login(Client(), "study_admin").get("/api/v1/openapi.json")
    assert served.status_code == 200
    schema = served.json()
    scenes = _scenes(world)
    clients = {u: login(Client(), u) for u in USERS}
    failures: list[str] = []
    sent = operations = 0
    for template, item in schema["paths"].items():
        for method, op in item.items():
            operations += 1
            sent += _fuzz(template, method, op, schema, clients, scenes, failures)
    print(f"hostile API fuzz: {operations} operations, {sent} requests, {len(failures)} failures")
    for label, counts in STATUSES.items():
        print(label, dict(counts))
    assert operations >= 48 and sent >= operations * 3
    assert failures == [], "\n".join(failures[:60])
