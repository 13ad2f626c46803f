"""NPC staging, AJCC/UICC 7th and 8th editions.

Expected values are written from the published tables (AJCC 8th 2017, AJCC 7th 2010) and the
reference logic and change table in ../shared/domain/staging.md, not from this code's output.
"""

from __future__ import annotations

import itertools
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npctrial.domain.staging import (
    TNM,
    NodalFindings,
    PrimaryFindings,
    StagingFindings,
    categories,
    derive_n_category,
    derive_t_category,
    findings_from_mapping,
    parse_tnm,
    restage,
    stage_findings,
    stage_group,
    stage_rank,
)
from npctrial.errors import ClinicalWarning, ValidationError


# Reference logic transcribed from staging.md (sections 1 and 2).
def ref_stage_ajcc8(T: str, N: str, M: str) -> str | None:
    if M == "M1":
        return "IVB"
    if M != "M0" or N == "NX":
        return None
    if N == "N3":
        return "IVA"
    if T == "TX":
        return None
    if T == "Tis":
        return "0" if N == "N0" else None
    if T == "T4":
        return "IVA"
    if N == "N2" or T == "T3":
        return "III"
    if N == "N1" or T == "T2":
        return "II"
    if T == "T1" and N == "N0":
        return "I"
    return None


def ref_stage_ajcc7(T: str, N: str, M: str) -> str | None:
    if M == "M1":
        return "IVC"
    if M != "M0" or N == "NX":
        return None
    if N in ("N3", "N3a", "N3b"):
        return "IVB"
    if T in ("TX", "T0"):
        return None
    if T == "Tis":
        return "0" if N == "N0" else None
    if T == "T4":
        return "IVA"
    if N == "N2" or T == "T3":
        return "III"
    if N == "N1" or T == "T2":
        return "II"
    if T == "T1" and N == "N0":
        return "I"
    return None


T_ALL = ["TX", "T0", "Tis", "T1", "T2", "T3", "T4"]
N8 = ["NX", "N0", "N1", "N2", "N3"]
N7 = ["NX", "N0", "N1", "N2", "N3", "N3a", "N3b"]
M_ALL = ["M0", "M1"]


@pytest.mark.parametrize(("t", "n", "m"), list(itertools.product(T_ALL, N8, M_ALL)))
def test_every_8th_combination_matches_reference_logic(t: str, n: str, m: str) -> None:
    assert stage_group(t, n, m, edition=8) == ref_stage_ajcc8(t, n, m)


@pytest.mark.parametrize(("t", "n", "m"), list(itertools.product(T_ALL, N7, M_ALL)))
def test_every_7th_combination_matches_reference_logic(t: str, n: str, m: str) -> None:
    assert stage_group(t, n, m, edition=7) == ref_stage_ajcc7(t, n, m)


# Rows of the published stage-group tables, one case per row.
@pytest.mark.parametrize(
    ("t", "n", "m", "edition", "stage"),
    [
        ("Tis", "N0", "M0", 8, "0"),
        ("T1", "N0", "M0", 8, "I"),
        ("T0", "N1", "M0", 8, "II"),
        ("T1", "N1", "M0", 8, "II"),
        ("T2", "N0", "M0", 8, "II"),
        ("T2", "N1", "M0", 8, "II"),
        ("T0", "N2", "M0", 8, "III"),
        ("T2", "N2", "M0", 8, "III"),
        ("T3", "N0", "M0", 8, "III"),
        ("T3", "N2", "M0", 8, "III"),
        ("T4", "N0", "M0", 8, "IVA"),
        ("T4", "N2", "M0", 8, "IVA"),
        ("T0", "N3", "M0", 8, "IVA"),
        ("T1", "N3", "M0", 8, "IVA"),
        ("T4", "N3", "M0", 8, "IVA"),
        ("T1", "N0", "M1", 8, "IVB"),
        ("T0", "N0", "M0", 8, None),
        ("Tis", "N0", "M0", 7, "0"),
        ("T1", "N0", "M0", 7, "I"),
        ("T1", "N1", "M0", 7, "II"),
        ("T2", "N1", "M0", 7, "II"),
        ("T1", "N2", "M0", 7, "III"),
        ("T3", "N1", "M0", 7, "III"),
        ("T4", "N2", "M0", 7, "IVA"),
        ("T4", "N3a", "M0", 7, "IVB"),
        ("T1", "N3b", "M0", 7, "IVB"),
        ("T2", "N3", "M0", 7, "IVB"),
        ("T4", "N3", "M1", 7, "IVC"),
        ("T0", "N1", "M0", 7, None),
    ],
)
def test_published_stage_rows(t: str, n: str, m: str, edition: int, stage: str | None) -> None:
    assert stage_group(t, n, m, edition=edition) == stage


