"""Derived variables, including 7th -> 8th restaging from findings (AJCC 7th 2010 / 8th 2017)."""

import numpy as np
import pandas as pd
import pytest

from npctrial.cohort import StudyConfig, derive_variables, load_config
from npctrial.errors import ValidationError

FINDINGS = {
    "primary.skull_base": "skull_base",
    "primary.medial_pterygoid": "medial_pterygoid",
    "nodes.cervical": "cervical",
    "nodes.greatest_dimension_cm": "node_cm",
}


def config(derived: list[dict]) -> StudyConfig:
    cols = {k: {"column": k} for k in ("skull_base", "medial_pterygoid", "cervical", "t", "n", "age", "start", "end", "met")}
    return load_config({"columns": cols, "derived": derived})


def test_restage_from_findings() -> None:
    # Medial pterygoid involvement: 7th T4 (masticator space), 8th T2 (Amin 2017; Pan 2016).
    # A unilateral 7 cm node: 7th N3a, 8th N3 (> 6 cm); with T1: 7th IVB, 8th IVA.
    # Bilateral 3 cm nodes above the cricoid: N2 in both; with skull-base erosion T3 -> III.
    cfg = config([
        {"name": "t7", "kind": "restage", "edition": 7, "part": "t", "findings": FINDINGS},
        {"name": "t8", "kind": "restage", "edition": 8, "part": "t", "findings": FINDINGS},
        {"name": "s7", "kind": "restage", "edition": 7, "findings": FINDINGS},
        {"name": "s8", "kind": "restage", "edition": 8, "findings": FINDINGS},
    ])
    df = pd.DataFrame({
        "skull_base": ["0", "1", "no", None],
        "medial_pterygoid": ["1", "0", "no", "0"],
        "cervical": ["none", "bilateral", "unilateral", "none"],
        "node_cm": [np.nan, 3.0, 7.0, np.nan],
    })
    out = derive_variables(df, cfg)
    assert out["t7"].tolist()[:3] == ["T4", "T3", "T1"]
    assert out["t8"].tolist()[:3] == ["T2", "T3", "T1"]
    assert out["s7"].tolist()[:3] == ["IVA", "III", "IVB"]
    assert out["s8"].tolist()[:3] == ["II", "III", "IVA"]
    assert out["s8"].iloc[3] is None  # a missing finding: no restaging


def test_stage_group_threshold_recode_duration() -> None:
    cfg = config([
        {"name": "stage", "kind": "stage_group", "source": ["t", "n"], "edition": 7},
        {"name": "age_group", "kind": "threshold", "source": "age", "threshold": 44, "labels": [">=44", "<44"]},
        {"name": "met_label", "kind": "recode", "source": "met", "mapping": {"1": "Yes", "0": "No"}},
        {"name": "months", "kind": "duration", "start": "start", "end": ["end"]},
    ])
    df = pd.DataFrame({
        "t": ["T1", "T2", "T4", "T1"], "n": ["N0", "N1", "N0", "N3"], "age": [44.0, 43.9, np.nan, 70],
        "met": [1.0, 0.0, 1.0, np.nan],
        "start": pd.to_datetime(["2010-01-01"] * 4), "end": pd.to_datetime(["2011-01-01", "2010-01-01", "2010-07-02", "2010-01-31"]),
    })
    out = derive_variables(df, cfg)
    # AJCC 7th: T1N0 I; T2N1 II; T4N0 IVA; any N3 IVB
    assert out["stage"].tolist() == ["I", "II", "IVA", "IVB"]
    assert out["age_group"].tolist()[:2] == [">=44", "<44"] and out["age_group"].iloc[2] is None
    assert out["met_label"].tolist()[:3] == ["Yes", "No", "Yes"]
    assert out["months"].tolist() == pytest.approx([365 / 30.4375, 0.0, 182 / 30.4375, 30 / 30.4375])


def test_invalid_category_in_stage_names_row() -> None:
    cfg = config([{"name": "stage", "kind": "stage_group", "source": ["t", "n"], "edition": 7}])
    # the validated frame is indexed by the spreadsheet row numbers (header on row 1)
    frame = pd.DataFrame({"t": ["T1", "T9"], "n": ["N0", "N0"]}, index=pd.Index([2, 3], name="row"))
    with pytest.raises(ValidationError, match="row 3"):
        derive_variables(frame, cfg)
