"""npctrial analyze on the demo cohort with examples/paper-2016.yaml: the paper's Table 1 p-values and the report files."""

import filecmp
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
from PIL import Image

from npctrial.cohort import (
    association_table,
    load_config,
    make_demo_cohort,
    prepare_cohort,
    run_analysis,
)
from npctrial.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-2016.yaml"

# Table 1 of Chen et al., SpringerPlus 2016;5:1459, "p value" column, as printed.
PAPER_P = {
    "Age (years)": "0.250",
    "Gender": "0.530",
    "WHO histology": "0.960",
    "2010 UICC/AJCC T staging": "0.034",
    "2010 UICC/AJCC N staging": "<0.001",
    "2010 UICC/AJCC staging": "<0.001",
    "Treatment modality": "0.075",
    "Recurrence": "0.029",
}
# Table 1 counts (metastasis yes, no) for the first level of each variable, as printed.
PAPER_FIRST_LEVEL = {"T1": (5, 59), "N0": (3, 65), "I": (0, 21), "RT alone": (5, 52), "Yes": (15, 39)}


def two_significant_digits_truncated(p: float) -> float:
    exponent = 0
    while p * 10**exponent < 10:
        exponent += 1
    return int(p * 10**exponent) / 10**exponent


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    base = tmp_path_factory.mktemp("e2e")
    cohort = base / "cohort.csv"
    make_demo_cohort(1).to_csv(cohort, index=False)
    report = run_analysis(cohort, base / "report", config=EXAMPLE)
    run_analysis(cohort, base / "again", config=EXAMPLE)
    return base / "report", base / "again", report


def test_table1_p_values_match_the_paper(runs: tuple) -> None:
    out, _, _ = runs
    t1 = pd.read_csv(out / "tables" / "table1.csv", keep_default_na=False)
    firsts = t1[t1["Characteristic"].isin(PAPER_P)]
    assert set(firsts["Characteristic"]) == set(PAPER_P)
    # unrounded p-values through the same config (the report prints them to 3 decimals)
    cfg = load_config(EXAMPLE)
    frame, _, _ = prepare_cohort(out.parent / "cohort.csv", cfg)
    a = cfg.association
    assert a is not None
    raw_p = association_table(frame, a.outcome, a.variables, labels={v: cfg.label(v) for v in a.variables}).p_values()
    raw_p = {cfg.label(k): v for k, v in raw_p.items()}
    for _, row in firsts.iterrows():
        name = row["Characteristic"]
        printed = PAPER_P[name]
        ours = row["p value"].rstrip("*\u2020")
        if printed == "<0.001":
            assert ours == "<0.001", name
            assert raw_p[name] < 0.001
            assert row["Test"].startswith("Fisher")  # an expected count < 5 (N3: 4.6; stage I: 3.6)
        else:
            assert row["Test"] == "Pearson chi-square", name
            assert ours == f"{raw_p[name]:.3f}"
            # The paper prints p at two significant digits, truncated, padded to 3 decimals
            # (its own counts give 0.2534 -> "0.250", 0.5353 -> "0.530", 0.9657 -> "0.960",
            # 0.03404 -> "0.034"): compare at that printed precision.
            assert two_significant_digits_truncated(raw_p[name]) == pytest.approx(float(printed), abs=1e-12), name
        assert (row["p value"].endswith("*") or row["p value"].endswith("*\u2020")) == (raw_p[name] < 0.05)


def test_table1_p_values_exact_precision(runs: tuple) -> None:
    _, _, report = runs
    from npctrial.cohort.report import CohortReport

    assert isinstance(report, CohortReport)
    # recompute from the report's own counts: every printed p agrees at two significant digits
    t1 = report.table("table1").frame
    assert t1.loc[0, "Yes"] == 91 and t1.loc[0, "No"] == 439
    for level, (yes, no) in PAPER_FIRST_LEVEL.items():
        row = t1[t1["Level"] == level].iloc[0]
        assert (row["Yes"], row["No"]) == (yes, no)


def test_report_files(runs: tuple) -> None:
    out, _, report = runs

    class Collect(HTMLParser):
        tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tags.append(tag)

    parser = Collect()
    parser.feed((out / "report.html").read_text("utf-8"))
    parser.close()
    assert parser.tags.count("table") >= len(report.tables)
    assert parser.tags.count("svg") == len(report.figures)
    html_text = (out / "report.html").read_text("utf-8")
    assert "chi-square test without continuity correction" in html_text
    assert "scipy" in html_text

    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type /Page(?!s)", pdf))
    assert pages >= 1 + len(report.figures)

    wb = openpyxl.load_workbook(out / "tables.xlsx")
    assert {"table1", "acute_toxicity", "late_toxicity", "table4"} <= set(wb.sheetnames)
    assert wb["table1"]["A1"].value.startswith("Table 1")

    doc = docx.Document(str(out / "tables.docx"))
    assert len(doc.tables) == len(report.tables)

    for fig in report.figures:
        with Image.open(out / fig.png) as im:
            assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)
        assert ET.parse(out / fig.svg).getroot().tag.endswith("svg")


