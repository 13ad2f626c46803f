"""The study report cached per data version: computed once per change of the trial data.

Computing the report reads every CRF of the study and fits the survival curves (hundreds of
milliseconds; the PDF up to a second). Readers far outnumber changes, so a computed report is kept
in Django's cache (``CACHES["default"]``; per process unless a shared cache is configured) under a
key that changes whenever its result could:

1. The **data version**: :mod:`npctrial.web.core.audit_chain` writes a seal for every historical
   row (each create, change and delete of any record, protocol version, membership or account) in
   the transaction of the change, and chains it after the commit, in commit order. The version is
   the newest seal written (id and row digest: changes as soon as a change commits) together with
   the newest seal chained (position and chain hash: changes with every commit, even one whose seal
   id is lower than an earlier commit's, as concurrent PostgreSQL transactions may have). Audit
   *events* (logins, downloads) are skipped: they change no data. The version is read before the
   data, so a cached report is never older than its key; a database restored from a backup and
   written again gets new digests and hashes, never an old key.
2. The study, the **reader's scope** (the sites whose data they see), whether efficacy is split by
   arm for them (:mod:`npctrial.web.clinical.interim`), the report date (``today``: follow-up
   grows with it), the language, and what is asked for (page with figures, no figures, PDF).

3. **Figures by content**: a Kaplan-Meier figure is the costliest part of the report (drawing it
   takes most of the report's time) and depends only on the times and statuses it plots, its
   title, the language and the release. :func:`cached_by_content` keys it on exactly those, so a
   change that leaves the endpoint data alone (an adverse event, a lab value, a visit that does
   not move the last contact) recomputes the numbers of the report but redraws no figure.

4. **One computation at a time**: when several requests miss the same key at once (several
   readers after a change), one computes the value and the others wait for it instead of
   computing it again on the same cores (:func:`_cached`).

A data change outside the application (which ``verify-audit`` reports) leaves the cache stale
until the next data change or a restart of the server (``serve --production`` empties the shared
file cache when it starts).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from django.core.cache import cache
from django.utils import translation

from npctrial import __version__
from npctrial.web.core.audit_chain import table_of
from npctrial.web.core.models_audit import AuditEvent, AuditSeal

__all__ = ["cached_by_content", "cached_report", "data_version"]

T = TypeVar("T")

#: Kept for a day at most (the key carries the date anyway).
TIMEOUT_SECONDS = 24 * 3600
#: Step 4: how long a request waits for another one computing the same value, how often it
#: looks, and when a computing request's lock expires if its process died.
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.02
LOCK_SECONDS = 60


def data_version() -> str:
    """Step 1: the newest seal written and the newest seal chained, of data changes only."""
    seals = AuditSeal.objects.exclude(table=table_of(AuditEvent))
    written = seals.order_by("-id").values_list("id", "digest").first()
    chained = seals.filter(position__isnull=False).order_by("-position").values_list("position", "chain_hash").first()
    return f"{written}|{chained}"


def cached_report(kind: str, study: Any, site_ids: set[int] | None, by_arm: bool, today: date,
                  compute: Callable[[], T]) -> T:
    """The cached value of ``compute()`` for this data version and reader (steps 1-2)."""
    version = data_version()
    scope = "all" if site_ids is None else ",".join(map(str, sorted(site_ids)))
    raw = f"{kind}|{study.pk}|{version}|{scope}|{int(by_arm)}|{today.isoformat()}|{translation.get_language()}"
    return _cached("npctrial:report:", raw, compute)


def cached_by_content(kind: str, content: Any, compute: Callable[[], T]) -> T:
    """Step 3: the cached value of ``compute()`` for exactly this ``content`` (JSON-able inputs:
    floats are written exactly), this release and the active language."""
    raw = json.dumps([kind, __version__, translation.get_language(), content], sort_keys=True, default=str)
    return _cached("npctrial:content:", raw, compute)


def _cached(prefix: str, raw: str, compute: Callable[[], T]) -> T:
    """Step 4 (single flight): the cached value, or computed by one request at a time.

    A missing value is computed by the request that adds the key's lock (``cache.add``: atomic in
    the memory cache; in the file cache two processes may rarely both win, which costs a second
    computation, never a wrong value). The others wait for the value, polling the cache, instead of
    computing it again on the same cores; a waiter computes it itself when the lock is gone with
    no value (the computing request failed) or after :data:`WAIT_SECONDS`."""
    key = prefix + hashlib.sha256(raw.encode()).hexdigest()
    value: T | None = cache.get(key)
    if value is not None:
        return value
    lock = key + ":computing"
    owner = cache.add(lock, 1, LOCK_SECONDS)
    if not owner:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            value = cache.get(key)
            if value is not None:
                return value
            if cache.get(lock) is None:
                break
    try:
        value = compute()
        cache.set(key, value, TIMEOUT_SECONDS)
    finally:
        if owner:
            cache.delete(lock)
    return value
