"""Protocol schema, loader and the rule expression language."""

from __future__ import annotations

import re

import pytest
import yaml

from npctrial.domain.protocol import available_protocols, load_protocol, parse_protocol
from npctrial.domain.rules import MISSING, parse_rule
from npctrial.errors import ProtocolError, ValidationError
from tests.conftest import SHARED


def _seed(prefix: str) -> str:
    (path,) = sorted((SHARED / "seeds").glob(f"{prefix}_*.txt"))
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


SEEDS = {"imrt-s1": "000", "ccrt-nimotuzumab": "001"}


def test_shipped_protocols_are_listed_and_load() -> None:
    assert available_protocols() == ("ccrt-nimotuzumab", "imrt-s1")
    for name in available_protocols():
        p = load_protocol(name)
        assert p.id == name


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_criterion_wording_is_verbatim_from_the_seed(name: str) -> None:
    seed = _seed(SEEDS[name])
    p = load_protocol(name)
    for c in p.criteria:
        assert _norm(c.wording) in seed, c.id
    for table in p.dosing:
        assert table.wording is not None and _norm(table.wording) in seed


# Every eligibility item of seed 000, in the seed's order (written from the protocol text).
IMRT_S1_INCLUSION = [
    "locally advanced NPC according to the American Joint Committee on Cancer (AJCC) Staging System (the eighth edition)",
    "performance status of 0 or 1",
    "at least one measurable lesion",
    "white blood cell counts",
    "hemoglobin level ≥100g/L",
    "platelet counts",
    "total bilirubin level ≤1.5 mg/dl",
    "aspartate aminotransferase levels ≤1.5 times the upper limit of normal",
    "creatinine ≤ 1.5 times the upper limit of normal",
]
IMRT_S1_EXCLUSION = [
    "previous radiotherapy",
    "any other type of malignancy",
    "pregnancy or lactation",
    "allergy to S-1",
    "obvious dysfunction of liver, renal, cardiac or lung function",
    "uncontrolled infection",
    "systemic metastasis or distant metastasis",
    "severe gastrointestinal diseases",
    "mental disorders",
]


def test_imrt_s1_has_every_seed_criterion() -> None:
    p = load_protocol("imrt-s1")
    inclusion = [c.wording for c in p.criteria if c.kind == "inclusion"]
    exclusion = [c.wording for c in p.criteria if c.kind == "exclusion"]
    for phrase in IMRT_S1_INCLUSION:
        assert any(phrase in w for w in inclusion), phrase
    for phrase in IMRT_S1_EXCLUSION:
        assert any(phrase in w for w in exclusion), phrase
    assert len(inclusion) == len(IMRT_S1_INCLUSION)
    assert len(exclusion) == len(IMRT_S1_EXCLUSION)


def test_nimotuzumab_protocol_has_population_high_risk_and_randomisation() -> None:
    p = load_protocol("ccrt-nimotuzumab")
    wordings = " ".join(c.wording for c in p.criteria)
    assert "stage II-IVa" in wordings
    assert "DNA> 0 copy/mL" in wordings and "SD/PD" in wordings
    assert p.randomisation is not None
    assert [a.code for a in p.randomisation.arms] == ["CCRT", "CCRT+NIMO"]
    assert p.randomisation.method in ("minimisation", "permuted_block")
    for factor in p.randomisation.stratification:
        p.field(factor)


def test_imrt_s1_dose_bands_follow_the_protocol_text() -> None:
    # "BSA<1.25m2, 30mg; BSA: 1.25-1.5m2, 40mg; BSA>1.5m2, 50mg"
    table = load_protocol("imrt-s1").dose_table("S-1")

    def dose(bsa: float) -> float:
        (band,) = [b for b in table.bands if b.contains(bsa)]
        return band.mg_per_dose

    assert dose(1.24) == 30
    assert dose(1.25) == 40
    assert dose(1.50) == 40
    assert dose(1.51) == 50
    assert 1.5 in table.ambiguous_boundaries


def test_follow_up_plan_of_imrt_s1_is_3_then_6_then_12_months() -> None:
    plan = load_protocol("imrt-s1").follow_up
    assert plan is not None and plan.anchor == "rt_end"
    assert [p.interval_months for p in plan.periods] == [3, 6, 12]
    assert plan.periods[1].to_month == 60 and plan.periods[-1].to_month is None


def test_primary_endpoints_of_imrt_s1() -> None:
    p = load_protocol("imrt-s1")
    assert {e.name for e in p.endpoints if e.primary} == {"AE_RATE", "PFS"}
    pfs = p.endpoint("PFS")
    assert pfs.origin == "enrolment" and set(pfs.events) == {"progression", "death"}


