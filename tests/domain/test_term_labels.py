"""Chinese display names of coded clinical terms, English beside them; coded values unchanged."""

import pytest

from npctrial.domain.term_labels import TERM_KINDS, term_label, untranslated_codes
from npctrial.errors import ValidationError


def test_every_code_npctrial_defines_has_a_chinese_name() -> None:
    assert untranslated_codes() == {}


@pytest.mark.parametrize(("kind", "code", "text"), [
    # CTCAE 5.0 Chinese terminology as used in Chinese hospitals
    ("ctcae_term", "neutrophil_count_decreased", "中性粒细胞计数降低 (Neutrophil count decreased)"),
    ("ctcae_term", "dry_mouth", "口干 (Dry mouth)"),
    ("ctcae_term", "fatigue", "乏力 (Fatigue)"),
    ("ctcae_term", "mucositis_oral", "口腔黏膜炎 (Mucositis oral)"),
    ("ctcae_term", "dermatitis_radiation", "放射性皮炎 (Dermatitis radiation)"),
    ("ctcae_term", "febrile_neutropenia", "发热性中性粒细胞减少症 (Febrile neutropenia)"),
    ("ctcae_grade", 3, "3级（重度） (Grade 3)"),
    ("ctcae_soc", "Gastrointestinal disorders", "胃肠系统疾病 (Gastrointestinal disorders)"),
    ("rtog_organ", "salivary_gland", "唾液腺 (Salivary gland)"),
    ("rtog_scale", "late", "晚期放射损伤 (Late)"),
    ("recist_response", "PR", "部分缓解 (PR)"),
    ("recist_response", "NON_CR_NON_PD", "非完全缓解/非疾病进展 (Non-CR/non-PD)"),
    ("stage_group", "IVA", "IVA期 (Stage IVA)"),
])
def test_chinese_label_with_english_beside_it(kind: str, code: object, text: str) -> None:
    label = term_label(kind, code, "zh-hans")
    assert label.text == text and str(label) == text
    assert label.code == str(code)  # the coded value is untouched


def test_english_reader_sees_the_english_term_only() -> None:
    assert term_label("ctcae_term", "dry_mouth", "en-gb").text == "Dry mouth"
    assert term_label("recist_response", "CR", None).text == "CR"
    assert term_label("ctcae_term", "dry_mouth", "zh").translated == "口干"


def test_unknown_code_shows_its_own_text_and_bad_kind_is_refused() -> None:
    assert term_label("ctcae_term", "pneumonitis_custom", "zh-hans").text == "pneumonitis_custom"
    with pytest.raises(ValidationError, match="kind must be one of") as err:
        term_label("meddra", "x", "zh-hans")
    assert err.value.field == "kind" and len(TERM_KINDS) == 7