def test_toxicity_tables_in_report(runs: tuple) -> None:
    out, _, _ = runs
    acute = pd.read_csv(out / "tables" / "acute_toxicity.csv", keep_default_na=False)
    # Table 2: mucositis grade 1 130 (24.5 %); leukopenia grade 3 25 (4.7 %)
    assert acute.loc[acute.Toxicity == "Mucositis", "Grade 1, n (%)"].item() == "130 (24.5)"
    assert acute.loc[acute.Toxicity == "Leukopenia", "Grade 3, n (%)"].item() == "25 (4.7)"


def test_rerun_is_byte_identical(runs: tuple) -> None:
    out, again, _ = runs
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    mismatch = [str(f) for f in files if not filecmp.cmp(out / f, again / f, shallow=False)]
    assert mismatch == []


def test_bad_input_stops_before_writing(tmp_path: Path, runs: tuple) -> None:
    df = make_demo_cohort(1)
    df.loc[4, "t_stage_7th"] = "T5"
    df.loc[9, "death"] = 2
    df.loc[11, "rt_start_date"] = "31/31/2009"
    cohort = tmp_path / "bad.csv"
    df.to_csv(cohort, index=False)
    out = tmp_path / "report"
    with pytest.raises(ValidationError) as info:
        run_analysis(cohort, out, config=EXAMPLE)
    msg = str(info.value)
    # spreadsheet rows (header = row 1), the patient and the value as written
    assert "row 6 (patient NPC0005), column 't_stage_7th': got 'T5'" in msg
    assert "row 11 (patient NPC0010), column 'death': got '2'" in msg
    assert "row 13 (patient NPC0012), column 'rt_start_date': got '31/31/2009'" in msg
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_drop_invalid_lists_excluded_rows(tmp_path: Path) -> None:
    df = make_demo_cohort(1)
    df.loc[4, "t_stage_7th"] = "T5"
    cohort = tmp_path / "bad.csv"
    df.to_csv(cohort, index=False)
    report = run_analysis(cohort, tmp_path / "out", config=EXAMPLE, drop_invalid=True)
    assert report.n_rows == 530 and report.n_analysed == 529
    excluded = pd.read_csv(tmp_path / "out" / "excluded_rows.csv")
    assert excluded[["row", "patient", "column", "value"]].values.tolist() == [[6, "NPC0005", "t_stage_7th", "T5"]]
    assert "Excluded rows" in (tmp_path / "out" / "report.html").read_text("utf-8")


def test_metastasis_timing_and_sites_match_the_paper(runs: tuple) -> None:
    out, _, _ = runs
    # Results: "cumulative metastatic rates at 1-, 2-, and 3-years were 38.5 % (35/91),
    # 70.3 % (64/91) and 95.6 % (87/91)"; sites: multi-organ 36.3 % (33/91), lung 23.1 % (21/91),
    # bone 19.8 % (18/91), liver 14.3 % (13/91), other 6 of 91.
    timing = pd.read_csv(out / "tables" / "metastasis_timing.csv")
    assert timing["n"].tolist()[:3] == [35, 64, 87]
    assert timing["%"].tolist()[:3] == [38.5, 70.3, 95.6]
    sites = pd.read_csv(out / "tables" / "metastatic_sites.csv").set_index("Level")
    assert sites.loc[["Multiple", "Lung", "Bone", "Liver"], "%"].tolist() == [36.3, 23.1, 19.8, 14.3]
    assert sites.loc["Other", "n"] == 6


def test_report_summary_and_frame_list_every_output(runs: tuple) -> None:
    out, _, report = runs
    csvs = sorted(p.stem for p in (out / "tables").glob("*.csv"))
    pngs = sorted(p.stem for p in (out / "figures").glob("*.png"))
    frame = report.to_frame()
    assert sorted(frame.loc[frame.kind == "table", "name"]) == csvs
    assert sorted(frame.loc[frame.kind == "figure", "name"]) == pngs
    for name in csvs:
        rows = len(pd.read_csv(out / "tables" / f"{name}.csv"))
        assert frame.loc[(frame.kind == "table") & (frame.name == name), "rows"].item() == rows
    text = report.summary()
    assert all(f"table  {n}:" in text for n in csvs) and all(f"figure {n}:" in text for n in pngs)
    with pytest.raises(KeyError, match="no table 'nope'"):
        report.table("nope")


def test_pdf_keeps_titles_with_their_tables_and_captions_with_their_figures(runs: tuple) -> None:
    import subprocess

    out, _, report = runs
    pages = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    titles = {t.title[:60] for t in report.tables}
    captions = {f.title[:60] for f in report.figures}
    images = subprocess.run(["pdfimages", "-list", str(out / "report.pdf")], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    image_pages = {int(line.split()[0]) for line in images}
    assert len(image_pages) >= 1
    for k, page in enumerate(pages):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        if not lines or lines[-1][:60] not in titles:
            continue
        # a figure's caption sits below its image: a page may end with it when the page holds the image
        assert lines[-1][:60] in captions and k + 1 in image_pages, f"page {k + 1} ends with the title {lines[-1]!r}"
    for fig in report.figures:
        # figures follow the tables: the caption's last occurrence (a table may share the title)
        page = max(k + 1 for k, p in enumerate(pages) if fig.title[:40] in " ".join(p.split()))
        assert page in image_pages, fig.title


def test_figures_are_captioned_as_figures(runs: tuple) -> None:
    _, _, report = runs
    captions = [f.title for f in report.figures]
    assert all(c.startswith("Figure") for c in captions)
    assert any("Frequency of acute toxicity during IMRT (data in Table 2)" in c for c in captions)
