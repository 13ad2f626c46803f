"""Files as a Chinese hospital keeps them, analysed without a config: a workbook whose first sheet
holds notes, a merged title row above Chinese headers and dates stored as Excel dates; and the
ways a hand-made file goes wrong (empty, not a workbook, a column named twice, a column without
a name), each one ``error:`` line with exit 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from npctrial.cli import main
from npctrial.cohort import infer_config, load_cohort
from npctrial.cohort.pipeline import load_prepared
from npctrial.errors import ValidationError

HEADER = ["住院号", "性别", "年龄", "放疗开始日期", "末次随访日期", "死亡"]


def _follow_up(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = [dt.date(2011, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 700, n)]
    return pd.DataFrame({"住院号": [f"Z{i:04d}" for i in range(n)], "性别": np.where(rng.random(n) < 0.7, "男", "女"),
                         "年龄": rng.integers(20, 80, n), "放疗开始日期": start,
                         "末次随访日期": [s + dt.timedelta(days=int(d)) for s, d in zip(start, rng.integers(30, 1500, n),
                                                                                      strict=True)],
                         "死亡": (rng.random(n) < 0.3).astype(int)})


def _workbook(df: pd.DataFrame, path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本表为鼻咽癌放疗后随访登记"])
    notes.append(["死亡：1 = 死亡，0 = 存活或失访"])
    ws = wb.create_sheet("随访")
    ws.append(["鼻咽癌随访登记表 2011-2014"])
    ws.merge_cells("A1:F1")
    ws.append(HEADER)
    for rec in df.itertuples(index=False):
        ws.append(list(rec))
    wb.create_sheet("统计")["A1"] = "汇总"
    wb.save(path)


def test_chinese_workbook_with_a_notes_sheet_is_read_and_its_endpoint_inferred(tmp_path: Path) -> None:
    df = _follow_up()
    path = tmp_path / "随访.xlsx"
    _workbook(df, path)
    raw = load_cohort(path)
    assert list(raw.frame.columns) == HEADER and int(raw.rows[0]) == 3
    assert raw.notes[0] == "随访.xlsx: sheet(s) '说明' skipped (no header with data rows)"
    assert "随访.xlsx: sheet(s) '统计' not read (declare sheet: to read another)" in raw.notes
    config, notes = infer_config(raw.frame)
    assert config.id_column == "住院号"
    assert "endpoint 死亡: months from 放疗开始日期 to 末次随访日期" in notes
    km = config.survival[0]
    assert (km.event, km.group) == ("死亡", "性别")
    frame = load_prepared(path, config).frame
    expected = [(e - s).days / 30.4375 for s, e in zip(df["放疗开始日期"], df["末次随访日期"], strict=True)]
    assert frame[km.time].to_numpy() == pytest.approx(expected, rel=1e-12)


def test_chinese_workbook_without_config_ends_in_a_report(tmp_path: Path) -> None:
    path = tmp_path / "随访.xlsx"
    _workbook(_follow_up(), path)
    assert main(["analyze", str(path), "--out", str(tmp_path / "report")]) == 0
    html = (tmp_path / "report" / "report.html").read_text("utf-8")
    assert "Kaplan-Meier: 死亡" in html and "说明" in html and "skipped (no header with data rows)" in html


def _error(tmp_path: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert not (tmp_path / "out").exists()
    return err[0]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", b"", "cohort file empty.csv is empty"),
    ("blank.csv", b"\n\n  \n", "cohort file blank.csv is empty"),
    ("export.xlsx", b"id,time,status\n1,2,1\n", "cohort file export.xlsx could not be read as XLSX"),
    ("twice.csv", b"id,time,time,status\n1,2,3,1\n",
     "column name 'time' appears more than once (columns 2 and 3 of the header)"),
    ("unnamed.csv", b"id,,time,status\n1,x,2,1\n2,y,3,0\n", "column 2 of the header has no name but holds data"),
])
def test_hand_made_files_end_in_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                               content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert message in _error(tmp_path, path, capsys)


def test_xlsx_column_named_twice_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["id", "time", "status", "time"])
    wb.active.append(["a", 3, 1, 4])
    wb.save(tmp_path / "twice.xlsx")
    assert "column name 'time' appears more than once (columns 2 and 4" in _error(tmp_path, tmp_path / "twice.xlsx",
                                                                                  capsys)


def test_trailing_separators_are_empty_unnamed_columns_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("id,time,status,,\n1,2,1,,\n2,3,0,,\n")
    raw = load_cohort(tmp_path / "c.csv")
    assert list(raw.frame.columns) == ["id", "time", "status"]
    assert raw.notes == ("c.csv: 2 empty column(s) without a name skipped (column 4, 5)",)


def test_negative_times_are_not_a_survival_time_and_the_guess_says_why() -> None:
    df = pd.DataFrame({"id": range(20), "time": [t - 2 for t in range(20)], "status": [0, 1] * 10})
    config, notes = infer_config(df)
    assert config.survival == []
    assert "'time' looks like a time but 2 value(s) are negative: not used as a survival time" in notes


def test_a_declared_sheet_that_is_missing_names_the_sheets(tmp_path: Path) -> None:
    _workbook(_follow_up(5), tmp_path / "w.xlsx")
    with pytest.raises(ValidationError, match=r"has no sheet 'Data' \(sheets: 说明, 随访, 统计\)"):
        load_cohort(tmp_path / "w.xlsx", sheet="Data")


def test_chinese_time_in_months_and_death_flag_are_an_endpoint() -> None:
    df = pd.DataFrame({"病案号": [f"B{i}" for i in range(20)], "生存时间（月）": [float(t) for t in range(1, 21)],
                       "死亡": [0, 1] * 10, "分组": ["A", "B"] * 10})
    config, notes = infer_config(df)
    km = config.survival[0]
    assert (km.time, km.event, km.group) == ("生存时间_月", "死亡", "分组")
    assert config.columns["生存时间_月"].unit == "months" and config.time_unit == "months"


def test_the_only_time_is_not_given_to_a_second_event() -> None:
    df = pd.DataFrame({"生存时间（月）": [float(t) for t in range(1, 21)], "死亡": [0, 1] * 10, "复发": [1, 0, 0, 0] * 5})
    config, _ = infer_config(df)
    assert config.survival == []  # which event the time belongs to is not guessed
