"""npctrial.fonts: the CJK font is found, figures and PDFs draw Chinese, missing glyphs are named."""

import subprocess
import warnings
from pathlib import Path

import docx
import numpy as np
import pytest
from docx.oxml.ns import qn
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from reportlab.platypus import Paragraph, SimpleDocTemplate

import npctrial.fonts as fonts
from npctrial.errors import MissingGlyphWarning, ValidationError
from npctrial.fonts import discovery

CHINESE = "中性粒细胞计数降低"
HIEROGLYPH = "\U00013000"  # EGYPTIAN HIEROGLYPH A001: neither DejaVu Sans nor Noto Sans CJK has it


def test_public_api_locked() -> None:
    assert sorted(fonts.__all__) == sorted([
        "FontFace", "MissingGlyphs", "PdfFonts", "build_with_fonts", "check_figure_glyphs", "configure_matplotlib",
        "find_cjk_font", "find_font_chain", "find_latin_font", "find_missing_glyphs", "font_fallback",
        "pdf_fonts_for", "set_docx_fonts", "warn_missing_glyphs", "with_font_fallback"])


def test_cjk_font_is_noto_sans_sc_from_fonts_noto_cjk() -> None:
    regular, bold = fonts.find_cjk_font(400), fonts.find_cjk_font(700)
    assert regular is not None and bold is not None
    assert regular.family == bold.family == "Noto Sans CJK SC"
    assert Path(regular.path).name == "NotoSansCJK-Regular.ttc" and Path(bold.path).name == "NotoSansCJK-Bold.ttc"
    assert regular.covers("粒") and not regular.covers(HIEROGLYPH)
    assert [f.family for f in fonts.find_font_chain()] == ["DejaVu Sans", "Noto Sans CJK SC"]


def test_env_font_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NPCTRIAL_CJK_FONT", str(tmp_path / "none.ttc"))
    discovery.find_cjk_font.cache_clear()
    try:
        with pytest.raises(ValidationError, match="NPCTRIAL_CJK_FONT"):
            fonts.find_cjk_font()
    finally:
        monkeypatch.delenv("NPCTRIAL_CJK_FONT")
        discovery.find_cjk_font.cache_clear()


def test_env_font_selects_a_face(monkeypatch: pytest.MonkeyPatch) -> None:
    path = fonts.find_cjk_font().path  # type: ignore[union-attr]
    monkeypatch.setenv("NPCTRIAL_CJK_FONT", f"{path}#3")
    discovery.find_cjk_font.cache_clear()
    try:
        assert fonts.find_cjk_font().family == "Noto Sans CJK TC"  # type: ignore[union-attr]
    finally:
        monkeypatch.delenv("NPCTRIAL_CJK_FONT")
        discovery.find_cjk_font.cache_clear()


def test_missing_glyphs_name_the_text_and_characters() -> None:
    chain = fonts.find_font_chain()
    assert fonts.find_missing_glyphs([CHINESE, "Overall survival ≥ χ²", "a\tb\n"], chain) == ()
    (found,) = fonts.find_missing_glyphs([f"site {HIEROGLYPH}", CHINESE], chain)
    assert found.text == f"site {HIEROGLYPH}" and found.characters == HIEROGLYPH
    assert "U+13000" in found.message and "'site" in found.message
    latin_only = fonts.find_missing_glyphs([CHINESE], chain[:1])
    assert latin_only[0].characters == CHINESE


def _render(text: str) -> np.ndarray:
    with fonts.font_fallback():
        fig = Figure(figsize=(1, 1), dpi=50)
        canvas = FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, text, fontsize=20, ha="center", va="center")
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def test_figure_draws_chinese_glyphs_not_boxes() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b = _render("中"), _render("国")
    box = _render("\ue000")  # a private-use code point: the .notdef box
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert (a < 128).sum() > 20 and not np.array_equal(a, b) and not np.array_equal(a, box)