def test_no_ivc_in_8th_and_t4n3_differs_between_editions() -> None:
    assert stage_group("T2", "N1", "M1", edition=8) == "IVB"
    assert stage_group("T2", "N1", "M1", edition=7) == "IVC"
    assert stage_group("T4", "N3", "M0", edition=8) == "IVA"
    assert stage_group("T4", "N3", "M0", edition=7) == "IVB"


def test_default_edition_is_8th() -> None:
    assert stage_group("T1", "N0", "M1") == "IVB"


@pytest.mark.parametrize(("t", "n", "m"), [("cT3", "cN2", "cM0"), ("t3", "n2", "m0"), ("pT3", "pN2", "cM0"),
                                           ("3", "2", "0"), (" T3 ", "N2", "M0")])
def test_prefixes_and_case_are_accepted(t: str, n: str, m: str) -> None:
    assert stage_group(t, n, m) == "III"


@pytest.mark.parametrize(
    ("t", "n", "m", "edition", "field"),
    [
        ("T5", "N0", "M0", 8, "t"),
        ("T3", "N4", "M0", 8, "n"),
        ("T3", "N3a", "M0", 8, "n"),  # no N3a in the 8th edition
        ("T3", "N1", "MX", 8, "m"),
        ("T3", "N1", "pM0", 8, "m"),  # AJCC: pM0 is not a valid category
        ("T3", "N1", "M2", 7, "m"),
        ("N3", "N1", "M0", 8, "t"),
        ("T3", "N1", "M0", 6, "edition"),
        ("xT3", "N1", "M0", 8, "t"),
        ("3.0", "N1", "M0", 8, "t"),
        ("5", "N1", "M0", 8, "t"),
        ("T3", "3a", "M0", 8, "n"),
    ],
)
def test_unknown_categories_raise(t: str, n: str, m: str, edition: int, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        stage_group(t, n, m, edition=edition)
    assert info.value.field == field


def test_error_message_names_the_value() -> None:
    with pytest.raises(ValidationError, match="T5"):
        stage_group("T5", "N0", "M0")


def test_category_wording_is_published_text() -> None:
    assert "lateral surface of the lateral pterygoid" in categories("T", 8)["T4"]
    assert "infratemporal fossa/masticator space" in categories("T", 7)["T4"]
    assert "caudal border of cricoid" in categories("N", 8)["N3"]
    assert "N3a" in categories("N", 7) and "N3a" not in categories("N", 8)


# ---------------------------------------------------------------- parse_tnm


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cT3N2M0", TNM("T3", "N2", "M0", "c", "", "")),
        ("T3 N2 M0", TNM("T3", "N2", "M0")),
        ("ypT2N1cM0", TNM("T2", "N1", "M0", "yp", "", "c")),
        ("cTisN0M0", TNM("Tis", "N0", "M0", "c")),
        ("TXN3bM1", TNM("TX", "N3b", "M1")),
        ("t4n0m0", TNM("T4", "N0", "M0")),
    ],
)
def test_parse_tnm(text: str, expected: TNM) -> None:
    assert parse_tnm(text) == expected


def test_parse_tnm_is_frozen_and_stages() -> None:
    tnm = parse_tnm("cT3N2M0")
    with pytest.raises(AttributeError):
        tnm.t = "T1"  # type: ignore[misc]
    assert tnm.stage(8) == "III"
    assert str(tnm) == "cT3N2M0"


