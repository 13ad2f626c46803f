"""The public API of npctrial.domain is exactly this list (add names here when adding them)."""

from __future__ import annotations

import importlib

import npctrial.domain as domain

EXPECTED = sorted([
    # ctcae
    "ClinicalTerm",
    "GradeDescription",
    "LabTerm",
    "clinical_term_grades",
    "clinical_terms",
    "grade_description",
    "grade_lab",
    "grade_weight_loss",
    "lab_terms",
    # radiobiology
    "bed",
    "eqd2",
    # dosing
    "BSADose",
    "BSAResult",
    "BandTable",
    "BandedDose",
    "CarboplatinDose",
    "CreatinineClearance",
    "DoseBand",
    "band_table_from_dict",
    "banded_dose",
    "body_surface_area",
    "bsa_dose",
    "carboplatin_dose",
    "cisplatin_dose",
    "cockcroft_gault",
    "cumulative_dose_per_m2",
    "load_band_table",
    # staging
    "NodalFindings",
    "PrimaryFindings",
    "Restaging",
    "StageResult",
    "StagingFindings",
    "TNM",
    "derive_n_category",
    "derive_t_category",
    "parse_tnm",
    "restage",
    "stage_findings",
    "stage_group",
])


def test_all_is_locked() -> None:
    assert sorted(domain.__all__) == EXPECTED


def test_every_name_is_importable() -> None:
    module = importlib.import_module("npctrial.domain")
    for name in EXPECTED:
        assert getattr(module, name) is not None, name
