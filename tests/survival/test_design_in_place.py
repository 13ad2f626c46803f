"""Covariates that are already one row-major array (a frame made from a 2-D array) are read in
place, never written, and give exactly the fit of the same data laid out column by column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from npctrial.survival import cox_ph
from npctrial.survival.cox.design_matrix import _numeric_block

COVS = ["a", "b", "c"]


def _data(seed: int = 3, n: int = 400) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[:, 2] = rng.integers(0, 2, n)
    time = np.round(rng.exponential(np.exp(-x @ [0.5, -0.3, 0.8])) * 10) + 1
    event = rng.integers(0, 2, n)
    block = pd.DataFrame(x, columns=COVS)  # one 2-D block: the columns are views of x's rows
    block["time"], block["event"] = time, event
    by_column = pd.DataFrame({c: x[:, j].copy() for j, c in enumerate(COVS)} | {"time": time, "event": event})
    return x, block, by_column


def test_the_row_major_array_is_used_in_place_read_only() -> None:
    x, block, by_column = _data()
    view, nan, finite = _numeric_block(block, COVS)
    assert np.shares_memory(view, block["a"].to_numpy()) and not view.flags.writeable and nan is None and finite
    copied, _, _ = _numeric_block(by_column, COVS)
    assert not np.shares_memory(copied, x) and np.array_equal(copied, view)
    assert _numeric_block(block, ["c", "a"])[0].flags.writeable  # not in the array's order: copied


def test_same_fit_bit_for_bit_and_the_data_untouched() -> None:
    x, block, by_column = _data()
    before = x.copy()
    a = cox_ph(block, "time", "event", COVS)
    b = cox_ph(by_column, "time", "event", COVS)
    assert np.array_equal(a.coef, b.coef) and np.array_equal(a.var, b.var) and a.loglik == b.loglik
    assert np.array_equal(x, before)


def test_missing_values_in_the_array_drop_the_same_rows() -> None:
    x, block, by_column = _data()
    for frame in (block, by_column):
        frame.iloc[[5, 17], 1] = np.nan
    a, b = cox_ph(block, "time", "event", COVS), cox_ph(by_column, "time", "event", COVS)
    assert a.n == b.n == 398 and np.array_equal(a.coef, b.coef)
