"""Every HTML route, GET and POST with junk form data, through the Django client: never a 500.

Each page route of the URL configuration (every route that is not under /api/v1; a new route is
picked up automatically) is called with the world's real objects (both studies, a record of every
CRF form, every CRF form slug, a schedule event), rotating over the six study roles:

1. GET as it is, and GET with hostile query strings (page=-1, sort=NUL, site=汉字, 10**30 ...);
2. POST with junk: the names of the page's own form fields (read from its HTML) plus common
   ones, filled with :data:`tests.web.fuzz_world.HOSTILE` values (NaN, "", 31/02/2024, Chinese,
   10,000 characters ...), and an empty POST;
3. the route with hostile path values where it takes integers (0, 2**63, 10**30).

Each request runs in a savepoint rolled back afterwards (a wipe or lock does not change the world
for the next one). Any status >= 500 or an exception escaping a view is collected and reported.
"""

from __future__ import annotations

import os
import re
import traceback
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import World, login
from tests.web.fuzz_world import HOSTILE, HOSTILE_QUERY, QUERY_KEYS, attachment, crf_records
from tests.web.test_route_coverage import route_names

USERS = ("coordinator", "investigator", "data_manager", "study_admin", "statistician", "monitor")
#: junk POSTs per URL (plus one empty POST)
POSTS = int(os.environ.get("NPCTRIAL_FUZZ_EXAMPLES", "3"))
COMMON_FIELDS = ("reason", "confirm", "password", "action", "value", "event", "form", "kind", "version", "site",
                 "code", "username", "role", "active", "answer", "text", "field_name", "note", "lang", "language",
                 "next", "consent_date", "enrolment_date", "randomisation_date", "screening_date")
_NAME = re.compile(rb'<(?:input|select|textarea)[^>]*\sname="([^"]+)"')
STATUSES: Counter[int] = Counter()
BY_ROUTE: dict[str, Counter[int]] = {}


def _ids(world: World) -> dict[str, Any]:
    from npctrial.web.clinical.schedule import events_of
    from npctrial.web.core.models import Membership

    study = world.studies["ccrt"]
    user = world.users["coordinator"]
    return {"study_pk": study.pk, "subject": world.subjects[("ccrt", "A")].pk,
            "screening": world.screenings[("ccrt", "A")].pk, "query": world.queries[("ccrt", "A")].pk,
            "records": crf_records(world, "ccrt", "A"), "membership_pk": Membership.objects.get(study=study, user=user).pk,
            "user_pk": user.pk, "code": world.sites["A"].code, "version_pk": study.current_protocol.pk,
            "event": events_of(study.current_protocol)[1].id, "attachment": attachment(world, "ccrt", "A")}


