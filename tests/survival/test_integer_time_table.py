"""Rows and events per (group, distinct time) of whole-number times, on both counting routes
(over the range of the values; per rank when groups x range is too wide), against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from npctrial.survival.risk_sets import integer_time_table


@pytest.mark.parametrize(("n", "low", "high", "groups"), [
    (5000, 0, 400, 1),      # days from 0: one group
    (5000, 1, 1300, 3),     # range route with groups
    (3000, -50, 50, 2),     # negative whole numbers: shifted by the minimum
    (2000, 0, 8000, 4),     # groups x range above 4 n + 1024: per-rank route
])
def test_the_table_counts_rows_and_events_of_every_group_and_time(n: int, low: int, high: int, groups: int) -> None:
    rng = np.random.default_rng(n + groups)
    time = rng.integers(low, high, n).astype(float)
    status = rng.integers(0, 2, n).astype(float)
    codes = rng.integers(0, groups, n)
    table = integer_time_table(time, status, codes if groups > 1 else None, groups, timefix=False)
    assert table is not None
    distinct, rows, events = table
    expected = pd.DataFrame({"g": codes, "t": time, "s": status}).groupby(["g", "t"])["s"].agg(["size", "sum"])
    full = expected.reindex(pd.MultiIndex.from_product([range(groups), np.unique(time)]), fill_value=0)
    assert np.array_equal(distinct, np.unique(time))
    assert np.array_equal(rows, full["size"].to_numpy().reshape(groups, -1))
    assert np.array_equal(events, full["sum"].to_numpy().reshape(groups, -1))


def test_times_that_are_not_whole_or_too_spread_take_the_sorting_route() -> None:
    assert integer_time_table(np.array([1.5, 2.0]), np.ones(2), None, 1, timefix=False) is None
    assert integer_time_table(np.array([0.0, 1e7]), np.ones(2), None, 1, timefix=False) is None
