"""BED/EQD2 against the test vectors of ../shared/domain/dosing.md section 7 (read from the file)."""

from __future__ import annotations

import re

import pytest

from npctrial.domain.radiobiology import bed, dose_per_fraction, eqd2
from npctrial.errors import ClinicalWarning, ValidationError
from tests.conftest import SHARED


def _vectors() -> list[tuple[float, int, float, float, float, float, float]]:
    text = (SHARED / "domain" / "dosing.md").read_text()
    rows = re.findall(r"^\|\s*(\d+) Gy / (\d+) fx\s*\|(.+)\|\s*$", text, flags=re.MULTILINE)
    out = []
    for total, n, rest in rows:
        d, bed10, eqd2_10, bed3, eqd2_3 = (float(x) for x in rest.split("|"))
        out.append((float(total), int(n), d, bed10, eqd2_10, bed3, eqd2_3))
    assert len(out) == 5, "dosing.md radiobiology table not found"
    return out


@pytest.mark.parametrize(("total", "n", "d", "bed10", "eqd2_10", "bed3", "eqd2_3"), _vectors())
def test_vectors_from_dosing_md(total: float, n: int, d: float, bed10: float, eqd2_10: float,
                                bed3: float, eqd2_3: float) -> None:
    # The table is rounded: d to 4 dp, doses to 2 dp.
    assert abs(dose_per_fraction(total, n) - d) <= 0.5e-4 + 1e-12
    assert abs(bed(total, n, 10) - bed10) <= 0.005 + 1e-9
    assert abs(eqd2(total, n, 10) - eqd2_10) <= 0.005 + 1e-9
    assert abs(bed(total, n, 3) - bed3) <= 0.005 + 1e-9
    assert abs(eqd2(total, n, 3) - eqd2_3) <= 0.005 + 1e-9


def test_2gy_fractions_are_their_own_eqd2() -> None:
    for ab in (1.5, 3, 10):
        assert eqd2(70, 35, ab) == pytest.approx(70, rel=1e-12)


@pytest.mark.parametrize(
    ("args", "field"),
    [((0, 33, 10), "total_dose_gy"), ((70, 0, 10), "fractions"), ((70, 33.5, 10), "fractions"),
     ((70, 33, -3), "alpha_beta"), ((70, True, 10), "fractions")],
)
def test_bad_input(args: tuple, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        bed(*args)
    assert info.value.field == field


def test_large_fractions_warn() -> None:
    with pytest.warns(ClinicalWarning):
        bed(30, 3, 10)
    with pytest.warns(ClinicalWarning):
        eqd2(30, 3, 10)
