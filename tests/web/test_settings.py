"""DATABASE_URL parsing and the SQLite defaults (WAL, file under the var directory)."""

from __future__ import annotations

import sqlite3

import pytest

from npctrial.web.settings import VAR_DIR, database_from_url


def test_postgres_url_is_parsed():
    db = database_from_url("postgresql://edc:s%40cret@db.example:6543/npctrial")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "edc", "s@cret", "db.example", "6543", "npctrial")


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
