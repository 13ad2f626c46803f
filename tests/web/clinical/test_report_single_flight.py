"""A report missing from the cache is computed once while other requests for it wait (no stampede
of identical computations on the same cores), and a failed computation lets the waiters compute."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache
from django.utils import translation

from npctrial.web.clinical import report_cache


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    with translation.override("en"):  # the key holds the active language; an earlier test may leave another
        yield
    cache.clear()


def _in_threads(n: int, target) -> list:
    results: list = [None] * n
    errors: list = []

    def run(i: int) -> None:
        try:
            with translation.override("en"):  # as the test's own thread (a new thread has the default)
                results[i] = target()
        except Exception as exc:  # noqa: BLE001 (collected and re-raised by the test)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results + errors


def test_concurrent_requests_for_one_missing_report_compute_it_once() -> None:
    calls = []

    def compute() -> dict:
        calls.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other request to miss the cache meanwhile
        return {"report": 1}

    results = _in_threads(6, lambda: report_cache.cached_by_content("t", ["same"], compute))
    assert len(calls) == 1
    assert results == [{"report": 1}] * 6


def test_a_failed_computation_lets_a_waiting_request_compute() -> None:
    calls = []

    def compute() -> str:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.2)
            raise RuntimeError("database went away")
        return "computed by a waiter"

    results = _in_threads(2, lambda: report_cache.cached_by_content("t", ["fail"], compute))
    assert len(calls) == 2
    assert "computed by a waiter" in results
    assert any(isinstance(r, RuntimeError) for r in results)
    # nothing stays locked: the next request gets the cached value without computing
    assert report_cache.cached_by_content("t", ["fail"], lambda: "again") == "computed by a waiter"
