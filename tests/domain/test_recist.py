"""RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009): cases written from the guideline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npctrial.domain.recist import (
    Lesion,
    TargetMeasurement,
    Timepoint,
    assess_target_series,
    best_overall_response,
    check_target_lesions,
    classify_lesion,
    compute_percent_change,
    select_target_lesions,
    target_response,
    timepoint_response,
)
from npctrial.errors import ValidationError

# --------------------------------------------------------------------------- baseline


@pytest.mark.parametrize(
    ("size", "expected"),
    [(9.9, "normal"), (10, "non_measurable"), (14.9, "non_measurable"), (15, "measurable"), (30, "measurable")],
)
def test_nodal_short_axis_thresholds(size: float, expected: str) -> None:
    assert classify_lesion(size, nodal=True) == expected


@pytest.mark.parametrize(
    ("size", "method", "slice_mm", "expected"),
    [
        (10, "ct", 5, "measurable"),
        (9.9, "ct", 5, "non_measurable"),
        (10, "ct", None, "measurable"),
        (12, "ct", 8, "non_measurable"),  # slices > 5 mm: >= 2 x slice thickness = 16 mm
        (16, "ct", 8, "measurable"),
        (10, "caliper", None, "measurable"),
        (19.9, "xray", None, "non_measurable"),
        (20, "xray", None, "measurable"),
    ],
)
def test_non_nodal_measurability(size, method, slice_mm, expected) -> None:
    assert classify_lesion(size, nodal=False, method=method, slice_thickness_mm=slice_mm) == expected


def test_target_selection_caps_total_and_per_organ_nodes_are_one_organ() -> None:
    lesions = [
        Lesion("L1", "liver", False, 50),
        Lesion("L2", "liver", False, 40),
        Lesion("L3", "liver", False, 30),  # third liver lesion -> non-target
        Lesion("N1", "neck level II", True, 25),
        Lesion("N2", "retropharyngeal", True, 20),
        Lesion("N3", "neck level III", True, 18),  # third node -> non-target (nodes = one organ)
        Lesion("N4", "neck level IV", True, 12),  # pathological, non-measurable
        Lesion("N5", "neck level V", True, 8),  # normal
        Lesion("P1", "lung", False, 22),
        Lesion("P2", "lung", False, 15),  # sixth measurable by size order -> over the cap of 5
    ]
    sel = select_target_lesions(lesions)
    assert [t.lesion_id for t in sel.targets] == ["L1", "L2", "N1", "P1", "N2"]
    assert {t.lesion_id for t in sel.non_targets} == {"L3", "N3", "N4", "P2"}
    assert [t.lesion_id for t in sel.normal] == ["N5"]
    assert sel.baseline_sum_mm == 50 + 40 + 25 + 22 + 20
    check_target_lesions(sel.targets)


def test_check_target_lesions_rejects_violations() -> None:
    with pytest.raises(ValidationError, match="at most 2 target lesions per organ"):
        check_target_lesions([Lesion("a", "x", True, 20), Lesion("b", "y", True, 20), Lesion("c", "z", True, 20)])
    with pytest.raises(ValidationError, match="not measurable"):
        check_target_lesions([Lesion("a", "neck", True, 14)])
    with pytest.raises(ValidationError, match="at most 5"):
        check_target_lesions([Lesion(str(i), f"o{i}", False, 20) for i in range(6)])


# --------------------------------------------------------------------------- target response


def tm(*sizes: float | None, nodal: tuple[bool, ...] | None = None) -> list[TargetMeasurement]:
    flags = nodal or (False,) * len(sizes)
    return [TargetMeasurement(f"T{i}", n, s) for i, (s, n) in enumerate(zip(sizes, flags, strict=True))]


def test_pr_boundary_is_30_percent_decrease_from_baseline() -> None:
    assert target_response(tm(70.0), baseline_sum_mm=100).category == "PR"  # exactly -30 %
    assert target_response(tm(70.1), baseline_sum_mm=100).category == "SD"
    assert target_response(tm(35.0, 35.0), baseline_sum_mm=100).category == "PR"


def test_pd_needs_20_percent_and_5_mm_over_nadir() -> None:
    # guideline examples: nadir 50 -> 60 is PD; nadir 10 -> 13 is not (+30 % but only +3 mm)
    assert target_response(tm(60.0), baseline_sum_mm=80, nadir_sum_mm=50).category == "PD"
    assert target_response(tm(59.9), baseline_sum_mm=80, nadir_sum_mm=50).category == "SD"
    assert target_response(tm(13.0), baseline_sum_mm=20, nadir_sum_mm=10).category == "PR"
    # +5 mm exactly with >= 20 %: nadir 25 -> 30 is PD; nadir 25 -> 29.9 is not
    assert target_response(tm(30.0), baseline_sum_mm=40, nadir_sum_mm=25).category == "PD"
    assert target_response(tm(29.9), baseline_sum_mm=40, nadir_sum_mm=25).category == "SD"
    # +20 % not reached although +5 mm: nadir 30 -> 35.9
    assert target_response(tm(35.9), baseline_sum_mm=40, nadir_sum_mm=30).category == "SD"
    assert target_response(tm(36.0), baseline_sum_mm=40, nadir_sum_mm=30).category == "PD"


def test_pd_is_measured_from_nadir_not_baseline() -> None:
    r = target_response(tm(66.0), baseline_sum_mm=100, nadir_sum_mm=55)
    assert r.category == "PD"
    assert r.change_from_baseline_pct == pytest.approx(-34.0)
    assert r.change_from_nadir_pct == pytest.approx(20.0)
    assert r.change_from_nadir_mm == pytest.approx(11.0)


def test_cr_requires_non_nodal_gone_and_nodes_below_10mm() -> None:
    assert target_response(tm(0.0, 9.9, nodal=(False, True)), baseline_sum_mm=60).category == "CR"
    assert target_response(tm(0.0, 10.0, nodal=(False, True)), baseline_sum_mm=60).category == "PR"
    assert target_response(tm(1.0, 5.0, nodal=(False, True)), baseline_sum_mm=60).category == "PR"
    # CR with a sum > 0 (nodes keep their actual short axis)
    r = target_response(tm(8.0, 7.0, nodal=(True, True)), baseline_sum_mm=40)
    assert r.category == "CR" and r.sum_mm == 15


def test_not_evaluated_unless_already_pd() -> None:
    assert target_response(tm(10.0, None), baseline_sum_mm=50).category == "NE"
    # baseline 50, two of three targets now sum to 80 -> PD whatever the third
    assert target_response(tm(40.0, 40.0, None), baseline_sum_mm=50).category == "PD"


def test_nodes_under_10mm_growing_past_pd_thresholds_are_flagged() -> None:
    r = target_response(tm(9.0, 9.0, nodal=(True, True)), baseline_sum_mm=40, nadir_sum_mm=12)
    assert r.category == "PD" and r.needs_review


def test_percent_change_helper() -> None:
    assert compute_percent_change(80, 100) == pytest.approx(-20.0)
    assert compute_percent_change(5, 0) is None


def test_series_tracks_nadir() -> None:
    baseline = tm(50.0, 50.0)
    visits = [tm(30.0, 30.0), tm(25.0, 25.0), tm(30.0, 30.0), tm(None, 40.0)]
    cats = [r.category for r in assess_target_series(baseline, visits)]
    # 60 (PR), 50 (PR, nadir 50), 60 (+20 % and +10 mm over nadir 50 -> PD), NE with 40 assessed
    assert cats == ["PR", "PR", "PD", "NE"]
    with pytest.raises(ValidationError, match="differ from baseline"):
        assess_target_series(baseline, [tm(1.0)])


def test_target_response_input_errors() -> None:
    with pytest.raises(ValidationError, match="nadir_sum_mm"):
        target_response(tm(10.0), baseline_sum_mm=20, nadir_sum_mm=30)
    with pytest.raises(ValidationError, match="T0.diameter_mm must be >= 0"):
        target_response(tm(-1.0), baseline_sum_mm=20)
    with pytest.raises(ValidationError, match="baseline_sum_mm must be > 0"):
        target_response(tm(1.0), baseline_sum_mm=0)


# --------------------------------------------------------------------------- timepoint (tables 1, 2)

TABLE_1 = [
    ("CR", "CR", False, "CR"),
    ("CR", "NON_CR_NON_PD", False, "PR"),
    ("CR", "NE", False, "PR"),
    ("PR", "NON_CR_NON_PD", False, "PR"),
    ("PR", "NE", False, "PR"),
    ("PR", "CR", False, "PR"),
    ("SD", "NON_CR_NON_PD", False, "SD"),
    ("SD", "NE", False, "SD"),
    ("NE", "NON_CR_NON_PD", False, "NE"),
    ("NE", "CR", False, "NE"),
    ("PD", "CR", False, "PD"),
    ("PD", "NE", True, "PD"),
    ("CR", "PD", False, "PD"),
    ("SD", "PD", False, "PD"),
    ("CR", "CR", True, "PD"),
    ("CR", None, False, "CR"),  # no non-target lesions
    ("PR", None, False, "PR"),
]
TABLE_2 = [
    ("CR", False, "CR"),
    ("NON_CR_NON_PD", False, "NON_CR_NON_PD"),
    ("NE", False, "NE"),
    ("PD", False, "PD"),
    ("CR", True, "PD"),
]


@pytest.mark.parametrize(("target", "non_target", "new", "expected"), TABLE_1)
def test_table_1(target, non_target, new, expected) -> None:
    assert timepoint_response(target, non_target, new) == expected


@pytest.mark.parametrize(("non_target", "new", "expected"), TABLE_2)
def test_table_2(non_target, new, expected) -> None:
    assert timepoint_response(None, non_target, new) == expected


def test_timepoint_inputs() -> None:
    assert timepoint_response("cr", "Non-CR/Non-PD", False) == "PR"
    assert timepoint_response("SD", "NON_CR_NON_PD", "equivocal") == "SD"
    with pytest.raises(ValidationError, match="target must be one of"):
        timepoint_response("MR", "CR", False)
    with pytest.raises(ValidationError, match="needs target or non-target"):
        timepoint_response(None, None, False)
    with pytest.raises(ValidationError, match="new_lesions"):
        timepoint_response("CR", "CR", "maybe")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- best overall response


def test_bor_without_confirmation() -> None:
    assert best_overall_response([(42, "SD"), (84, "PR"), (126, "PD")]).response == "PR"
    assert best_overall_response([(42, "PR"), (84, "CR")]).response == "CR"
    # responses after the first PD are ignored
    assert best_overall_response([(42, "PD"), (84, "CR")]).response == "PD"


def test_sd_minimum_duration() -> None:
    # SD before the minimum interval then PD -> PD; then nothing -> NE; at the interval -> SD
    assert best_overall_response([(30, "SD"), (60, "PD")], min_sd_days=42).response == "PD"
    assert best_overall_response([(30, "SD")], min_sd_days=42).response == "NE"
    assert best_overall_response([(30, "SD"), (60, "NE")], min_sd_days=42).response == "NE"
    assert best_overall_response([(42, "SD"), (80, "PD")], min_sd_days=42).response == "SD"
    assert best_overall_response([(41, "SD"), (80, "PD")], min_sd_days=42).response == "PD"


TABLE_3 = [
    # (first, second, second day, expected) -- first at day 56, SD minimum 42 days
    ("CR", "CR", 84, "CR"),
    ("CR", "PR", 84, "SD"),
    ("CR", "SD", 84, "SD"),
    ("CR", "PD", 84, "SD"),
    ("CR", "NE", 84, "SD"),
    ("PR", "CR", 84, "PR"),
    ("PR", "PR", 84, "PR"),
    ("PR", "SD", 84, "SD"),
    ("PR", "PD", 84, "SD"),
    ("PR", "NE", 84, "SD"),
    ("NE", "NE", 84, "NE"),
]


@pytest.mark.parametrize(("first", "second", "day2", "expected"), TABLE_3)
def test_table_3_with_confirmation(first, second, day2, expected) -> None:
    bor = best_overall_response([Timepoint(56, first), Timepoint(day2, second)], confirmation=True, min_sd_days=42)
    assert bor.response == expected


# Table 3, "otherwise" column: the first response (day 21) and the second (day 35) both come
# before the SD minimum (42 days). "CR then SD/PD: SD provided minimum criteria for SD duration
# met, otherwise PD"; "CR then NE / PR then NE: ... otherwise NE"; "PR then PD: ... otherwise PD";
# CR then PR: disease after a true CR is PD at that timepoint (table 3 note).
TABLE_3_SD_MINIMUM_NOT_MET = [
    ("CR", "PR", "PD"),
    ("CR", "SD", "PD"),
    ("CR", "PD", "PD"),
    ("CR", "NE", "NE"),
    ("PR", "PD", "PD"),
    ("PR", "NE", "NE"),
]


@pytest.mark.parametrize(("first", "second", "expected"), TABLE_3_SD_MINIMUM_NOT_MET)
def test_table_3_with_confirmation_sd_minimum_not_met(first, second, expected) -> None:
    bor = best_overall_response([(21, first), (35, second)], confirmation=True, min_sd_days=42)
    assert bor.response == expected
    if expected == "PD":
        assert bor.day == 35


def test_disease_after_cr_ends_the_assessment() -> None:
    # CR on day 21, disease again on day 35 (PD there, before the SD minimum): a later SD does
    # not rescue stable disease
    bor = best_overall_response([(21, "CR"), (35, "SD"), (70, "SD")], confirmation=True,
                                min_sd_days=42)
    assert (bor.response, bor.day) == ("PD", 35)
    # without confirmation the CR itself is the best response
    assert best_overall_response([(21, "CR"), (35, "SD")], min_sd_days=42).response == "CR"


def test_confirmation_needs_4_weeks() -> None:
    assert best_overall_response([(56, "PR"), (84, "PR")], confirmation=True).response == "PR"  # 28 days
    assert best_overall_response([(56, "PR"), (83, "PR")], confirmation=True).response == "SD"  # 27 days
    early = best_overall_response([(20, "CR"), (40, "PD")], confirmation=True, min_sd_days=42)
    assert early.response == "PD"  # unconfirmed CR before the SD minimum, then PD


def test_non_target_only_patients_get_non_cr_non_pd() -> None:
    bor = best_overall_response([(50, "NON_CR_NON_PD"), (100, "PD")])
    assert bor.response == "NON_CR_NON_PD"


def test_bor_input_errors() -> None:
    with pytest.raises(ValidationError, match="same day"):
        best_overall_response([(50, "SD"), (50, "PR")])
    with pytest.raises(ValidationError, match="day must be an integer"):
        best_overall_response([(-1, "SD")])
    with pytest.raises(ValidationError, match="cannot both occur"):
        best_overall_response([(50, "SD"), (80, "NON_CR_NON_PD")])
    with pytest.raises(ValidationError, match=r"timepoints\[1\] must be a Timepoint or a \(day, response\)"):
        best_overall_response([(50, "SD"), (80,)])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="min_sd_days"):
        best_overall_response([(50, "SD")], min_sd_days=True)


# --------------------------------------------------------------------------- properties


_mm = st.integers(min_value=0, max_value=3000).map(lambda x: x / 10)


@given(base=st.integers(min_value=1, max_value=3000).map(lambda x: x / 10), frac=st.floats(0, 1), cur=_mm)
def test_target_category_follows_the_published_thresholds(base: float, frac: float, cur: float) -> None:
    nadir = round(base * frac, 1)
    r = target_response([TargetMeasurement("T0", False, cur)], baseline_sum_mm=base, nadir_sum_mm=nadir)
    is_pd = cur >= 1.2 * nadir - 1e-9 and cur - nadir >= 5 - 1e-9
    if is_pd:
        assert r.category == "PD"
    elif cur == 0:
        assert r.category == "CR"
    elif cur <= 0.7 * base + 1e-9:
        assert r.category == "PR"
    else:
        assert r.category == "SD"


@given(st.lists(st.sampled_from(["CR", "PR", "SD", "PD", "NE"]), min_size=1, max_size=6))
def test_confirmation_never_improves_best_response(responses: list[str]) -> None:
    rank = {"CR": 0, "PR": 1, "SD": 2, "PD": 3, "NE": 4}
    points = [(42 * (i + 1), r) for i, r in enumerate(responses)]
    plain = best_overall_response(points).response
    confirmed = best_overall_response(points, confirmation=True).response
    if plain in ("CR", "PR"):
        assert rank[confirmed] >= rank[plain] or confirmed == "NE"
    else:
        assert confirmed == plain


def test_results_have_summary_and_frame() -> None:
    lesions = [Lesion("L1", "liver", False, 30.0), Lesion("N1", "neck", True, 16.0),
               Lesion("N2", "neck", True, 12.0), Lesion("N3", "neck", True, 8.0)]
    sel = select_target_lesions(lesions)
    frame = sel.to_frame()
    assert dict(zip(frame.lesion_id, frame.role, strict=True)) == {
        "L1": "target", "N1": "target", "N2": "non_target", "N3": "normal"}
    assert "2 target lesion(s) (L1, N1), baseline sum of diameters 46 mm" in sel.summary()
    # 46 mm -> 32 mm is -30.4 % from baseline: PR
    resp = target_response([TargetMeasurement("L1", False, 22.0), TargetMeasurement("N1", True, 10.0)],
                           baseline_sum_mm=46.0)
    assert resp.category == "PR"
    assert "target response PR: sum 32 mm" in resp.summary() and "-30.4 %" in resp.summary()
    bor = best_overall_response([(56, "PR"), (84, "PR")], confirmation=True)
    assert bor.summary().startswith("best overall response PR on day 56 (confirmed)")
