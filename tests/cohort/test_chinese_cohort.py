"""A cohort file with Chinese column names and level labels, end to end: analyze -> HTML, PDF
(pdftotext), DOCX, XLSX and figures, with Chinese text and no missing glyph."""

import subprocess
import warnings
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
import yaml

from npctrial.cohort import make_demo_cohort, run_analysis
from npctrial.errors import MissingGlyphWarning

COLUMNS = {"patient_id": "住院号", "age": "年龄", "sex": "性别", "t_stage_7th": "T分期", "n_stage_7th": "N分期",
           "treatment": "治疗方式", "rt_start_date": "放疗开始日期", "metastasis": "远处转移",
           "metastasis_date": "转移日期", "metastasis_site": "转移部位", "death": "死亡",
           "last_followup_date": "末次随访日期", "acute_mucositis": "急性口腔黏膜炎", "acute_xerostomia": "急性口干"}
LEVELS = {"性别": {"Male": "男", "Female": "女"}, "治疗方式": {"RT alone": "单纯放疗", "Chemoradiotherapy": "放化疗"},
          "转移部位": {"Lung": "肺", "Bone": "骨", "Liver": "肝", "Multiple": "多发", "Other": "其他"}}

CONFIG = {
    "title": "鼻咽癌调强放疗队列：远处转移与生存",
    "id_column": "id",
    "columns": {
        "id": {"column": "住院号"},
        "age": {"column": "年龄", "type": "number", "min": 10, "max": 100, "label": "年龄（岁）"},
        "sex": {"column": "性别", "levels": ["男", "女"], "label": "性别"},
        "t_stage": {"column": "T分期", "levels": ["T1", "T2", "T3", "T4"], "label": "T分期"},
        "n_stage": {"column": "N分期", "levels": ["N0", "N1", "N2", "N3"], "label": "N分期"},
        "treatment": {"column": "治疗方式", "levels": ["单纯放疗", "放化疗"], "label": "治疗方式"},
        "rt_start": {"column": "放疗开始日期", "type": "date"},
        "metastasis": {"column": "远处转移", "type": "binary", "levels": ["0", "1"], "label": "远处转移"},
        "metastasis_date": {"column": "转移日期", "type": "date", "allow_missing": True},
        "metastasis_site": {"column": "转移部位", "levels": ["肺", "骨", "肝", "多发", "其他"], "allow_missing": True,
                            "label": "转移部位"},
        "death": {"column": "死亡", "type": "binary", "label": "死亡"},
        "last_followup": {"column": "末次随访日期", "type": "date"},
        "mucositis": {"column": "急性口腔黏膜炎", "type": "grade", "label": "口腔黏膜炎"},
        "xerostomia": {"column": "急性口干", "type": "grade", "label": "口干"},
    },
    "derived": [
        {"name": "os_months", "kind": "duration", "start": "rt_start", "end": ["last_followup"], "label": "总生存时间（月）"},
        {"name": "dmfs_months", "kind": "duration", "start": "rt_start", "end": ["metastasis_date", "last_followup"],
         "label": "无远处转移时间（月）"},
    ],
    "association": {"title": "表1 临床特征与远处转移的关系", "outcome": "metastasis",
                    "outcome_labels": {"1": "有", "0": "无"}, "variables": ["sex", "t_stage", "n_stage", "treatment"]},
    "toxicity": [{"name": "acute_toxicity", "title": "表2 急性毒性反应", "variables": ["mucositis", "xerostomia"]}],
    "survival": [{"name": "os_by_treatment", "title": "图1 不同治疗方式的总生存", "time": "os_months", "event": "death",
                  "group": "treatment", "landmarks": [12, 36, 60]}],
    "competing_risks": [{"name": "cif_by_treatment", "title": "远处转移累积发生率（死亡为竞争风险）", "time": "dmfs_months",
                         "event": "metastasis", "competing": "death", "group": "treatment", "landmarks": [12, 36]}],
    "cox": {"title": "表3 总生存的Cox回归分析", "time": "os_months", "event": "death",
            "covariates": ["sex", "treatment", "t_stage"], "categorical": ["sex", "treatment", "t_stage"],
            "multivariate": ["sex", "treatment", "t_stage"], "reference": {"treatment": "单纯放疗", "sex": "男"}},
}


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, list]:
    base = tmp_path_factory.mktemp("zh")
    df = make_demo_cohort(1)[list(COLUMNS)].rename(columns=COLUMNS)
    for col, mapping in LEVELS.items():
        df[col] = df[col].map(lambda v, m=mapping: m.get(v, v))
    cohort = base / "队列.xlsx"
    df.to_excel(cohort, index=False)
    config = base / "研究.yaml"
    config.write_text(yaml.safe_dump(CONFIG, allow_unicode=True), "utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = run_analysis(cohort, base / "报告", config=config)
    return base / "报告", report, caught


def test_no_missing_glyph_anywhere(chinese_run: tuple) -> None:
    _, report, caught = chinese_run
    assert not [w for w in caught if issubclass(w.category, MissingGlyphWarning) or "missing from font" in str(w.message)]
    assert not [w for w in report.warnings if "font" in w]


def test_html_has_the_chinese_labels(chinese_run: tuple) -> None:
    out, _, _ = chinese_run
    html = (out / "report.html").read_text("utf-8")
    for text in ("鼻咽癌调强放疗队列", "表1 临床特征与远处转移的关系", "单纯放疗", "放化疗", "口干"):
        assert text in html
    assert "Noto Sans CJK SC" in html  # CSS font stack


def test_pdf_embeds_cjk_and_extracts_as_chinese(chinese_run: tuple) -> None:
    out, _, _ = chinese_run
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    for label in ("鼻咽癌调强放疗队列", "表1 临床特征与远处转移的关系", "单纯放疗", "性别", "图1 不同治疗方式的总生存"):
        assert label in text, label
    listing = subprocess.run(["pdffonts", str(out / "report.pdf")], capture_output=True, text=True, check=True).stdout
    assert "+NotoSansCJKsc-Regular" in listing and "+NotoSansCJKsc-Bold" in listing


def test_docx_and_xlsx_carry_chinese(chinese_run: tuple) -> None:
    out, _, _ = chinese_run
    document = docx.Document(str(out / "tables.docx"))
    body = "\n".join(p.text for p in document.paragraphs)
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert "表1 临床特征与远处转移的关系" in body and {"单纯放疗", "放化疗"} <= cells
    assert 'w:eastAsia="Noto Sans CJK SC"' in document.styles.element.xml
    wb = openpyxl.load_workbook(out / "tables.xlsx")
    values = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    assert "表1 临床特征与远处转移的关系" in values and "单纯放疗" in values


def test_figures_draw_the_chinese_group_labels(chinese_run: tuple) -> None:
    from npctrial.cohort import survival_analysis
    from npctrial.cohort.figures import km_figure
    from npctrial.fonts import check_figure_glyphs

    out, report, _ = chinese_run
    frame = pd.DataFrame({"t": [1.0, 5, 8, 12, 3, 9], "e": [1, 0, 1, 1, 0, 1],
                          "治疗方式": ["单纯放疗"] * 3 + ["放化疗"] * 3})
    fig = km_figure(survival_analysis(frame, name="os", title="图1 总生存", time="t", event="e", group="治疗方式"),
                    xlabel="时间（月）")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["单纯放疗 (n=3)", "放化疗 (n=3)"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingGlyphWarning)
        assert check_figure_glyphs(fig) == ()
    assert {f.name for f in report.figures} >= {"os_by_treatment", "cif_by_treatment", "forest", "acute_toxicity"}
    assert (out / "figures" / "os_by_treatment.png").stat().st_size > 10_000


def test_label_no_font_can_draw_is_listed_in_the_report(tmp_path: Path) -> None:
    df = make_demo_cohort(2)[["patient_id", "treatment", "rt_start_date", "death", "last_followup_date"]]
    df["treatment"] = df["treatment"].map({"RT alone": "RT \U00013000", "Chemoradiotherapy": "CRT"})
    df.to_csv(tmp_path / "c.csv", index=False)
    config = {"title": "t", "id_column": "id", "columns": {
        "id": {"column": "patient_id"}, "treatment": {"column": "treatment", "levels": ["RT \U00013000", "CRT"]},
        "rt_start": {"column": "rt_start_date", "type": "date"}, "death": {"column": "death", "type": "binary"},
        "last": {"column": "last_followup_date", "type": "date"}},
        "derived": [{"name": "os", "kind": "duration", "start": "rt_start", "end": ["last"]}],
        "survival": [{"name": "os", "title": "OS", "time": "os", "event": "death", "group": "treatment"}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config), "utf-8")
    with pytest.warns(MissingGlyphWarning):
        report = run_analysis(tmp_path / "c.csv", tmp_path / "out", config=tmp_path / "c.yaml")
    named = [w for w in report.warnings if "no available font can draw" in w]
    assert any(w.startswith("figure os:") and "RT \U00013000" in w for w in named)
    assert any(w.startswith("report text:") for w in named)
    assert (tmp_path / "out" / "report.pdf").exists()  # still written, with the warning listed