@pytest.mark.parametrize("text", ["cT5N2M0", "T3N2", "T3 N2 M0 extra", "", "cT3N4M0"])
def test_parse_tnm_rejects_garbage(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_tnm(text)


def test_parse_tnm_checks_edition() -> None:
    assert parse_tnm("T3N3aM0", edition=7).n == "N3a"
    with pytest.raises(ValidationError):
        parse_tnm("T3N3aM0", edition=8)


# ---------------------------------------------------------------- monotonicity (hypothesis)

T_ORDER = ["T0", "T1", "T2", "T3", "T4"]
N_ORDER = {8: ["N0", "N1", "N2", "N3"], 7: ["N0", "N1", "N2", "N3"]}


@given(
    edition=st.sampled_from([7, 8]),
    t_i=st.integers(0, 4),
    n_i=st.integers(0, 3),
    m=st.sampled_from(M_ALL),
    dt=st.integers(0, 4),
    dn=st.integers(0, 3),
)
def test_stage_never_decreases_when_t_or_n_increases(
    edition: int, t_i: int, n_i: int, m: str, dt: int, dn: int
) -> None:
    t2, n2 = min(t_i + dt, 4), min(n_i + dn, 3)
    low = stage_group(T_ORDER[t_i], N_ORDER[edition][n_i], m, edition)
    high = stage_group(T_ORDER[t2], N_ORDER[edition][n2], m, edition)
    assert stage_rank(high) >= stage_rank(low)


# ---------------------------------------------------------------- T from findings


@pytest.mark.parametrize(
    ("finding", "t8", "t7"),
    [
        ({}, "T1", "T1"),
        ({"oropharynx": True, "nasal_cavity": True}, "T1", "T1"),
        ({"parapharyngeal_space": True}, "T2", "T2"),
        ({"medial_pterygoid": True}, "T2", "T4"),
        ({"lateral_pterygoid": True}, "T2", "T4"),
        ({"prevertebral_muscle": True}, "T2", "T2"),
        ({"skull_base": True}, "T3", "T3"),
        ({"paranasal_sinus": True}, "T3", "T3"),
        ({"cervical_vertebra": True}, "T3", "T3"),
        ({"pterygoid_structures": True}, "T3", "T3"),
        ({"intracranial": True}, "T4", "T4"),
        ({"cranial_nerve": True}, "T4", "T4"),
        ({"hypopharynx": True}, "T4", "T4"),
        ({"orbit": True}, "T4", "T4"),
        ({"beyond_lateral_pterygoid": True}, "T4", "T4"),
        ({"masticator_space": True, "lateral_pterygoid": True}, "T2", "T4"),
        ({"skull_base": True, "medial_pterygoid": True}, "T3", "T4"),
        ({"in_situ": True}, "Tis", "Tis"),
        ({"assessable": False}, "TX", "TX"),
        ({"primary_detected": False, "ebv_positive_nodes": True}, "T0", "T0"),
    ],
)
def test_derive_t_category(finding: dict, t8: str, t7: str) -> None:
    f = PrimaryFindings(**finding)
    assert derive_t_category(f, 8) == t8
    assert derive_t_category(f, 7) == t7


def test_parotid_is_8th_t4_and_warns_in_7th() -> None:
    f = PrimaryFindings(parotid=True, parapharyngeal_space=True)
    assert derive_t_category(f, 8) == "T4"
    with pytest.warns(ClinicalWarning, match="parotid"):
        assert derive_t_category(f, 7) == "T2"


def test_masticator_space_alone_cannot_be_restaged() -> None:
    f = PrimaryFindings(masticator_space=True)
    assert derive_t_category(f, 7) == "T4"
    with pytest.raises(ValidationError) as info:
        derive_t_category(f, 8)
    assert info.value.field == "masticator_space"


def test_t0_with_recorded_primary_sites_is_contradictory() -> None:
    with pytest.raises(ValidationError) as info:
        derive_t_category(PrimaryFindings(primary_detected=False, skull_base=True), 7)
    assert info.value.field == "primary_detected"


def test_t0_8th_needs_ebv_positive_nodes() -> None:
    with pytest.raises(ValidationError):
        derive_t_category(PrimaryFindings(primary_detected=False, ebv_positive_nodes=False), 8)
    with pytest.warns(ClinicalWarning):
        assert derive_t_category(PrimaryFindings(primary_detected=False), 8) == "T0"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert derive_t_category(PrimaryFindings(primary_detected=False), 7) == "T0"


# ---------------------------------------------------------------- N from findings


@pytest.mark.parametrize(
    ("finding", "n8", "n7"),
    [
        ({}, "N0", "N0"),
        ({"assessable": False}, "NX", "NX"),
        ({"cervical": "unilateral", "greatest_dimension_cm": 3.0}, "N1", "N1"),
        ({"retropharyngeal": True, "greatest_dimension_cm": 1.2}, "N1", "N1"),
        ({"cervical": "bilateral", "greatest_dimension_cm": 4.0}, "N2", "N2"),
        # 6 cm or less is inclusive; 6.1 cm is N3.
        ({"cervical": "unilateral", "greatest_dimension_cm": 6.0}, "N1", "N1"),
        ({"cervical": "unilateral", "greatest_dimension_cm": 6.1}, "N3", "N3a"),
        ({"cervical": "bilateral", "greatest_dimension_cm": 6.0}, "N2", "N2"),
        ({"cervical": "bilateral", "greatest_dimension_cm": 6.1}, "N3", "N3a"),
        # Below the cricoid but above the fossa: 7th N1/N2, 8th N3.
        ({"cervical": "unilateral", "greatest_dimension_cm": 2.0, "below_caudal_cricoid": True}, "N3", "N1"),
        ({"cervical": "bilateral", "greatest_dimension_cm": 2.0, "below_caudal_cricoid": True}, "N3", "N2"),
        # Supraclavicular fossa: 7th N3b, and every 7th N3 is 8th N3.
        ({"cervical": "unilateral", "greatest_dimension_cm": 2.0, "supraclavicular_fossa": True,
          "below_caudal_cricoid": True}, "N3", "N3b"),
        ({"cervical": "unilateral", "greatest_dimension_cm": 2.0, "supraclavicular_fossa": True}, "N3", "N3b"),
        ({"cervical": "unilateral", "greatest_dimension_cm": 7.0, "supraclavicular_fossa": True}, "N3", "N3"),
    ],
)
def test_derive_n_category(finding: dict, n8: str, n7: str) -> None:
    f = NodalFindings(**finding)
    assert derive_n_category(f, 8) == n8
    assert derive_n_category(f, 7) == n7


@pytest.mark.parametrize(
    ("finding", "field"),
    [
        ({"cervical": "unilateral"}, "greatest_dimension_cm"),
        ({"cervical": "unilateral", "greatest_dimension_cm": -1.0}, "greatest_dimension_cm"),
        ({"cervical": "unilateral", "greatest_dimension_cm": 45.0}, "greatest_dimension_cm"),
        ({"cervical": "both"}, "cervical"),
        ({"greatest_dimension_cm": 2.0}, "cervical"),
    ],
)
def test_derive_n_rejects_bad_findings(finding: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        derive_n_category(NodalFindings(**finding), 8)
    assert info.value.field == field


# ---------------------------------------------------------------- restaging


def test_restage_masticator_and_low_neck_patient() -> None:
    # 7th: pterygoid muscles = masticator space (T4); node below cricoid, above fossa (N1) -> IVA.
    # 8th: pterygoid muscles = T2; below cricoid = N3 -> IVA.
    findings = StagingFindings(
        PrimaryFindings(medial_pterygoid=True, parapharyngeal_space=True),
        NodalFindings(cervical="unilateral", greatest_dimension_cm=2.5, below_caudal_cricoid=True),
        distant_metastasis=False,
    )
    result = restage(findings)
    assert (result.seventh.t, result.seventh.n, result.seventh.stage) == ("T4", "N1", "IVA")
    assert (result.eighth.t, result.eighth.n, result.eighth.stage) == ("T2", "N3", "IVA")
    assert not result.changed
    assert "8th" in result.summary()
    frame = result.to_frame()
    assert list(frame["edition"]) == [7, 8] and list(frame["stage"]) == ["IVA", "IVA"]
    assert list(frame["t"]) == ["T4", "T2"]


def test_restage_downstages_pterygoid_only_patient() -> None:
    findings = StagingFindings(
        PrimaryFindings(lateral_pterygoid=True),
        NodalFindings(cervical="unilateral", greatest_dimension_cm=3.0),
        distant_metastasis=False,
    )
    result = restage(findings)
    assert result.seventh.stage == "IVA"
    assert result.eighth.stage == "II"
    assert result.changed
    seventh, eighth = result
    assert (seventh.edition, eighth.edition) == (7, 8)


def test_metastatic_patient() -> None:
    findings = StagingFindings(PrimaryFindings(), NodalFindings(), distant_metastasis=True)
    assert stage_findings(findings, 7).stage == "IVC"
    assert stage_findings(findings, 8).stage == "IVB"


# ---------------------------------------------------------------- findings monotonicity (hypothesis)

SITE_FLAGS = [
    "oropharynx", "nasal_cavity", "parapharyngeal_space", "medial_pterygoid", "lateral_pterygoid",
    "prevertebral_muscle", "skull_base", "cervical_vertebra", "pterygoid_structures",
    "paranasal_sinus", "intracranial", "cranial_nerve", "hypopharynx", "orbit", "parotid",
    "beyond_lateral_pterygoid",
]
T_RANK = {"T1": 1, "T2": 2, "T3": 3, "T4": 4}


@given(edition=st.sampled_from([7, 8]), base=st.sets(st.sampled_from(SITE_FLAGS)),
       extra=st.sampled_from(SITE_FLAGS))
def test_adding_an_involved_site_never_lowers_t(edition: int, base: set[str], extra: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClinicalWarning)
        before = derive_t_category(PrimaryFindings(**dict.fromkeys(base, True)), edition)
        after = derive_t_category(PrimaryFindings(**dict.fromkeys(base | {extra}, True)), edition)
    assert T_RANK[after] >= T_RANK[before]


@given(edition=st.sampled_from([7, 8]), cervical=st.sampled_from(["none", "unilateral", "bilateral"]),
       rp=st.booleans(), size=st.floats(0.5, 12), low=st.booleans(), scf=st.booleans(),
       grow=st.floats(0, 5))
def test_larger_or_lower_nodes_never_lower_n(edition: int, cervical: str, rp: bool, size: float,
                                             low: bool, scf: bool, grow: float) -> None:
    if cervical == "none" and not rp:
        rp = True
    rank = {"N0": 0, "N1": 1, "N2": 2, "N3": 3, "N3a": 3, "N3b": 3}
    small = NodalFindings(cervical=cervical, retropharyngeal=rp, greatest_dimension_cm=size)  # type: ignore[arg-type]
    big = NodalFindings(cervical="bilateral" if cervical != "none" else "none", retropharyngeal=rp,
                        greatest_dimension_cm=min(size + grow, 20.0), below_caudal_cricoid=low,
                        supraclavicular_fossa=scf)
    assert rank[derive_n_category(big, edition)] >= rank[derive_n_category(small, edition)]


def test_findings_from_mapping() -> None:
    findings = findings_from_mapping({
        "primary": {"lateral_pterygoid": True},
        "nodes": {"cervical": "unilateral", "greatest_dimension_cm": 3},
        "distant_metastasis": False,
    })
    assert restage(findings).eighth.stage == "II"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"primary": {"pterygoid_muscle": True}}, "primary.pterygoid_muscle"),
        ({"primary": {"skull_base": "yes"}}, "primary.skull_base"),
        ({"nodes": {"cervical": "both"}}, "nodes.cervical"),
        ({"nodes": {"greatest_dimension_cm": "3 cm"}}, "nodes.greatest_dimension_cm"),
        ({"distant_metastasis": 1}, "findings.distant_metastasis"),
        ({"metastasis": True}, "findings.metastasis"),
        ({"primary": []}, "primary"),
    ],
)
def test_findings_from_mapping_names_the_bad_finding(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        findings_from_mapping(data)
    assert info.value.field == field