def test_figure_check_passes_chinese_and_names_undrawable_label() -> None:
    with fonts.font_fallback():
        fig = Figure()
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], label="同步放化疗")
        ax.set_title("总生存率")
        ax.set_yticks([0, 1], ["无", "有"])
        ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingGlyphWarning)
        assert fonts.check_figure_glyphs(fig) == ()
    with fonts.font_fallback():
        ax.set_xlabel(f"months {HIEROGLYPH}")
    with pytest.warns(MissingGlyphWarning, match=r"no available font can draw .*months"):
        (found,) = fonts.check_figure_glyphs(fig, where="figure test")
    assert found.where == "figure test" and found.fonts == ("DejaVu Sans", "Noto Sans CJK SC")


def test_figure_check_sees_text_created_without_the_fallback() -> None:
    fig = Figure()
    fig.add_subplot().set_title("总生存率")  # default font.family: DejaVu Sans only
    with pytest.warns(MissingGlyphWarning, match="总生存率"):
        (found,) = fonts.check_figure_glyphs(fig)
    assert found.fonts == ("DejaVu Sans",)


def _pdf(tmp_path: Path, texts: list[str]) -> tuple[str, str, fonts.PdfFonts]:
    pdf_fonts = fonts.pdf_fonts_for(texts)
    styles = pdf_fonts.stylesheet()
    path = tmp_path / "t.pdf"
    SimpleDocTemplate(str(path), invariant=1).build(
        [Paragraph(pdf_fonts.markup(texts[0]), styles["Title"])]
        + [Paragraph(pdf_fonts.markup(t), styles["BodyText"]) for t in texts[1:]])
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, listing, pdf_fonts


def test_pdf_embeds_a_cjk_subset_and_extracts_as_chinese(tmp_path: Path) -> None:
    texts = ["总生存率 Overall survival", f"{CHINESE} (Neutrophil count decreased) ≥ 3级", "积分 ⚕ here"]
    text, listing, pdf_fonts = _pdf(tmp_path, texts)
    assert "总生存率 Overall survival" in text and CHINESE in text and "3级" in text
    embedded = [line for line in listing.splitlines() if "+NotoSansCJKsc" in line]
    assert len(embedded) == 2 and all(" yes yes yes " in line for line in embedded)  # emb, sub, uni
    assert not fonts.find_cjk_font().covers("⚕")  # type: ignore[union-attr]
    assert "⚕" in text and "+DejaVuSans" in listing  # a glyph Noto CJK lacks comes from DejaVu Sans
    assert pdf_fonts.missing == ()


def test_pdf_english_only_stays_base14(tmp_path: Path) -> None:
    text, listing, pdf_fonts = _pdf(tmp_path, ["Overall survival", "Median 12.5 months (95% CI 10.1-14.0)"])
    assert not pdf_fonts.embedded and pdf_fonts.regular == "Helvetica"
    assert "Median 12.5 months" in text and "TrueType" not in listing


def test_pdf_warns_for_text_no_font_can_draw_and_refuses_undeclared_text(tmp_path: Path) -> None:
    with pytest.warns(MissingGlyphWarning, match=r"PDF: no available font .*site X"):
        pdf_fonts = fonts.pdf_fonts_for(["总生存率", f"site X{HIEROGLYPH}"])
    assert pdf_fonts.missing[0].characters == HIEROGLYPH
    with pytest.raises(ValidationError, match="not declared"):
        pdf_fonts.markup("无进展生存")


def test_docx_names_the_east_asian_font_and_language() -> None:
    document = docx.Document()
    assert fonts.set_docx_fonts(document, ["总生存率"]) == ()
    styles = document.styles.element
    rfonts = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "Noto Sans CJK SC" and rfonts.get(qn("w:eastAsiaTheme")) is None
    lang = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    themed = [s for s in styles.findall(qn("w:style")) if s.find(qn("w:rPr")) is not None
              and s.find(qn("w:rPr")).find(qn("w:rFonts")) is not None
              and s.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsiaTheme"))]
    assert themed == []
    with pytest.warns(MissingGlyphWarning, match="DOCX"):
        fonts.set_docx_fonts(docx.Document(), [HIEROGLYPH])


def test_two_documents_with_different_subsets_both_extract(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _, _ = _pdf(tmp_path / "a", ["标题", "性别 男 女"])
    second, _, _ = _pdf(tmp_path / "b", ["总生存率", f"{CHINESE} 口干 乏力"])  # shares only 性 with the first
    assert "性别 男 女" in first and f"{CHINESE} 口干 乏力" in second and "总生存率" in second
