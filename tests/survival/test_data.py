"""SurvivalData / Factor validation, risk sets and R's timefix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import Factor, SurvivalData
from npctrial.survival.risk_sets import apply_timefix, grouped_risk_table, risk_table


def test_valid_arrays_lists_and_series() -> None:
    for t, e in [
        ([1, 2, 3], [0, 1, 1]),
        (np.array([1.0, 2, 3]), np.array([False, True, True])),
        (pd.Series([1, 2, 3]), pd.Series([0, 1, 1])),
    ]:
        d = SurvivalData.from_arrays(t, e)
        np.testing.assert_array_equal(d.time, [1, 2, 3])
        np.testing.assert_array_equal(d.event, [0, 1, 1])
        assert d.n == 3 and d.n_dropped == 0 and not d.is_competing


def test_arrays_are_read_only() -> None:
    d = SurvivalData.from_arrays([1, 2], [1, 0])
    with pytest.raises(ValueError):
        d.time[0] = 5
    with pytest.raises(AttributeError):
        d.time = np.zeros(2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "field", "row", "text"),
    [
        ({"time": [1, np.nan, 3]}, "time", 1, "missing"),
        ({"time": [1, -2, 3]}, "time", 1, "-2"),
        ({"time": [1, 2, np.inf]}, "time", 2, "inf"),
        ({"event": [0, 1, 3]}, "event", 2, "one of [0, 1]"),
        ({"event": [2, 1, 1]}, "event", 0, "status_coding='r'"),
        ({"entry": [0, 2, 1]}, "entry", 1, "entry must be < time"),
        ({"entry": [0, -1, 1]}, "entry", 1, ">= 0"),
        ({"weights": [1, 1, -0.5]}, "weights", 2, "-0.5"),
        ({"weights": [1, np.inf, 1]}, "weights", 1, "inf"),
        ({"event": [0, 1]}, "event", None, "length 2"),
        ({"time": [], "event": []}, "time", None, "empty"),
        ({"time": ["a", 1, 2]}, "time", 0, "numeric"),
    ],
)
def test_invalid_input_names_field_and_first_row(kwargs: dict[str, Any], field: str, row: int | None, text: str) -> None:
    args: dict[str, Any] = {"time": [1, 2, 3], "event": [0, 1, 1]} | kwargs
    with pytest.raises(ValidationError) as exc:
        SurvivalData.from_arrays(**args)
    assert exc.value.field == field
    assert exc.value.row == row
    assert text in str(exc.value)
    if row is not None:
        assert f"row {row}" in str(exc.value)


def test_first_bad_row_is_reported_with_series_label() -> None:
    t = pd.Series([1.0, -1.0, -2.0], index=["p1", "p2", "p3"])
    with pytest.raises(ValidationError, match=r"row 1 \(index label 'p2'\)") as exc:
        SurvivalData.from_arrays(t, [1, 1, 1])
    assert exc.value.row == 1


def test_competing_risk_codes() -> None:
    d = SurvivalData.from_arrays([1, 2, 3], [0, 1, 2], event_codes=(0, 1, 2))
    assert d.is_competing and d.cause_codes == (1, 2)
    np.testing.assert_array_equal(d.status, [False, True, True])
    with pytest.raises(ValidationError, match="one of \\[0, 1, 2\\]"):
        SurvivalData.from_arrays([1, 2, 3], [0, 1, 3], event_codes=(0, 1, 2))


def test_r_status_coding_only_when_requested() -> None:
    d = SurvivalData.from_arrays([1, 2, 3], [1, 2, 2], status_coding="r")
    np.testing.assert_array_equal(d.event, [0, 1, 1])
    with pytest.raises(ValidationError):
        SurvivalData.from_arrays([1, 2, 3], [1, 2, 0], status_coding="r")
    with pytest.raises(ValidationError, match="two-state"):
        SurvivalData.from_arrays([1, 2], [1, 2], status_coding="r", event_codes=(0, 1, 2))


def test_na_action_drop_records_rows() -> None:
    t = pd.Series([1, np.nan, 3, 4, 5], index=list("abcde"))
    e = [1, 1, None, 0, 1]
    g = pd.Series(["x", "y", "y", None, "x"], name="arm")
    d = SurvivalData.from_arrays(t, e, group=g, na_action="drop")
    assert d.dropped_rows == (1, 2, 3) and d.n_dropped == 3
    np.testing.assert_array_equal(d.rows, [0, 4])
    assert list(d.index) == ["a", "e"]
    assert d.group is not None and d.group.levels == ("x",)
    with pytest.raises(ValidationError, match="na_action='drop'"):
        SurvivalData.from_arrays(t, e)


def test_missing_mask_for_other_columns() -> None:
    d = SurvivalData.from_arrays([1, 2, 3], [1, 1, 1], missing=[False, True, False], na_action="drop")
    assert d.dropped_rows == (1,)
    with pytest.raises(ValidationError) as exc:
        SurvivalData.from_arrays([1, 2, 3], [1, 1, 1], missing=[False, True, False])
    assert exc.value.field == "missing" and exc.value.row == 1


def test_all_rows_missing_raises() -> None:
    with pytest.raises(ValidationError, match="no rows left"):
        SurvivalData.from_arrays([np.nan], [1], na_action="drop")


def test_invalid_options() -> None:
    with pytest.raises(ValidationError) as exc:
        SurvivalData.from_arrays([1], [1], na_action="omit")  # type: ignore[arg-type]
    assert exc.value.field == "na_action"
    with pytest.raises(ValidationError) as exc:
        SurvivalData.from_arrays([1], [1], event_codes=(0,))
    assert exc.value.field == "event_codes"


def test_take_subsets_every_column() -> None:
    d = SurvivalData.from_arrays([1, 2, 3], [1, 0, 1], weights=[1, 2, 3], group=["a", "b", "a"])
    s = d.take(np.array([0, 2]))
    np.testing.assert_array_equal(s.weights, [1, 3])
    assert s.group is not None and s.group.levels == ("a",)


# ---- Factor (R level order) ----------------------------------------------------------


def test_factor_numeric_levels_sorted_numerically() -> None:
    f = Factor.from_values([10, 2, 1, 2], name="dose")
    assert f.levels == (1, 2, 10)
    np.testing.assert_array_equal(f.codes, [2, 1, 0, 1])
    assert f.strata_labels == ("dose=1", "dose=2", "dose=10")


def test_factor_float_levels_print_like_r() -> None:
    assert Factor.from_values(np.array([1.0, 0.0, 2.5]), name="ecog").labels == ("0", "1", "2.5")


def test_factor_strings_sorted() -> None:
    assert Factor.from_values(["b", "a", "c"]).levels == ("a", "b", "c")


def test_factor_categorical_keeps_category_order_and_drops_unused() -> None:
    cat = pd.Series(pd.Categorical(["low", "high", "low"], categories=["low", "mid", "high"]))
    f = Factor.from_values(cat, name="risk")
    assert f.levels == ("low", "high")
    np.testing.assert_array_equal(f.codes, [0, 1, 0])


def test_factor_declared_levels() -> None:
    f = Factor.from_values(["b", "a"], levels=["b", "a"])
    assert f.levels == ("b", "a")
    with pytest.raises(ValidationError, match="not one of the declared levels") as exc:
        Factor.from_values(["b", "z"], levels=["a", "b"], name="arm")
    assert exc.value.row == 1


def test_factor_missing_raises() -> None:
    with pytest.raises(ValidationError) as exc:
        Factor.from_values(["a", None], name="arm")
    assert exc.value.field == "arm" and exc.value.row == 1


# ---- risk sets ---------------------------------------------------------------------------


def test_risk_table_counts() -> None:
    rt = risk_table(np.array([3.0, 1, 2, 2, 5, 5]), np.array([1, 0, 1, 0, 1, 1], dtype=bool))
    np.testing.assert_array_equal(rt.time, [1, 2, 3, 5])
    np.testing.assert_array_equal(rt.n_risk, [6, 5, 3, 2])
    np.testing.assert_array_equal(rt.n_event, [0, 1, 1, 2])
    np.testing.assert_array_equal(rt.n_censor, [1, 1, 0, 0])


def test_risk_table_large_grid_path_equals_small_grid_path() -> None:
    rng = np.random.default_rng(0)
    t = rng.exponential(size=2000)
    s = rng.random(2000) < 0.7
    full = risk_table(t, s)
    grid = full.time[::50]
    sub = risk_table(t, s, grid=grid)
    np.testing.assert_array_equal(sub.n_event, full.n_event[::50])
    np.testing.assert_array_equal(sub.n_risk, full.n_risk[::50])


def test_grouped_risk_table() -> None:
    t = np.array([1.0, 2, 2, 3, 4])
    s = np.array([1, 1, 0, 1, 0], dtype=bool)
    g = np.array([0, 1, 0, 1, 0])
    rt = grouped_risk_table(t, s, g, 2)
    np.testing.assert_array_equal(rt.time, [1, 2, 3])
    np.testing.assert_array_equal(rt.n_risk, [[3, 2, 1], [2, 2, 1]])
    np.testing.assert_array_equal(rt.n_event, [[1, 0, 0], [0, 1, 1]])


def test_timefix_follows_r_aeqsurv() -> None:
    t = np.array([1.0, 1.0 + 1e-10, 2.0, 3.0])
    fixed, _ = apply_timefix(t)
    np.testing.assert_array_equal(fixed, [1.0, 1.0, 2.0, 3.0])
    untouched = np.array([1.0, 1.001, 2.0])
    same, _ = apply_timefix(untouched)
    assert same is untouched
    # relative rule: differences tiny relative to the mean magnitude are merged
    big = np.array([1e9, 1e9 + 1.0])
    np.testing.assert_array_equal(apply_timefix(big)[0], [1e9, 1e9])


def test_grouped_risk_table_three_groups_equals_per_group_tables() -> None:
    rng = np.random.default_rng(7)
    t = rng.integers(1, 30, 500).astype(float)
    s = rng.random(500) < 0.6
    g = rng.integers(0, 3, 500)
    rt = grouped_risk_table(t, s, g, 3, timefix=True)
    for k in range(3):
        own = risk_table(t[g == k], s[g == k], grid=rt.time)
        np.testing.assert_array_equal(rt.n_risk[k], own.n_risk)
        np.testing.assert_array_equal(rt.n_event[k], own.n_event)
    assert (rt.n_event.sum(axis=0) > 0).all()


def test_group_label_from_series_name_and_errors_name_the_argument() -> None:
    g = pd.Series([1.0, np.nan, 2.0, 1.0], name="ecog")
    d = SurvivalData.from_arrays([1, 2, 3, 4], [1, 1, 0, 1], group=g, na_action="drop")
    assert d.group is not None and d.group.strata_labels == ("ecog=1", "ecog=2")
    with pytest.raises(ValidationError, match=r"group \(ecog\) has a missing value at row 1") as exc:
        SurvivalData.from_arrays([1, 2, 3, 4], [1, 1, 0, 1], group=g)
    assert exc.value.field == "group" and exc.value.row == 1
    # a grouping Series named like another argument does not clash with it
    ev = pd.Series([0, 1, 0, 1], name="event")
    d2 = SurvivalData.from_arrays([1, 2, 3, 4], [1, 1, 0, 1], group=ev, strata=ev)
    assert d2.group is not None and d2.group.strata_labels == ("event=0", "event=1")
    np.testing.assert_array_equal(d2.event, [1, 1, 0, 1])


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("time", [1.0, np.nan, -2.5, 4.0], "time must be finite and >= 0; row 2 is -2.5"),
        ("time", [1.0, np.nan, 3.0, np.inf], "time must be finite and >= 0; row 3 is inf"),
        ("entry", [0.0, np.nan, -1.0, 0.0], "entry must be finite and >= 0; row 2 is -1"),
        ("weights", [1.0, np.nan, 2.0, -0.5], "weights must be finite and >= 0; row 3 is -0.5"),
    ],
)
def test_range_errors_name_the_first_kept_row_in_original_numbering(
    column: str, values: list[float], message: str
) -> None:
    args: dict[str, Any] = {"time": [1.0, 2.0, 3.0, 4.0], "event": [1, 1, 1, 1], column: values}
    if column != "entry":
        args["entry"] = None
    with pytest.raises(ValidationError) as exc:
        SurvivalData.from_arrays(**args, na_action="drop")
    assert str(exc.value) == message
    assert exc.value.field == column
    assert exc.value.row == int(message.split("row ")[1].split(" ")[0])
