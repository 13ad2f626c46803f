"""Bad input: every problem listed with row, column, value and what was expected."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from npctrial.cohort import load_config, prepare_cohort, validate_cohort
from npctrial.errors import ValidationError

CONFIG: dict[str, Any] = {
    "data_cutoff": "2014-08-31",
    "columns": {
        "t_stage": {"column": "T", "type": "category", "levels": ["T1", "T2", "T3", "T4"]},
        "death": {"column": "dead", "type": "binary"},
        "start": {"column": "start", "type": "date"},
        "last": {"column": "last", "type": "date"},
        "age": {"column": "age", "type": "number", "min": 10, "max": 100},
        "muc": {"column": "muc", "type": "grade"},
    },
    "derived": [{"name": "os", "kind": "duration", "start": "start", "end": ["last"]}],
}


def raw(**changes: list) -> pd.DataFrame:
    base = {
        "T": ["T1", "T2", "T3", "T4"],
        "dead": ["0", "1", "0", "1"],
        "start": ["2008-01-01", "2009-02-03", "2010-03-04", "2011-04-05"],
        "last": ["2012-01-01", "2010-02-03", "2013-03-04", "2014-04-05"],
        "age": ["40", "55", "61", "33"],
        "muc": ["0", "1", "2", "3"],
    }
    base.update(changes)
    return pd.DataFrame(base)


def test_clean_input() -> None:
    frame, report = validate_cohort(raw(), load_config(CONFIG))
    assert report.ok
    assert frame["death"].tolist() == [0, 1, 0, 1]
    assert str(frame["start"].dtype).startswith("datetime64")


def test_every_problem_is_listed() -> None:
    bad = raw(
        T=["T1", "T5", "T3", "T4"],  # stage T5
        dead=["0", "1", "2", "1"],  # event coded 2
        start=["2008-01-01", "2009-02-03", "not a date", "2011-04-05"],  # unparsable date
        last=["2012-01-01", "2008-02-03", "2013-03-04", "2015-01-01"],  # before start; after cut-off
        age=["40", "55", "61", "-3"],
        muc=["0", "1", "2.5", "3"],
    )
    _, report = validate_cohort(bad, load_config(CONFIG))
    # rows as in the spreadsheet: the header is row 1, the first patient row 2
    got = {(p.row, p.column, p.value) for p in report.problems}
    assert (3, "T", "T5") in got
    assert (4, "dead", "2") in got
    assert (4, "start", "not a date") in got
    assert (5, "last", "2015-01-01") in got
    assert (5, "age", "-3") in got
    assert (4, "muc", "2.5") in got
    assert (3, "last", "2008-02-03") in got  # negative time: last follow-up before the start
    assert report.invalid_rows == (3, 4, 5)
    assert report.invalid_positions == (1, 2, 3)
    expected = {p.column: p.expected for p in report.problems}
    assert "T1" in expected["T"] and "0 or 1" == expected["dead"]
    assert "cut-off 2014-08-31" in " ".join(p.expected for p in report.problems if p.column == "last")
    text = report.summary()
    assert "row 3, column 'T': got 'T5'" in text


def test_missing_column_and_missing_value() -> None:
    bad = raw().drop(columns=["muc"])
    bad.loc[1, "age"] = None
    _, report = validate_cohort(bad, load_config(CONFIG))
    assert report.fatal
    assert any(p.row is None and p.column == "muc" for p in report.problems)
    assert any(p.row == 3 and p.column == "age" and "missing" in p.expected for p in report.problems)


def test_prepare_stops_or_drops(tmp_path: Path) -> None:
    bad = raw(T=["T1", "T5", "T3", "T4"])
    path = tmp_path / "c.csv"
    bad.to_csv(path, index=False)
    cfg = load_config(CONFIG)
    with pytest.raises(ValidationError, match="row 3, column 'T': got 'T5'"):
        prepare_cohort(path, cfg)
    frame, excluded, n = prepare_cohort(path, cfg, drop_invalid=True)
    assert n == 4 and len(frame) == 3
    assert excluded["row"].tolist() == [3]
    assert frame["os"].min() > 0


def test_missing_column_is_fatal_even_with_drop(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    raw().drop(columns=["dead"]).to_csv(path, index=False)
    with pytest.raises(ValidationError, match="missing column"):
        prepare_cohort(path, load_config(CONFIG), drop_invalid=True)


def test_duplicate_ids() -> None:
    cfg = load_config({**CONFIG, "id_column": "pid", "columns": {**CONFIG["columns"], "pid": {"column": "id"}}})
    _, report = validate_cohort(raw(id=["a", "b", "a", "c"]), cfg)
    assert [(p.row, p.column, p.value, p.patient) for p in report.problems] == [(4, "id", "a", "a")]
    assert "already on row 2" in report.problems[0].expected