def test_subject_id_pattern() -> None:
    p = load_protocol("imrt-s1")
    assert p.format_subject_id("01", 7) == "IMRT-01-007"  # the study prefix: IDs unique across studies
    assert load_protocol("ccrt-nimotuzumab").format_subject_id("GZ", 12) == "NIMO-GZ-012"
    with pytest.raises(ValidationError, match="seq"):
        p.format_subject_id("01", 0)


# --------------------------------------------------------------------------- invalid protocols


def _minimal() -> dict:
    return yaml.safe_load(
        """
id: demo
title: Demo
version: "1"
source: test
fields:
  - {name: hb, label: Haemoglobin, type: number, unit: g/L}
  - {name: ecog, label: ECOG, type: int, min: 0, max: 5}
criteria:
  - {id: I1, kind: inclusion, wording: "Hb >= 100 g/L", rule: "hb >= 100"}
  - {id: I2, kind: inclusion, wording: "ECOG 0-1", rule: "ecog <= 1"}
"""
    )


def test_minimal_protocol_is_valid() -> None:
    assert parse_protocol(_minimal()).criteria[0].id == "I1"


def test_default_subject_id_pattern_names_the_study() -> None:
    p = parse_protocol(_minimal())
    assert p.format_subject_id("GZ", 3) == "demo-GZ-003"
    assert p.format_subject_id("GZ", 3, study="trial-b") == "trial-b-GZ-003"


@pytest.mark.parametrize(("pattern", "problem"), [
    ("NPC-{site}", "needs {seq}"),
    ("NPC-{centre}-{seq}", "unknown placeholder {centre}"),
    ("NPC-{site}-{seq:03d", "cannot be formatted"),
    ("NPC-{site}-{seq:x>}", None),  # a valid format spec
])
def test_subject_id_pattern_is_checked_when_loading(pattern, problem) -> None:
    data = {**_minimal(), "subject_id_pattern": pattern}
    if problem is None:
        assert parse_protocol(data).format_subject_id("GZ", 1)
        return
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    assert any(e.startswith("subject_id_pattern:") and problem in e for e in info.value.errors)


def test_unknown_field_in_rule_is_reported_with_its_path() -> None:
    data = _minimal()
    data["criteria"][1]["rule"] = "haemoglobin >= 100"
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    assert "criteria[1].rule: unknown field 'haemoglobin'" in info.value.errors


def test_every_problem_is_listed() -> None:
    data = _minimal()
    data["criteria"][0]["kind"] = "inclusive"
    data["criteria"][1]["rule"] = "__import__('os').system('true')"
    data["fields"][1]["type"] = "float"
    del data["version"]
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    errors = info.value.errors
    assert any(e.startswith("criteria[0].kind:") for e in errors)
    assert any(e.startswith("criteria[1].rule:") and "not an allowed function" in e for e in errors)
    assert any(e.startswith("fields[1].type:") for e in errors)
    assert any(e.startswith("version:") for e in errors)
    assert len(errors) >= 4


def test_overlapping_or_gapped_bands_are_rejected() -> None:
    data = _minimal()
    data["dosing"] = [
        {
            "drug": "S-1",
            "bands": [
                {"lower": None, "upper": 1.25, "upper_inclusive": True, "mg_per_dose": 30},
                {"lower": 1.25, "lower_inclusive": True, "upper": 1.5, "mg_per_dose": 40},
                {"lower": 1.6, "upper": None, "mg_per_dose": 50},
            ],
        }
    ]
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    text = " ".join(info.value.errors)
    assert "dosing[0].bands[1].lower_inclusive" in text
    assert "dosing[0].bands[2].lower" in text


def test_duplicate_ids_and_bad_stratification() -> None:
    data = _minimal()
    data["criteria"][1]["id"] = "I1"
    data["randomisation"] = {
        "arms": [{"code": "A", "label": "A"}, {"code": "B", "label": "B"}],
        "ratio": [1, 1, 1],
        "stratification": ["centre"],
        "method": "minimisation",
    }
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    text = " ".join(info.value.errors)
    assert "criteria[1].id: duplicate" in text
    assert "randomisation.ratio" in text
    assert "randomisation.stratification[0]: unknown field 'centre'" in text


def test_declared_criterion_fields_must_match_rule() -> None:
    data = _minimal()
    data["criteria"][0]["fields"] = ["ecog"]
    with pytest.raises(ProtocolError, match=r"criteria\[0\]\.fields"):
        parse_protocol(data)


def test_load_by_path_and_bad_files(tmp_path) -> None:
    good = tmp_path / "demo.yaml"
    good.write_text(yaml.safe_dump(_minimal()))
    assert load_protocol(good).id == "demo"
    assert load_protocol(str(good)).id == "demo"
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(ProtocolError, match="not valid YAML"):
        load_protocol(bad)
    with pytest.raises(ProtocolError, match="not found"):
        load_protocol(tmp_path / "absent.yaml")
    with pytest.raises(ProtocolError, match="unknown protocol 'nope'.*imrt-s1"):
        load_protocol("nope")


