"""DATABASE_URL parsing and the SQLite defaults (WAL, file under the var directory)."""

from __future__ import annotations

import sqlite3

import pytest

from npctrial.web.settings import VAR_DIR, cache_from_name, database_from_url


def test_postgres_url_is_parsed():
    db = database_from_url("postgresql://edc:s%40cret@db.example:6543/npctrial")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "edc", "s@cret", "db.example", "6543", "npctrial")


def test_postgres_connections_persist_and_are_checked_before_reuse(monkeypatch):
    db = database_from_url("postgresql://edc@db.example/npctrial")
    assert db["CONN_MAX_AGE"] == 300 and db["CONN_HEALTH_CHECKS"] is True
    monkeypatch.setenv("NPCTRIAL_DB_CONN_MAX_AGE", "0")  # one connection per request, if a pooler needs it
    assert database_from_url("postgresql://edc@db.example/npctrial")["CONN_MAX_AGE"] == 0


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="DATABASE_URL"):
        database_from_url("mysql://x@y/z")


def test_sqlite_default_uses_wal_in_the_var_directory(tmp_path):
    db = database_from_url(None)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(VAR_DIR / "npctrial.sqlite3")
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    conn.executescript(db["OPTIONS"]["init_command"])
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_cache_is_per_process_by_default_and_shared_by_file_in_production(tmp_path):
    assert cache_from_name("memory", tmp_path)["BACKEND"].endswith("LocMemCache")
    shared = cache_from_name("file", tmp_path)
    assert shared["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert shared["LOCATION"] == str(tmp_path / "cache")
    assert cache_from_name("none", tmp_path)["BACKEND"].endswith("DummyCache")
    with pytest.raises(ValueError, match="NPCTRIAL_CACHE"):
        cache_from_name("redis", tmp_path)
