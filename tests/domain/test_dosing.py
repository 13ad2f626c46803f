"""Dosing: BSA formulas, S-1 bands, mg/m2 doses, Cockcroft-Gault and Calvert.

BSA test vectors are read from ../shared/domain/dosing.md; other expected values are computed
by hand from the published formulas.
"""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npctrial.domain.carboplatin import carboplatin_dose, cockcroft_gault
from npctrial.domain.dosing import (
    BandTable,
    DoseBand,
    band_table_from_dict,
    band_table_names,
    banded_dose,
    body_surface_area,
    bsa_dose,
    cisplatin_dose,
    compute_cumulative_dose_per_m2,
    compute_weight_change_percent,
    load_band_table,
    requires_dose_recalculation,
)
from npctrial.errors import ClinicalWarning, ValidationError
from tests.conftest import SHARED

FORMULA_COLUMNS = ["mosteller", "dubois", "haycock", "gehan_george", "boyd"]


def _bsa_vectors() -> list[tuple[float, float, str, float]]:
    text = (SHARED / "domain" / "dosing.md").read_text()
    rows = re.findall(r"^\|\s*(\d+) cm, (\d+) kg\s*\|(.+)\|\s*$", text, flags=re.MULTILINE)
    vectors = []
    for h, w, rest in rows:
        values = [float(v) for v in rest.split("|")]
        assert len(values) == 5
        vectors += [(float(h), float(w), f, v) for f, v in zip(FORMULA_COLUMNS, values, strict=True)]
    assert len(vectors) == 15, "dosing.md BSA test-vector table not found"
    return vectors


@pytest.mark.parametrize(("height", "weight", "formula", "expected"), _bsa_vectors())
def test_bsa_vectors_from_dosing_md(height: float, weight: float, formula: str, expected: float) -> None:
    result = body_surface_area(height, weight, formula=formula)
    # The table is given to 4 dp.
    assert abs(result.bsa_raw_m2 - expected) <= 0.5e-4 + 1e-12
    assert result.formula == formula
    assert result.height_cm == height and result.weight_kg == weight


def test_bsa_records_cap_and_rounding() -> None:
    r = body_surface_area(185, 95, cap=2.0, decimals=2)
    assert r.capped and r.bsa_m2 == 2.0 and r.cap_m2 == 2.0
    assert abs(r.bsa_raw_m2 - 2.2095) < 1e-4
    assert "cap 2 m2 (applied)" in r.summary()
    r2 = body_surface_area(170, 65, decimals=2)
    assert r2.bsa_m2 == 1.75 and not r2.capped and r2.cap_m2 is None
    assert body_surface_area(170, 65).rounding == "not rounded"


def test_mosteller_is_default_and_formula_aliases() -> None:
    assert body_surface_area(170, 65).formula == "mosteller"
    assert body_surface_area(170, 65, formula="Gehan-George").formula == "gehan_george"
    assert body_surface_area(170, 65, formula="DuBois").formula == "dubois"


def test_height_in_metres_is_rejected_naming_height_cm() -> None:
    with pytest.raises(ValidationError, match="metres") as info:
        body_surface_area(1.7, 65)
    assert info.value.field == "height_cm"