def _urls(name: str, pattern: URLPattern, ids: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The route with real objects (every CRF form where it takes a form), then with hostile integers."""
    from npctrial.web.clinical.crfs import CRFS

    keys = list(pattern.pattern.regex.groupindex)
    forms = list(CRFS) if "form" in keys else [""]
    urls = []
    for form in forms:
        kwargs: dict[str, Any] = {}
        for key in keys:
            if key == "pk":
                kwargs[key] = ids["screening" if name.startswith("screening") else
                                  "query" if name in ("query-answer", "query-close") else
                                  "attachment" if name.startswith("attachment-") else "subject"]
            elif key == "record_pk":
                kwargs[key] = ids["records"][form]
            elif key == "form":
                kwargs[key] = form
            elif key == "name":
                kwargs[key] = "adae"
            elif key == "fmt":
                kwargs[key] = "csv"
            elif key in ("uidb64", "token"):
                kwargs[key] = "x"
            else:  # a new kind of path value: an int converter gets 1, others "x"
                kwargs[key] = ids.get(key, 1 if _is_int(pattern, key) else "x")
        urls.append(reverse(name, kwargs=kwargs) if pattern.name else f"/{pattern.pattern}")
    ints = [k for k in keys if _is_int(pattern, k)]
    hostile = []
    for value in (0, 2**63, 10**30) if ints else ():
        kwargs = {k: (value if k in ints else v) for k, v in zip(keys, _kwargs_of(urls[0], pattern), strict=True)}
        hostile.append(reverse(name, kwargs=kwargs))
    return urls, hostile


def _is_int(pattern: URLPattern, key: str) -> bool:
    return pattern.pattern.converters.get(key).__class__.__name__ == "IntConverter"


def _kwargs_of(url: str, pattern: URLPattern) -> list[Any]:
    match = get_resolver().resolve(url)
    return [match.kwargs[k] for k in pattern.pattern.regex.groupindex]


def _form_value(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) for v in value] or ""
    return "" if value is None else str(value)


def _call(client: Client, method: str, url: str, data: Any, where: str, failures: list[str]) -> Any:
    try:
        with transaction.atomic():
            response = client.get(url, data) if method == "get" else client.post(url, data)
            transaction.set_rollback(True)
    except Exception as exc:  # an exception escaping a view is the test client's form of a 500
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        failures.append(f"{type(exc).__name__}: {exc!s:.200} at {frame.filename}:{frame.lineno} <- {where}")
        return None
    STATUSES[response.status_code] += 1
    BY_ROUTE.setdefault(where.split()[2] if len(where.split()) > 2 else where, Counter())[response.status_code] += 1
    if response.status_code >= 500:
        failures.append(f"{response.status_code} <- {where}")
    return response


def _fuzz_url(url: str, clients: dict[str, Client], turn: int, failures: list[str]) -> int:
    """GET, empty POST, then junk queries and junk POSTs, each by the next role of the rotation."""
    users = [USERS[(turn + i) % len(USERS)] for i in range(len(USERS))]
    page = _call(clients[users[0]], "get", url, None, f"{users[0]} GET {url}", failures)
    _call(clients[users[1]], "post", url, {}, f"{users[1]} POST {url} (empty)", failures)
    sent = 2
    names = set(COMMON_FIELDS)
    if page is not None and page.status_code == 200 and "html" in page.get("Content-Type", ""):
        names |= {n.decode() for n in _NAME.findall(page.content)} - {"csrfmiddlewaretoken"}
    shown = page is not None and page.status_code == 200

    @settings(max_examples=POSTS, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(query=st.dictionaries(st.sampled_from(QUERY_KEYS), st.sampled_from(HOSTILE_QUERY), min_size=1, max_size=4),
           data=st.dictionaries(st.sampled_from(sorted(names)), st.sampled_from(HOSTILE).map(_form_value),
                                min_size=1, max_size=8))
    def junk(query: dict[str, str], data: dict[str, Any]) -> None:
        nonlocal sent
        user = users[sent % len(users)]
        if shown:  # a page that answers GET: hostile filters, pages and sort keys
            _call(clients[user], "get", url, query, f"{user} GET {url} {query!r:.200}", failures)
            sent += 1
        _call(clients[user], "post", url, data, f"{user} POST {url} {data!r:.300}", failures)
        sent += 1

    junk()
    return sent


@pytest.fixture(autouse=True)
def _own_attachment_dir(settings: Any, tmp_path: Any) -> None:
    settings.NPCTRIAL_ATTACHMENT_DIR = tmp_path / "attachments"


@pytest.mark.django_db
def test_every_page_route_with_junk_queries_and_forms_never_answers_500(world: World):
    ids = _ids(world)
    clients = {u: login(Client(), u) for u in USERS}
    routes = [(n, p) for n, p in route_names(get_resolver().url_patterns) if not n.startswith("api-v1:")]
    failures: list[str] = []
    sent = urls = 0
    for name, pattern in routes:
        if name in ("logout",):  # would end the rotating clients' sessions; the page itself is tested below
            continue
        real, hostile = _urls(name, pattern, ids)
        for url in real:
            sent += _fuzz_url(url, clients, urls, failures)
            urls += 1
        for url in hostile:  # objects that do not exist: 404 (or 405), never a 500
            for method in ("get", "post"):
                _call(clients["study_admin"], method, url, {"reason": "x"}, f"{method} {url}", failures)
                sent += 1
    logout = login(Client(), "coordinator")
    assert _call(logout, "post", reverse("logout"), {"next": "\x00"}, "POST logout", failures) is not None
    print(f"page fuzz: {len(routes)} routes, {urls} URLs, {sent} requests, statuses {dict(STATUSES)}")
    for key, counts in BY_ROUTE.items():
        print(key, dict(counts))
    assert len(routes) >= 55 and sent >= urls * 4
    assert failures == [], "\n".join(failures[:60])
