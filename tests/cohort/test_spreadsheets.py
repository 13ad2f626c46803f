"""Files as hospitals export them: an XLSX with a title row above the header, formulas and a hidden
sheet (openpyxl), and an SPSS .sav file with value labels (pyreadstat); both give the same analysis
as the demo cohort in CSV."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
import yaml

from npctrial.cohort import load_cohort, load_config, make_demo_cohort, run_analysis
from npctrial.cohort.pipeline import load_prepared
from npctrial.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-2016.yaml"
TITLE = "NPC cohort export - Department of Radiation Oncology (generated 2016-03-01)"


def write_hospital_xlsx(df: pd.DataFrame, path: Path, *, cached: bool) -> None:
    """A hidden lookup sheet first; on the data sheet a title row, an empty row, the header, and a
    formula column (age in months = age * 12). With ``cached`` the formulas carry the values Excel
    saves with the file (openpyxl cannot compute them: they are written into the sheet XML)."""
    wb = openpyxl.Workbook()
    lists = wb.active
    lists.title = "Lists"
    lists.append(["T1", "T2", "T3", "T4"])
    lists.sheet_state = "hidden"
    ws = wb.create_sheet("Cohort")
    ws.append([TITLE])
    ws.append([])
    ws.append([*df.columns, "age_months"])
    age_col = openpyxl.utils.get_column_letter(list(df.columns).index("age") + 1)
    for i, rec in enumerate(df.itertuples(index=False), start=4):
        ws.append([None if v == "" else v for v in rec] + [f"={age_col}{i}*12"])
    wb.save(path)
    if not cached:
        return
    ages = {i: int(a) * 12 for i, a in enumerate(df["age"], start=4)}
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    sheet = "xl/worksheets/sheet2.xml"
    xml = parts[sheet].decode()
    xml = re.sub(r'<c r="([A-Z]+)(\d+)"><f>([^<]*)</f><v></v></c>',
                 lambda m: f'<c r="{m[1]}{m[2]}"><f>{m[3]}</f><v>{ages[int(m[2])]}</v></c>', xml)
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return make_demo_cohort(1)


def test_xlsx_title_row_formulas_and_hidden_sheet_read_like_the_csv(demo: pd.DataFrame, tmp_path: Path) -> None:
    demo.to_csv(tmp_path / "c.csv", index=False)
    write_hospital_xlsx(demo, tmp_path / "c.xlsx", cached=True)
    raw = load_cohort(tmp_path / "c.xlsx")
    assert raw.rows[0] == 4 and raw.rows[-1] == 3 + len(demo)  # spreadsheet rows: title, blank, header
    assert raw.frame["age_months"].tolist() == [a * 12 for a in demo["age"]]
    assert f"sheet 'Cohort', header on row 3 (rows above it skipped: '{TITLE}')" in raw.notes[0]
    cfg = load_config(EXAMPLE)
    from_xlsx = load_prepared(tmp_path / "c.xlsx", cfg).frame
    from_csv = load_prepared(tmp_path / "c.csv", cfg).frame
    pd.testing.assert_frame_equal(from_xlsx.reset_index(drop=True), from_csv.reset_index(drop=True),
                                  check_exact=True)


def test_xlsx_errors_name_the_spreadsheet_row(demo: pd.DataFrame, tmp_path: Path) -> None:
    bad = demo.head(30).copy()
    bad.loc[6, "t_stage_7th"] = "T5"
    write_hospital_xlsx(bad, tmp_path / "bad.xlsx", cached=True)
    with pytest.raises(ValidationError, match=r"row 10 \(patient NPC0007\), column 't_stage_7th': got 'T5'"):
        load_prepared(tmp_path / "bad.xlsx", load_config(EXAMPLE))


def test_formula_without_a_saved_value_is_an_error_naming_the_cell(demo: pd.DataFrame, tmp_path: Path) -> None:
    write_hospital_xlsx(demo.head(5), tmp_path / "f.xlsx", cached=False)
    col = openpyxl.utils.get_column_letter(len(demo.columns) + 1)
    with pytest.raises(ValidationError, match=f"cell {col}4 holds the formula '=.4\\*12' but no saved value"):
        load_cohort(tmp_path / "f.xlsx")


def test_xlsx_report_without_config(demo: pd.DataFrame, tmp_path: Path) -> None:
    write_hospital_xlsx(demo, tmp_path / "c.xlsx", cached=True)
    report = run_analysis(tmp_path / "c.xlsx", tmp_path / "out")
    assert report.n_rows == len(demo) and report.table("table1").frame.iloc[0]["Total"] == len(demo)
    assert any("header on row 3" in r for r in report.reading)


def test_spss_value_labels(demo: pd.DataFrame, tmp_path: Path) -> None:
    coded = demo.copy()
    codes = {"sex": {"Male": 1, "Female": 2}, "treatment": {"RT alone": 1, "Chemoradiotherapy": 2}}
    for col, mapping in codes.items():
        coded[col] = coded[col].map(mapping).astype(float)
    labels = {col: {float(v): k for k, v in mapping.items()} for col, mapping in codes.items()}
    pyreadstat.write_sav(coded, str(tmp_path / "c.sav"), variable_value_labels=labels)
    raw = load_cohort(tmp_path / "c.sav")
    assert raw.row_word == "case" and raw.rows[0] == 1
    assert set(raw.frame["sex"]) == {"Male", "Female"}
    assert any("value labels applied to sex, treatment" in n for n in raw.notes)
    cfg = yaml.safe_load(EXAMPLE.read_text())
    prepared = load_prepared(tmp_path / "c.sav", load_config(cfg))
    demo.to_csv(tmp_path / "c.csv", index=False)
    csv = load_prepared(tmp_path / "c.csv", load_config(cfg))
    for col in ("sex", "treatment", "stage", "os_months"):
        assert prepared.frame[col].tolist() == csv.frame[col].tolist()
    report = run_analysis(tmp_path / "c.sav", tmp_path / "sav_report", config=EXAMPLE)
    t1 = report.table("table1").frame
    assert t1.loc[t1["Level"] == "RT alone", ["Yes", "No"]].values.tolist() == [[5, 52]]  # the paper's Table 1


def test_spss_case_numbers_in_errors(demo: pd.DataFrame, tmp_path: Path) -> None:
    bad = demo.head(20).copy()
    bad.loc[3, "death"] = 7
    pyreadstat.write_sav(bad, str(tmp_path / "bad.sav"))
    with pytest.raises(ValidationError, match=r"case 4 \(patient NPC0004\), column 'death': got '7'"):
        load_prepared(tmp_path / "bad.sav", load_config(EXAMPLE))
