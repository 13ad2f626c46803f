"""The engine turns NumPy's huge-page hint off while it runs and gives the caller's setting back."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from numpy._core import multiarray  # NumPy >= 2, a dependency

from npctrial.survival import cox_ph, kaplan_meier, logrank_test
from npctrial.survival.memory_pages import without_huge_page_hint

SET = multiarray._set_madvise_hugepage


def _hint() -> bool:
    current = SET(True)
    SET(current)
    return bool(current)


@pytest.mark.parametrize("start", [True, False])
def test_the_hint_is_off_inside_a_call_and_restored_after_it(start: bool) -> None:
    seen: list[bool] = []

    @without_huge_page_hint
    def inner() -> None:
        seen.append(_hint())

    @without_huge_page_hint
    def outer() -> None:
        inner()
        seen.append(_hint())  # a nested call does not restore it early

    previous = SET(start)
    try:
        outer()
        assert seen == [False, False] and _hint() is start
        with pytest.raises(ZeroDivisionError):
            without_huge_page_hint(lambda: 1 / 0)()
        assert _hint() is start  # restored after an error too
    finally:
        SET(previous)


def test_concurrent_calls_restore_the_setting_once() -> None:
    barrier = threading.Barrier(4)

    @without_huge_page_hint
    def work() -> None:
        barrier.wait()
        assert not _hint()

    previous = SET(True)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert _hint() is True
    finally:
        SET(previous)


def test_results_do_not_depend_on_the_hint() -> None:
    rng = np.random.default_rng(7)
    n = 600_000  # arrays above NumPy's 4 MiB threshold
    time = rng.integers(1, 2000, n).astype(float)
    event = rng.integers(0, 2, n).astype(float)
    x = rng.normal(size=n)
    import pandas as pd

    df = pd.DataFrame({"time": time, "event": event, "x": x, "g": (x > 0).astype(int)})
    runs = []
    for hint in (True, False):
        previous = SET(hint)
        try:
            # the undecorated functions: the decorator would turn the hint off in both runs
            fit = cox_ph.__wrapped__(df, "time", "event", ["x"])
            chisq = logrank_test.__wrapped__(df["time"], df["event"], df["g"]).chisq
            surv = kaplan_meier.__wrapped__(df["time"], df["event"]).curves[0].surv
            runs.append((fit.coef.tolist(), chisq, surv.tolist()))
        finally:
            SET(previous)
    assert runs[0] == runs[1]  # bit for bit
