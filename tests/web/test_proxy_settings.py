"""Deployment settings: hosts, TLS proxy headers, CSRF origins, the real client address for login
lockout, and SQLite durability (WAL + synchronous=FULL)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from npctrial.web.core.network import client_ip
from npctrial.web.settings import database_from_url
from tests.web.conftest import PASSWORD
from tests.web.live_server import run_python

SETTINGS = ("ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "TRUSTED_PROXY_COUNT",
            "SESSION_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "STORAGES")


def _settings(tmp_path, **env) -> dict:
    code = ("import json, npctrial.web.settings as s; "
            f"print(json.dumps({{k: getattr(s, k, None) for k in {SETTINGS!r}}}, default=str))")
    done = run_python(["-c", code], {"NPCTRIAL_VAR_DIR": str(tmp_path), **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_default_hosts_have_no_test_host_and_proxy_headers_are_not_trusted(tmp_path):
    s = _settings(tmp_path)
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert s["SECURE_PROXY_SSL_HEADER"] is None and s["TRUSTED_PROXY_COUNT"] == 0
    assert s["CSRF_TRUSTED_ORIGINS"] == [] and not s["SECURE_SSL_REDIRECT"]


def test_tls_reverse_proxy_settings(tmp_path):
    s = _settings(tmp_path, NPCTRIAL_HTTPS="1", NPCTRIAL_TRUSTED_PROXIES="1",
                  NPCTRIAL_ALLOWED_HOSTS="edc.hospital.cn, edc.backup.cn")
    assert s["ALLOWED_HOSTS"] == ["edc.hospital.cn", "edc.backup.cn"]
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://edc.hospital.cn", "https://edc.backup.cn"]
    assert s["SESSION_COOKIE_SECURE"] and s["SECURE_SSL_REDIRECT"] and s["SECURE_HSTS_SECONDS"] >= 31536000
    explicit = _settings(tmp_path, NPCTRIAL_HTTPS="1", NPCTRIAL_CSRF_TRUSTED_ORIGINS="https://a.example:8443")
    assert explicit["CSRF_TRUSTED_ORIGINS"] == ["https://a.example:8443"]


def test_production_uses_hashed_compressed_static_files(tmp_path):
    assert "Manifest" in _settings(tmp_path, NPCTRIAL_PRODUCTION="1")["STORAGES"]["staticfiles"]["BACKEND"]
    assert "Manifest" not in _settings(tmp_path)["STORAGES"]["staticfiles"]["BACKEND"]


@pytest.mark.parametrize(("count", "header", "expected"), [
    (0, "198.51.100.7", "10.0.0.2"),                      # no trusted proxy: the header is ignored
    (1, "198.51.100.7", "198.51.100.7"),                  # one proxy: the address it saw
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),         # a forged entry on the left is ignored
    (2, "198.51.100.7, 10.0.0.9", "198.51.100.7"),        # two proxies
    (2, "198.51.100.7", "10.0.0.2"),                      # fewer hops than proxies: never trust it
    (1, "not-an-address", "10.0.0.2"),
])
def test_client_address_behind_trusted_proxies(settings, count, header, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def _fail_five_times(client):
    for _ in range(5):
        client.post(reverse("login"), {"username": "coordinator", "password": "wrong password"})


def test_one_user_behind_the_proxy_cannot_lock_out_everyone(world, settings):
    """Five wrong passwords from one client lock that client, not every user behind the proxy."""
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10")
    _fail_five_times(attacker)
    assert attacker.post(reverse("login"), {"username": "coordinator", "password": PASSWORD}).status_code == 429
    ok = colleague.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    assert ok.status_code == 302


def test_without_the_proxy_setting_the_proxy_address_is_what_gets_locked(world, settings):
    """The failure the setting prevents: with no trusted proxy every client has the proxy's address."""
    settings.TRUSTED_PROXY_COUNT = 0
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10")
    _fail_five_times(attacker)
    assert colleague.post(reverse("login"), {"username": "coordinator", "password": PASSWORD}).status_code == 429


def test_sqlite_commits_are_durable_wal_with_synchronous_full(tmp_path):
    db = database_from_url(None)
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    conn.executescript(db["OPTIONS"]["init_command"])
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # 2 = FULL (1 = NORMAL may lose commits)


def test_a_committed_write_survives_a_killed_process(tmp_path):
    """A process that commits and is killed at once (no clean shutdown) leaves the row on disk."""
    code = ("import os, sqlite3, sys; from npctrial.web.settings import database_from_url; "
            "c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.executescript(database_from_url(None)['OPTIONS']['init_command']); "
            "c.execute('create table t (v text)'); c.execute('begin'); c.execute(\"insert into t values ('kept')\"); "
            "c.execute('commit'); os._exit(9)")
    path = tmp_path / "durable.sqlite3"
    done = run_python(["-c", code, str(path)], {"NPCTRIAL_VAR_DIR": str(tmp_path)})
    assert done.returncode == 9
    assert sqlite3.connect(path).execute("select v from t").fetchall() == [("kept",)]