@pytest.mark.parametrize(
    ("height", "weight", "kwargs", "field"),
    [
        (170, -3, {}, "weight_kg"),
        (170, 0, {}, "weight_kg"),
        (-170, 65, {}, "height_cm"),
        (400, 65, {}, "height_cm"),
        (170, 65000, {}, "weight_kg"),
        (170, float("nan"), {}, "weight_kg"),
        (170, "65", {}, "weight_kg"),
        (170, 65, {"formula": "fujimoto"}, "formula"),
        (170, 65, {"cap": 0}, "cap"),
        (170, 65, {"decimals": -1}, "decimals"),
    ],
)
def test_bsa_bad_input(height: float, weight: float, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        body_surface_area(height, weight, **kwargs)
    assert info.value.field == field


def test_negative_weight_message() -> None:
    with pytest.raises(ValidationError, match=r"weight_kg must be > 0, got -3"):
        body_surface_area(170, -3)


def test_bsa_above_2_5_warns() -> None:
    with pytest.warns(ClinicalWarning, match="2.5"):
        r = body_surface_area(200, 130)  # sqrt(200*130/3600) = 2.687
    assert r.bsa_raw_m2 > 2.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body_surface_area(185, 95)  # 2.21: no warning


# ---------------------------------------------------------------- S-1 bands


@pytest.mark.parametrize(
    ("bsa", "mg"),
    [
        (1.0, 30), (1.24, 30), (1.2499, 30),
        (1.25, 40),  # "<1.25" excludes 1.25; "1.25-1.5" includes it
        (1.3, 40), (1.49, 40),
        (1.5001, 50), (1.51, 50), (2.2, 50),
    ],
)
def test_s1_protocol_bands(bsa: float, mg: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dose = banded_dose(bsa, "s1-imrt-protocol")
    assert dose.mg_per_dose == mg
    assert dose.mg_per_day == 2 * mg
    assert not dose.on_ambiguous_bound


def test_s1_protocol_bsa_exactly_1_50_is_ambiguous_and_warns() -> None:
    with pytest.warns(ClinicalWarning, match="ambiguous"):
        dose = banded_dose(1.50, "s1-imrt-protocol")
    assert dose.mg_per_dose == 40  # ">1.5" excludes 1.5
    assert dose.on_ambiguous_bound
    assert "review" in dose.summary()


@pytest.mark.parametrize(("bsa", "mg"), [(1.2499, 40), (1.25, 50), (1.4999, 50), (1.5, 60), (1.9, 60)])
def test_s1_label_bands_explicit_bounds(bsa: float, mg: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert banded_dose(bsa, "s1-japanese-label").mg_per_dose == mg


def test_banded_dose_uses_rounded_capped_bsa() -> None:
    # Mosteller 160 cm x 50 kg = 1.4907 -> 1.49 m2 -> 40 mg (protocol), 50 mg (label).
    bsa = body_surface_area(160, 50, decimals=2)
    assert banded_dose(bsa, "s1-imrt-protocol").mg_per_dose == 40
    assert banded_dose(bsa, "s1-japanese-label").mg_per_dose == 50


def test_band_tables_listed_and_sourced() -> None:
    assert band_table_names() == ["s1-imrt-protocol", "s1-japanese-label"]
    table = load_band_table("s1-imrt-protocol")
    assert "BSA<1.25m2, 30mg" in table.source
    assert table.ambiguous_bounds == (1.5,)


@pytest.mark.parametrize(
    "bands",
    [
        [{"lower": None, "lower_inclusive": False, "upper": 1.25, "upper_inclusive": True, "mg_per_dose": 30},
         {"lower": 1.25, "lower_inclusive": True, "upper": None, "upper_inclusive": False, "mg_per_dose": 40}],
        [{"lower": None, "lower_inclusive": False, "upper": 1.25, "upper_inclusive": False, "mg_per_dose": 30},
         {"lower": 1.25, "lower_inclusive": False, "upper": None, "upper_inclusive": False, "mg_per_dose": 40}],
        [{"lower": None, "lower_inclusive": False, "upper": 1.2, "upper_inclusive": False, "mg_per_dose": 30},
         {"lower": 1.25, "lower_inclusive": True, "upper": None, "upper_inclusive": False, "mg_per_dose": 40}],
        [{"lower": None, "lower_inclusive": False, "upper": 1.25, "upper_inclusive": False, "mg_per_dose": 30}],
        [{"lower": None, "upper": None, "mg_per_dose": 30}],
    ],
)
def test_bad_band_tables_rejected(bands: list[dict]) -> None:
    with pytest.raises(ValidationError) as info:
        band_table_from_dict("custom", {"bands": bands})
    assert info.value.field == "bands"


def test_custom_band_table() -> None:
    table = BandTable("x", "drug", (DoseBand(None, False, 1.0, True, 10), DoseBand(1.0, False, None, False, 20)))
    assert banded_dose(1.0, table).mg_per_dose == 10
    with pytest.raises(ValidationError):
        banded_dose(1.0, "no-such-table")
    with pytest.raises(ValidationError):
        banded_dose(-1.0, table)


# ---------------------------------------------------------------- mg/m2


def test_cisplatin_dose() -> None:
    d = cisplatin_dose(1.75, 100)
    assert d.mg == 175 and d.drug == "cisplatin"
    d = cisplatin_dose(1.7520, 40)  # 70.08 mg -> 70 mg
    assert d.mg_exact == pytest.approx(70.08, rel=1e-12) and d.mg == 70
    assert cisplatin_dose(1.7625, 40).mg == 71  # 70.5 rounds half up
    assert cisplatin_dose(1.7625, 40, round_to_mg=None).mg == pytest.approx(70.5)
    with pytest.warns(ClinicalWarning):
        cisplatin_dose(1.75, 120)
    with pytest.raises(ValidationError):
        cisplatin_dose(1.75, -40)


def test_bsa_dose_from_result_and_step_rounding() -> None:
    bsa = body_surface_area(170, 65, decimals=2)  # 1.75
    assert bsa_dose(bsa, 1000, drug="gemcitabine", round_to_mg=10).mg == 1750
    assert bsa_dose(bsa, 75, round_to_mg=10).mg == 130  # 131.25 -> 130


def test_cumulative_cisplatin() -> None:
    # 3 x 175 mg at 1.75 m2 = 300 mg/m2; a reduced dose counts as delivered.
    assert compute_cumulative_dose_per_m2([(175, 1.75), (175, 1.75), (140, 1.75)]) == pytest.approx(280.0)
    with pytest.raises(ValidationError):
        compute_cumulative_dose_per_m2([(175,)])  # type: ignore[list-item]


# ---------------------------------------------------------------- carboplatin


def test_cockcroft_gault_and_units() -> None:
    # (140 - 60) x 70 / (72 x 1.0) = 77.78 mL/min; x 0.85 for women = 66.11.
    male = cockcroft_gault(60, 70, "male", 1.0, "mg/dL")
    assert male.ml_min == pytest.approx(5600 / 72, rel=1e-12)
    female = cockcroft_gault(60, 70, "female", 88.4, "umol/L")
    assert female.ml_min == pytest.approx(5600 / 72 * 0.85, rel=1e-12)
    assert female.creatinine_mg_dl == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((60, 70, "male", 88.4, "mg/dL"), "creatinine"),
        ((60, 70, "male", 1.0, "umol/L"), "creatinine"),
        ((60, 70, "male", 1.0, "mmol/L"), "unit"),
        ((60, 70, "x", 1.0, "mg/dL"), "sex"),
        ((60, -70, "male", 1.0, "mg/dL"), "weight_kg"),
        ((-1, 70, "male", 1.0, "mg/dL"), "age_years"),
    ],
)
def test_cockcroft_gault_bad_input(args: tuple, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        cockcroft_gault(*args)
    assert info.value.field == field


def test_calvert() -> None:
    crcl = cockcroft_gault(60, 70, "male", 1.0)
    dose = carboplatin_dose(5, crcl)
    assert dose.mg_exact == pytest.approx(5 * (5600 / 72 + 25), rel=1e-12)  # 513.89
    assert dose.mg == 514
    capped = carboplatin_dose(6, 150, gfr_cap_ml_min=125)
    assert capped.gfr_used_ml_min == 125 and capped.mg == 900
    with pytest.warns(ClinicalWarning):
        carboplatin_dose(8, 100)
    with pytest.raises(ValidationError):
        carboplatin_dose(0, 100)


def test_banded_dose_accepts_protocol_dose_table() -> None:
    from npctrial.domain.protocol import load_protocol

    protocol = load_protocol("imrt-s1")
    table = next(t for t in protocol.dosing if t.drug == "S-1")
    assert banded_dose(1.25, table).mg_per_dose == 40
    assert banded_dose(1.2499, table).mg_per_dose == 30
    with pytest.warns(ClinicalWarning):
        assert banded_dose(1.5, table).mg_per_dose == 40
    assert banded_dose(1.51, table).mg_per_day == 100


# ---------------------------------------------------------------- BSA monotonicity (hypothesis)

@given(formula=st.sampled_from(FORMULA_COLUMNS), h=st.floats(100, 220), w=st.floats(20, 180),
       dh=st.floats(0, 30), dw=st.floats(0, 60))
def test_bsa_increases_with_height_and_weight(formula: str, h: float, w: float, dh: float, dw: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClinicalWarning)
        low = body_surface_area(h, w, formula).bsa_raw_m2
        high = body_surface_area(min(h + dh, 272), min(w + dw, 400), formula).bsa_raw_m2
    assert high >= low


@pytest.mark.parametrize(("base", "now", "expected"),
                         [(100, 90, True), (100, 90.1, False), (100, 110, True), (70, 63, True), (70, 64, False)])
def test_weight_change_recalculation_threshold(base: float, now: float, expected: bool) -> None:
    assert requires_dose_recalculation(base, now) is expected
    assert compute_weight_change_percent(base, now) == pytest.approx((now - base) / base * 100)
