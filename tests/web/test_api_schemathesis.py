"""Schemathesis over the project's own OpenAPI schema (/api/v1/openapi.json): no input gives HTTP 500.

Every operation of the served schema is called with schemathesis-generated requests, as users of
several roles logged in on the two-site ``world``:

* *positive* cases (bodies and query strings that fit the schema) on the world's real objects
  (studies, screenings, subjects, queries, sites, members, accounts, protocol versions, CRF forms
  and records, exports), so the request reaches the services and their validation;
* *negative* cases (bodies, query strings and path values that break the schema: wrong types,
  missing fields, out-of-range numbers, odd strings).

Each request runs in a savepoint rolled back afterwards, so every one starts from the same world
(a wipe or a lock in one example does not turn the rest into 4xx). Every response must be < 500,
and a 4xx JSON response carries ``detail``. All failures are collected and reported together.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.core.transforms import UNRESOLVABLE

from tests.web.clinical.conftest import save
from tests.web.conftest import World, login
from tests.web.fuzz_world import attachment

#: examples per operation and mode (every operation x 2 modes x this); NPCTRIAL_FUZZ_EXAMPLES=50 for a deep run
EXAMPLES = int(os.environ.get("NPCTRIAL_FUZZ_EXAMPLES", "5"))
#: the report and the exports compute the whole study: fewer examples, same coverage of their parameters
SLOW = {"npctrial_web_clinical_api_report": 2, "npctrial_web_clinical_api_export": 4}
USERS = ("coordinator", "investigator", "data_manager", "study_admin", "statistician", "monitor")
STATUSES: dict = {}
BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
            "t_category": "T3", "n_category": "N1", "m_category": "M0"}


def _real_ids(world: World) -> dict[str, list[Any]]:
    """Path values that name objects of the world (site A and site B), by path parameter name."""
    from npctrial.web.clinical.crfs import CRFS
    from npctrial.web.core.models import Membership

    records = [save("baseline", world, BASELINE, study=s, site=x) for s in ("imrt", "ccrt") for x in ("A", "B")]
    return {
        "study_id": [s.pk for s in world.studies.values()],
        "screening_id": [r.pk for r in world.screenings.values()],
        "subject_pk": [s.pk for s in world.subjects.values()],
        "query_id": [q.pk for q in world.queries.values()],
        "code": [s.code for s in world.sites.values()],
        "membership_id": list(Membership.objects.values_list("pk", flat=True)[:6]),
        "user_id": [u.pk for u in world.users.values()],
        "version_id": [s.current_protocol.pk for s in world.studies.values()],
        "form": list(CRFS),
        "record_id": [r.pk for r in records],
        "name": ["baseline", "ae", "lab", "adsl", "adae", "adtte", "odm", "screening"],
        "fmt": ["csv", "wide.csv", "long.csv", "xlsx", "sav", "xml", "yaml"],
        "attachment_id": [attachment(world, "imrt", "A"), attachment(world, "ccrt", "B")],
    }


def _request(client: Client, case: Any) -> Any:
    path = case.formatted_path
    query = {k: v for k, v in (case.query or {}).items()}
    if query:
        path += "?" + urlencode(query, doseq=True)
    kwargs: dict[str, Any] = {}
    if case.body is not NOT_SET and case.body is not UNRESOLVABLE:
        media = case.media_type or "application/json"
        body = case.body
        data = body if isinstance(body, bytes) else json.dumps(body) if "json" in media else str(body)
        kwargs = {"data": data, "content_type": media}
    return client.generic(case.method.upper(), path, **kwargs)


def _check(case: Any, response: Any, user: str, failures: list[str]) -> None:
    STATUSES.setdefault(case.operation.label, Counter())[response.status_code] += 1
    where = f"{user} {case.method.upper()} {case.formatted_path} query={case.query!r}"
    if response.status_code >= 500:
        body = None if case.body is NOT_SET else case.body
        failures.append(f"{response.status_code} {where} body={str(body)[:200]} -> {response.content[:200]!r}")
    elif response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
        if "detail" not in response.json():
            failures.append(f"{response.status_code} without detail: {where}")


def _fuzz(operation: Any, clients: dict[str, Client], ids: dict[str, list[Any]], mode: GenerationMode,
          examples: int, failures: list[str]) -> int:
    names = [p.name for p in operation.path_parameters]
    sent = 0
    real = st.fixed_dictionaries({n: st.sampled_from(ids.get(n, [1])) for n in names})  # new kinds of path: 1

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), user=st.sampled_from(USERS), path=real)
    def call(case: Any, user: str, path: dict[str, Any]) -> None:
        nonlocal sent
        if mode is GenerationMode.POSITIVE:
            case.path_parameters = {**case.path_parameters, **path}
        with transaction.atomic():
            response = _request(clients[user], case)
            transaction.set_rollback(True)
        sent += 1
        _check(case, response, user, failures)

    call()
    return sent


@pytest.fixture(autouse=True)
def _own_attachment_dir(settings: Any, tmp_path: Any) -> None:
    settings.NPCTRIAL_ATTACHMENT_DIR = tmp_path / "attachments"


@pytest.mark.django_db
def test_every_api_operation_of_the_openapi_schema_never_answers_500(world: World):
    served = login(Client(), "study_admin").get("/api/v1/openapi.json")
    assert served.status_code == 200
    schema = schemathesis.openapi.from_dict(served.json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in served.json()["paths"].values()) >= 40
    ids = _real_ids(world)
    clients = {u: login(Client(), u) for u in USERS}
    failures: list[str] = []
    sent = 0
    for operation in operations:
        examples = min(SLOW.get(operation.definition.raw.get("operationId"), EXAMPLES), EXAMPLES)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += _fuzz(operation, clients, ids, mode, examples, failures)
    print(f"schemathesis: {len(operations)} operations, {sent} requests, {len(failures)} failures")
    for k, v in STATUSES.items():
        print(k, dict(v))
    assert sent >= len(operations) * 2
    assert failures == [], "\n".join(failures)
