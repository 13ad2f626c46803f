"""Fuzzing helper for API routes: random JSON bodies and path values must never give HTTP 500.

:func:`fuzz_operations` takes (method, path template) pairs from the OpenAPI schema and calls each
with hypothesis-generated bodies (JSON values of every type, the route's own field names with
values of the wrong type, huge and unicode strings) and path values (ints, negative, huge, text).
Every response must be < 500 and, when 4xx, a JSON body with ``detail``. Returns the number of
requests sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                     st.floats(allow_nan=False), st.text(max_size=40),
                     st.sampled_from(["", " ", "GZ", "HK", "study_admin", "coordinator", "1", "-1", "０", "汉字",
                                      "2026-02-30", "x" * 5000, "<script>", "../../etc"]))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                     max_leaves=12)
_PATH = st.one_of(st.integers(min_value=-5, max_value=2**40).map(str),
                  st.sampled_from(["GZ", "HK", "0", "abc", "%20", "1.5", "汉"]))


def _bodies(fields: list[str]) -> st.SearchStrategy[Any]:
    shaped = st.fixed_dictionaries({}, optional={f: _JSON for f in fields}) if fields else st.just({})
    return st.one_of(shaped, _JSON)


def body_fields(schema: dict[str, Any], method: str, template: str) -> list[str]:
    op = schema["paths"][template][method]
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref")
    if not ref:
        return []
    return list(schema["components"]["schemas"][ref.split("/")[-1]].get("properties", {}))


def fuzz_operations(client: Any, schema: dict[str, Any], operations: list[tuple[str, str]],
                    examples: int = 30) -> int:
    return sum(_fuzz_one(client, schema, method, template, examples) for method, template in operations)


def _fuzz_one(client: Any, schema: dict[str, Any], method: str, template: str, examples: int) -> int:
    fields = body_fields(schema, method, template)
    names = re.findall(r"\{(\w+)\}", template)
    sent = 0

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(body=_bodies(fields), params=st.fixed_dictionaries({n: _PATH for n in names}))
    def call(body: Any, params: dict[str, str]) -> None:
        nonlocal sent
        url = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)
        fn = getattr(client, method)
        response = fn(url, data=json.dumps(body), content_type="application/json") if method != "get" else fn(url)
        sent += 1
        assert response.status_code < 500, (method, url, body, response.content[:300])
        if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
            assert "detail" in response.json(), (method, url)

    call()
    return sent
