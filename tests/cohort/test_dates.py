"""Dates are never misread: declared formats, orders proved by the column, or an error naming the ambiguity."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from npctrial.cohort import load_config, make_demo_cohort, run_analysis, validate_cohort
from npctrial.cohort.dates import parse_date_column
from npctrial.cohort.pipeline import load_prepared
from npctrial.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-2016.yaml"
DATE_COLUMNS = ("rt_start_date", "rt_end_date", "metastasis_date", "last_followup_date")


def parse(values: list[str | None], **options: object):
    raw = pd.Series(values, dtype=object)
    missing = raw.isna().to_numpy() | raw.eq("").to_numpy()
    where = pd.Series([f"row {i + 2}" for i in range(len(raw))])
    return parse_date_column(raw, missing, where, column="start", **options)  # type: ignore[arg-type]


def iso(result) -> list[str]:
    return ["" if pd.isna(v) else v.strftime("%Y-%m-%d") for v in result.values]


def test_unambiguous_forms_are_read_as_written() -> None:
    res = parse(["2009-03-04", "2009/3/4", "2009.03.04", "20090304", "2009年3月4日", "4 Mar 2009",
                 "March 4, 2009", "2009-03-04 10:30", None])
    assert iso(res) == ["2009-03-04"] * 8 + [""]
    assert not res.invalid.any() and res.ambiguity is None


def test_day_over_12_proves_day_first() -> None:
    res = parse(["03/04/2009", "25/12/2010", "01.02.2011"])
    assert iso(res) == ["2009-04-03", "2010-12-25", "2011-02-01"]
    assert "day/month/year, inferred ('25/12/2010' (row 3) has a day over 12)" in res.rule


def test_second_number_over_12_proves_month_first() -> None:
    res = parse(["03/04/2009", "12/25/2010"])
    assert iso(res) == ["2009-03-04", "2010-12-25"]
    assert "month/day/year, inferred" in res.rule


def test_unprovable_order_is_an_error_naming_the_column_and_a_raw_value() -> None:
    res = parse(["03/04/2009", "11/12/2010", "2009-05-06"])
    assert res.ambiguity is not None
    assert "2 date(s) such as '03/04/2009' (row 2) could be day/month or month/day" in res.ambiguity
    assert "date_format" in res.ambiguity and "dayfirst" in res.ambiguity


def test_both_orders_in_one_column_is_an_error() -> None:
    res = parse(["25/03/2009", "03/25/2009"])
    assert res.ambiguity == ("mixes day/month ('25/03/2009', row 2) and month/day ('03/25/2009', row 3) dates; "
                             "correct the file or declare date_format for it")


def test_declared_order_and_format() -> None:
    assert iso(parse(["03/04/2009"], dayfirst=True)) == ["2009-04-03"]
    assert iso(parse(["03/04/2009"], dayfirst=False)) == ["2009-03-04"]
    res = parse(["03/04/09", "3/4/2009"], date_format="%d/%m/%y")
    assert iso(res) == ["2009-04-03", ""] and res.invalid.tolist() == [False, True]


def test_two_digit_year_needs_a_format() -> None:
    res = parse(["25/03/09"])
    assert res.ambiguity is not None and "two-digit year in '25/03/09' (row 2)" in res.ambiguity


def test_impossible_and_unreadable_dates_are_invalid_cells() -> None:
    res = parse(["31/02/2009", "25/12/2010", "soon", "2009-13-01"])
    assert res.invalid.tolist() == [True, False, True, True]


CONFIG = {
    "id_column": "pid",
    "columns": {"pid": {"column": "pid"}, "start": {"column": "start", "type": "date"},
                "end": {"column": "end", "type": "date", "allow_missing": True}},
}


def test_error_quotes_the_cell_as_written_with_patient_and_row() -> None:
    raw = pd.DataFrame({"pid": ["A1", "A2", "A3"], "start": ["25/12/2010", " 31/02/2009", "01/02/2011"],
                        "end": ["", "", ""]})
    _, report = validate_cohort(raw, load_config(CONFIG))
    assert [str(p) for p in report.problems] == [
        "row 3 (patient A2), column 'start': got ' 31/02/2009', expected a date"]


def test_file_wide_and_column_settings() -> None:
    raw = pd.DataFrame({"pid": ["A1", "A2"], "start": ["03/04/2009", "05/06/2010"], "end": ["03/04/2009", ""]})
    _, report = validate_cohort(raw, load_config(CONFIG))
    assert report.fatal and {p.column for p in report.problems} == {"start", "end"}
    frame, report = validate_cohort(raw, load_config({**CONFIG, "dayfirst": True}))
    assert report.ok and frame["start"].dt.month.tolist() == [4, 6]
    cols = {**CONFIG["columns"], "start": {"column": "start", "type": "date", "date_format": "%m/%d/%Y"}}
    frame, report = validate_cohort(raw, load_config({**CONFIG, "dayfirst": True, "columns": cols}))
    assert report.ok and frame["start"].dt.month.tolist() == [3, 5] and frame["end"].dt.month.tolist()[0] == 4
    assert "dates start: format %m/%d/%Y (declared for the column)" in report.notes


@pytest.fixture(scope="module")
def dmy_and_iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("dates")
    df = make_demo_cohort(1)
    df.to_csv(base / "iso.csv", index=False)
    dmy = df.copy()
    for col in DATE_COLUMNS:
        dmy[col] = pd.to_datetime(dmy[col]).dt.strftime("%d/%m/%Y").fillna("")
    dmy.to_csv(base / "dmy.csv", index=False)
    return base


def test_dmy_demo_cohort_has_days_up_to_12_that_used_to_be_swapped(dmy_and_iso: Path) -> None:
    dmy = pd.read_csv(dmy_and_iso / "dmy.csv", dtype=str)
    day = dmy["rt_start_date"].str[:2].astype(int)
    month = dmy["rt_start_date"].str[3:5].astype(int)
    assert int(((day <= 12) & (day != month)).sum()) > 150  # a mm/dd reading would swap these


def test_dmy_demo_report_equals_iso_report(dmy_and_iso: Path) -> None:
    cfg = load_config(EXAMPLE)
    iso_frame = load_prepared(dmy_and_iso / "iso.csv", cfg).frame
    prepared = load_prepared(dmy_and_iso / "dmy.csv", cfg)
    pd.testing.assert_frame_equal(prepared.frame, iso_frame, check_exact=True)
    assert any("rt_start_date: day/month/year, inferred" in n for n in prepared.notes)
    run_analysis(dmy_and_iso / "iso.csv", dmy_and_iso / "iso_report", config=EXAMPLE)
    run_analysis(dmy_and_iso / "dmy.csv", dmy_and_iso / "dmy_report", config=EXAMPLE)
    tables = sorted(p.name for p in (dmy_and_iso / "iso_report" / "tables").iterdir())
    assert len(tables) >= 10
    match, mismatch, errors = filecmp.cmpfiles(dmy_and_iso / "iso_report" / "tables",
                                               dmy_and_iso / "dmy_report" / "tables", tables, shallow=False)
    assert mismatch == [] and errors == [] and match == tables


def test_dmy_cohort_where_no_day_exceeds_12_stops_naming_the_column(dmy_and_iso: Path, tmp_path: Path) -> None:
    dmy = pd.read_csv(dmy_and_iso / "dmy.csv", dtype=str, keep_default_na=False)
    small = dmy[dmy["rt_start_date"].str[:2].astype(int) <= 12].reset_index(drop=True)
    small.to_csv(tmp_path / "small.csv", index=False)
    with pytest.raises(ValidationError) as info:
        run_analysis(tmp_path / "small.csv", tmp_path / "out", config=EXAMPLE)
    msg = str(info.value)
    first = small["rt_start_date"].iloc[0]
    assert f"column 'rt_start_date': {len(small)} date(s) such as '{first}' (row 2) could be day/month" in msg
    assert not (tmp_path / "out").exists()
    # declaring the order for the file settles it, and the dates equal the ISO ones
    cfg = yaml.safe_load(EXAMPLE.read_text())
    cfg["dayfirst"] = True
    frame = load_prepared(tmp_path / "small.csv", load_config(cfg)).frame
    iso = pd.to_datetime(small["rt_start_date"], format="%d/%m/%Y")
    assert np.array_equal(frame["rt_start"].to_numpy(), iso.to_numpy())