# --------------------------------------------------------------------------- field catalogue


def test_field_coercion_units_and_limits() -> None:
    p = load_protocol("imrt-s1")
    assert p.field("hb").coerce({"value": 9.5, "unit": "g/dL"}) == pytest.approx(95.0)
    assert p.field("hb").coerce(120) == 120.0
    assert p.field("height_cm").coerce({"value": 1.7, "unit": "m"}) == pytest.approx(170.0)
    with pytest.raises(ValidationError, match="height_cm must be >= 100 cm, got 1.7"):
        p.field("height_cm").coerce(1.7)
    with pytest.raises(ValidationError, match="hb: unknown unit 'mmol/L'"):
        p.field("hb").coerce({"value": 6, "unit": "mmol/L"})
    with pytest.raises(ValidationError, match="ecog must be a whole number"):
        p.field("ecog").coerce(1.5)
    with pytest.raises(ValidationError, match="weight_kg must be a number"):
        p.field("weight_kg").coerce("heavy")
    assert p.field("previous_radiotherapy").coerce("no") is False
    assert p.field("t_category").coerce("t3") == "T3"
    with pytest.raises(ValidationError, match="t_category must be one of"):
        p.field("t_category").coerce("T5")
    assert p.field("hb").coerce(None) is None


# --------------------------------------------------------------------------- rule language


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "hb.real > 1",
        "hb[0] > 1",
        "(lambda: 1)()",
        "[x for x in hb]",
        "hb if hb else 0",
        "open('f')",
        "hb ** 2 > 1",
        "hb in ecog",
        "max(hb, key=1) > 0",
    ],
)
def test_rule_language_rejects_unsafe_constructs(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_rule(text)


def test_rule_language_three_valued_logic() -> None:
    rule = parse_rule("a > 1 and b > 1")
    assert rule.evaluate({"a": 0, "b": None}) is False
    assert rule.evaluate({"a": 2, "b": None}) is MISSING
    assert rule.evaluate({"a": 2, "b": 2}) is True
    rule = parse_rule("a > 1 or b > 1")
    assert rule.evaluate({"a": 2}) is True
    assert rule.evaluate({"a": 0}) is MISSING
    assert rule.evaluate({"a": 0, "b": 0}) is False
    assert parse_rule("not a").evaluate({}) is MISSING
    assert parse_rule("not a").evaluate({"a": False}) is True


def test_rule_language_chains_membership_and_arithmetic() -> None:
    rule = parse_rule("18 <= age <= 70")
    assert rule.fields == ("age",)
    assert [rule.evaluate({"age": a}) for a in (17, 18, 70, 71)] == [False, True, True, False]
    assert parse_rule('x in ("SD", "PD")').evaluate({"x": "PD"}) is True
    assert parse_rule('x not in (0, 1)').evaluate({"x": 1}) is False
    assert parse_rule("alt <= 1.5 * uln").evaluate({"alt": 60, "uln": 40}) is True
    assert parse_rule("alt <= 1.5 * uln").evaluate({"alt": 60.1, "uln": 40}) is False
    with pytest.raises(ValidationError, match="unknown field 'hb'"):
        parse_rule("hb > 1", known_fields={"ecog"})


def test_rule_arithmetic_errors_are_validation_errors_naming_the_rule() -> None:
    # a zero ULN (bad data) or a text value in arithmetic must not escape as a Python error
    with pytest.raises(ValidationError, match=r"division by zero \('alt_uln' is 0\)") as exc:
        parse_rule("alt / alt_uln <= 1.5").evaluate({"alt": 30, "alt_uln": 0})
    assert exc.value.field == "rule"
    with pytest.raises(ValidationError, match="cannot do arithmetic"):
        parse_rule("hb + 1 > 100").evaluate({"hb": "high"})


def test_criteria_list_the_fields_they_read_with_units() -> None:
    p = load_protocol("imrt-s1")
    i8 = p.criterion("I8")
    assert i8.fields == ("alt", "alt_uln", "ast", "ast_uln")
    assert {p.field(f).unit for f in i8.fields} == {"U/L"}
    assert p.criterion("I5").fields == ("hb",) and p.field("hb").unit == "g/L"


def test_unusual_values_warn_but_are_accepted() -> None:
    from npctrial.errors import ClinicalWarning

    p = load_protocol("imrt-s1")
    with pytest.warns(ClinicalWarning, match="hb 45 g/L is outside the usual range 60-200 g/L"):
        assert p.field("hb").coerce(45) == 45.0
    with pytest.warns(ClinicalWarning, match="weight_kg"):
        p.field("weight_kg").coerce(180)
