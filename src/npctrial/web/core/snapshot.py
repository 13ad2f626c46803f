"""One consistent, read-only view of the database for a computation that reads many tables.

A report reads a dozen tables one query after another. Under PostgreSQL's default READ
COMMITTED, every query sees the data committed when *it* starts, so a CRF saved between two of
them could be counted in one table and missing from the next. :func:`read_snapshot` runs the
block in one read-only transaction that reads a single snapshot:

1. Already inside a transaction (an ``atomic`` block, or an enclosing ``read_snapshot``): nothing
   changes; the enclosing transaction decides (a test's transaction, a view that also writes).
2. PostgreSQL: ``REPEATABLE READ, READ ONLY`` for this transaction, set before its first query:
   every query sees the data as of the first one; a read-only transaction never fails with a
   serialisation error, and a write inside the block is refused by the server.
3. SQLite (WAL): ``BEGIN DEFERRED``: the reads share one snapshot from the first read and take
   no write lock (the EDC's own transactions are ``IMMEDIATE``: writers queue on the lock, and
   a report must not hold it), so CRF saves go on while a report is computed. ``query_only``
   makes a write inside the block fail, as on PostgreSQL; the transaction only read, so it ends
   with a rollback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

__all__ = ["read_snapshot"]

_DEPTH = "npctrial_snapshot_depth"  # per connection (Django keeps one connection per thread)


@contextmanager
def read_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block in one read-only transaction that sees one snapshot (steps above)."""
    connection = connections[using]
    depth = getattr(connection, _DEPTH, 0)
    if connection.in_atomic_block or depth:
        yield
        return
    setattr(connection, _DEPTH, 1)
    try:
        if connection.vendor == "sqlite":
            with _sqlite_deferred(connection):
                yield
        else:
            with transaction.atomic(using=using):
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield
    finally:
        setattr(connection, _DEPTH, 0)


@contextmanager
def _sqlite_deferred(connection: Any) -> Iterator[None]:
    """Step 3: a deferred transaction in which the connection may only read (``query_only``),
    then committed (nothing to commit: it only read), or rolled back on an error."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")
            cursor.execute("ROLLBACK")
