"""Login, lockout, password hashing, session expiry, CSRF, secure headers, no identifiers in URLs."""

from __future__ import annotations

import importlib

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from tests.web.conftest import PASSWORD, login


def _login_form(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_form_logs_in_and_out(world):
    client = Client()
    assert _login_form(client, "coordinator", PASSWORD).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_lockout_after_five_failed_logins(world):
    client = Client()
    for _ in range(5):
        response = _login_form(client, "coordinator", "wrong password")
        assert response.status_code in (200, 429)
    # locked: even the right password is refused now
    response = _login_form(client, "coordinator", PASSWORD)
    assert response.status_code == 429
    assert client.get(reverse("home")).status_code == 302


def test_production_settings_hash_with_argon2_and_expire_sessions():
    prod = importlib.import_module("npctrial.web.settings")
    assert prod.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert prod.SESSION_COOKIE_AGE <= 60 * 60 and prod.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert prod.SESSION_COOKIE_HTTPONLY and prod.X_FRAME_OPTIONS == "DENY"
    assert prod.AXES_FAILURE_LIMIT == 5


@pytest.mark.django_db
def test_argon2_is_used_for_new_passwords(settings):
    from django.contrib.auth.hashers import make_password

    prod = importlib.import_module("npctrial.web.settings")
    settings.PASSWORD_HASHERS = prod.PASSWORD_HASHERS
    assert make_password("some long password").startswith("argon2")


def test_csrf_is_enforced_on_forms_and_api(world):
    client = Client(enforce_csrf_checks=True)
    login(client, "coordinator")
    subject = world.subjects[("imrt", "A")]
    query = world.queries[("imrt", "A")]
    url = reverse("query-answer", kwargs={"study_pk": subject.study_id, "pk": query.pk})
    assert client.post(url, {"answer": "x"}).status_code == 403
    api = client.post(f"/api/v1/studies/{subject.study_id}/queries/{query.pk}/answer", data={"answer": "x"},
                      content_type="application/json")
    assert api.status_code == 403
    query.refresh_from_db()
    assert query.status == "open"


def test_secure_headers(client, world):
    login(client, "coordinator")
    response = client.get(reverse("home"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"


def test_urls_carry_only_numeric_ids_never_subject_identifiers(client, world):
    """Records are addressed by integer primary keys only: no subject IDs or other identifiers in URLs."""
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern).startswith("api/"):
            continue  # checked through the OpenAPI schema below
        for sub in getattr(pattern, "url_patterns", [pattern]):
            converters = getattr(sub.pattern, "converters", {})
            for name, conv in converters.items():
                if name == "pk" or name.endswith(("_pk", "_id")) or "subject" in name:
                    assert type(conv).__name__ == "IntConverter", (str(sub.pattern), name)
    login(client, "coordinator")
    schema = client.get("/api/v1/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                name = param["name"]
                if param["in"] == "path" and (name.endswith(("_pk", "_id")) or "subject" in name):
                    assert param["schema"]["type"] == "integer", (method, path, param["name"])


def test_page_links_to_subjects_use_primary_keys(client, world):
    login(client, "coordinator")
    subject = world.subjects[("imrt", "A")]
    page = client.get(reverse("subject-list", kwargs={"study_pk": subject.study_id})).content.decode()
    assert f"/subjects/{subject.pk}/" in page
    assert f"/subjects/{subject.subject_id}" not in page


def test_pages_load_only_local_assets(client, world):
    """htmx and CSS are served from our static files: no CDN, nothing from another origin."""
    import re as _re

    login(client, "coordinator")
    page = client.get(reverse("screening-new", kwargs={"study_pk": world.studies["imrt"].pk})).content.decode()
    sources = _re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/static/core/htmx.min.js" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    from django.contrib.staticfiles import finders

    vendored = finders.find("core/htmx.min.js")
    assert vendored and "htmx" in open(vendored, encoding="utf-8").read(4000)


def test_idle_sessions_expire_and_are_refreshed_at_most_once_a_minute(world, monkeypatch):
    """The idle limit runs from the last request (the server-side expiry moves), with one session
    write per minute at most; a session past its expiry is logged out."""
    import datetime
    import types

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from npctrial.web.core import middleware

    clock = [1_000_000.0]
    monkeypatch.setattr(middleware, "time", types.SimpleNamespace(time=lambda: clock[0]))
    client = Client()
    assert _login_form(client, "coordinator", PASSWORD).status_code == 302
    key = client.cookies["sessionid"].value

    def expiry():
        return Session.objects.get(pk=key).expire_date

    assert client.get(reverse("home")).status_code == 200
    marked = expiry()
    clock[0] += 30
    assert client.get(reverse("home")).status_code == 200
    assert expiry() == marked  # within the minute: no write
    clock[0] += 31
    assert client.get(reverse("home")).status_code == 200
    assert expiry() > marked  # a minute on: the expiry moves to now + the idle limit
    assert expiry() - timezone.now() > datetime.timedelta(minutes=29)
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
