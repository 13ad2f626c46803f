"""npctrial analyze --lang zh: the report's own wording in Simplified Chinese (HTML, PDF, DOCX,
XLSX, figures), the analyses unchanged; the npctrial catalogue compiled and complete."""

import gettext
import re
import subprocess
import warnings
from pathlib import Path

import docx
import numpy as np
import openpyxl
import pytest

from npctrial.cohort import make_demo_cohort, run_analysis
from npctrial.errors import MissingGlyphWarning, ValidationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-2016.yaml"
PO = Path(__file__).resolve().parents[2] / "src" / "npctrial" / "locale" / "zh_Hans" / "LC_MESSAGES" / "npctrial.po"
CJK = re.compile(r"[\u4e00-\u9fff]")
# headers that are the same in Chinese medical papers, and the example config's own English labels
UNCHANGED = {"%", "95% CI", "HR", "N", "n", "p", "Yes", "No", "Yes (%)", "No (%)", "1 - KM（%）",
             "Metastasis by the landmark", "No metastasis by the landmark"}


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("lang")
    make_demo_cohort(1).to_csv(base / "cohort.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zh_report = run_analysis(base / "cohort.csv", base / "zh", config=EXAMPLE, language="zh")
    en_report = run_analysis(base / "cohort.csv", base / "en", config=EXAMPLE)
    return base, zh_report, en_report, caught


def test_catalogue_compiled_and_complete(tmp_path: Path) -> None:
    fresh = tmp_path / "npctrial.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(PO)], check=True, capture_output=True)
    with PO.with_suffix(".mo").open("rb") as a, fresh.open("rb") as b:
        assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog  # type: ignore[attr-defined]
    untranslated = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", str(PO)], check=True,
                                  capture_output=True, text=True).stdout
    assert untranslated == ""


def test_same_numbers_chinese_headers(zh) -> None:
    _, zh_report, en_report, caught = zh
    assert not [w for w in caught if issubclass(w.category, MissingGlyphWarning)]
    for zt, et in zip(zh_report.tables, en_report.tables, strict=True):
        assert zt.frame.shape == et.frame.shape and zt.title == et.title  # titles come from the config
        numeric = [c for c in et.frame.columns if et.frame[c].dtype != object]
        zh_numbers = zt.frame[[zt.frame.columns[list(et.frame.columns).index(c)] for c in numeric]].to_numpy(float)
        assert np.array_equal(zh_numbers, et.frame[numeric].to_numpy(float), equal_nan=True)  # NA past follow-up
        left = [c for c in map(str, zt.frame.columns) if not CJK.search(c) and c not in UNCHANGED]
        assert left == [], (zt.name, left)
    t1 = zh_report.table("table1").frame
    assert list(t1.columns[:2]) == ["特征", "分层"] and t1.iloc[0, 0] == "全部病例"
    assert "Pearson 卡方检验" in set(t1["检验方法"])
    assert any(n.startswith("Log-rank 检验：χ² = ") for n in zh_report.table("os_by_metastasis").notes)
    assert zh_report.methods.startswith("基线因素与结局的关联")


def test_html_pdf_docx_xlsx_in_chinese(zh) -> None:
    base, _, _, _ = zh
    html = (base / "zh" / "report.html").read_text("utf-8")
    assert '<html lang="zh-Hans">' in html and "<h2>方法</h2>" in html and "<h2>软件</h2>" in html
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(base / "zh" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "基线因素与结局的关联" in text and "全部病例" in text and "软件：" in text
    cells = {c.text for t in docx.Document(str(base / "zh" / "tables.docx")).tables for row in t.rows
             for c in row.cells}
    assert {"特征", "分层", "合计"} <= cells
    wb = openpyxl.load_workbook(base / "zh" / "tables.xlsx")
    assert wb["table1"].cell(row=3, column=1).value == "特征"


def test_figures_axes_in_chinese(zh) -> None:
    from npctrial.cohort import survival_analysis
    from npctrial.cohort.figures import km_figure
    from npctrial.i18n import translator

    frame = make_demo_cohort(1).assign(t=lambda d: d["age"] / 3.0)
    fig = km_figure(survival_analysis(frame, name="x", title="x", time="t", event="death", group="sex"),
                    tr=translator("zh"))
    texts = {t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))}
    assert {"时间（月）", "生存率", "风险人数"} <= texts


def test_unknown_language_is_refused_before_any_work(tmp_path: Path) -> None:
    make_demo_cohort(1).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValidationError, match="language must be one of en, zh") as err:
        run_analysis(tmp_path / "c.csv", tmp_path / "out", config=EXAMPLE, language="fr")
    assert err.value.field == "lang" and not (tmp_path / "out").exists()
