"""Immortal time: the bundled example's paper analyses are flagged, and the unbiased analyses
(landmark, time-dependent covariate, survival from the event date) equal R (make_refs.R on
tests/cohort/data/demo_cohort.csv: subset(os > L) + coxph/survdiff, tmerge/tdc + coxph)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from npctrial.cohort import load_config
from npctrial.cohort.immortal_time import find_immortal_time, landmark_analysis, time_dependent_cox
from npctrial.cohort.methods import compose_methods
from npctrial.cohort.pipeline import load_prepared
from npctrial.cohort.survival_tables import select_rows

DATA = Path(__file__).parent / "data"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-2016.yaml"
R = json.loads((DATA / "refs.json").read_text())


@pytest.fixture(scope="module")
def prepared():
    return load_prepared(DATA / "demo_cohort.csv", load_config(EXAMPLE))


def test_landmark_analysis_equals_r(prepared) -> None:
    la = landmark_analysis(prepared.frame, name="lm", title="OS", time="os_months", event="death", status="metastasis",
                           status_time="dmfs_months", at=[12, 24], labels={"1": "M+", "0": "M-"})
    for k, at in enumerate(("12", "24")):
        ref = R["landmark"][at]
        row = la.table.iloc[k]
        assert (row["At risk"], row["M+"], row["Events after"]) == (ref["n"], ref["n_met"], ref["events"])
        assert la.hazard_ratios[k] == pytest.approx(ref["hr"], rel=1e-9)
        assert la.analyses[k].logrank_p == pytest.approx(ref["logrank_p"], rel=1e-9)
        assert row["Landmark"] == at  # no ".0"
    assert "excluded - event at or before the landmark" in la.notes[0]


def test_time_dependent_cox_equals_r_and_shows_the_biased_fixed_model(prepared) -> None:
    res = time_dependent_cox(prepared.frame, name="td", title="OS", time="os_months", event="death",
                             status="metastasis", status_time="dmfs_months", covariates=["treatment"],
                             categorical=["treatment"], levels={"treatment": ["RT alone", "Chemoradiotherapy"]})
    ref = R["time_dependent"]
    assert res.n_intervals == ref["n_intervals"]
    assert res.estimates["hr"].to_numpy() == pytest.approx(ref["hr"], rel=1e-9)
    assert res.estimates["hr_fixed"].to_numpy() == pytest.approx(ref["hr_fixed"], rel=1e-9)
    assert res.table["Term"].tolist() == ["metastasis", "treatment: Chemoradiotherapy vs RT alone"]


def test_paper_analyses_are_flagged_and_the_corrected_ones_are_not(prepared) -> None:
    plan, frame = prepared.plan, prepared.frame
    metastatic = select_rows(frame, {"metastasis": ["1"]})
    flagged = find_immortal_time(plan, frame, "os_months", ["metastasis_group"], "Figure 1a")
    assert len(flagged) == 1 and "depends on metastasis_date (91 patients)" in flagged[0]
    table4 = find_immortal_time(plan, metastatic, "os_months", ["remission_group", "treatment", "site_group"], "T4")
    assert len(table4) == 1 and "'Remission duration' is known only after the time origin" in table4[0]
    assert find_immortal_time(plan, metastatic, "os_after_metastasis_months",
                              ["remission_group", "treatment", "site_group"], "from metastasis") == []


def test_methods_name_the_immortal_time_analyses_only_when_they_ran(prepared) -> None:
    with_lm = compose_methods({"km", "landmark", "time_dependent", "from_event"}, prepared.plan)
    assert "landmark analysis" in with_lm and "time-dependent covariates" in with_lm and "date of that event" in with_lm
    plain = compose_methods({"km"}, prepared.plan)
    assert "landmark" not in plain and "Cox" not in plain and "log-rank" not in plain


def test_report_warns_and_notes_under_the_paper_tables(prepared, tmp_path: Path) -> None:
    from npctrial.cohort.report_builder import build_report
    from npctrial.errors import StatisticalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        report = build_report(prepared.frame, prepared.plan, tmp_path, cohort_name="demo", n_rows=530,
                              excluded=prepared.excluded)
    assert any("immortal-time bias" in w and "Distant metastasis" in w for w in report.warnings)
    notes = report.table("os_by_metastasis").notes
    assert any(n.startswith("Warning: survival 'os_by_metastasis'") for n in notes)
    assert not any("immortal" in n and n.startswith("Warning") for n in report.table("table4_from_metastasis").notes)
    assert {"os_landmark_metastasis", "os_metastasis_time_dependent"} <= {t.name for t in report.tables}
    assert "landmark analysis" in report.methods and "Efron method" in report.methods


def test_patients_with_unknown_status_are_counted_as_left_out(prepared) -> None:
    frame = prepared.frame.copy()
    frame.loc[frame.index[:3], "metastasis"] = None
    la = landmark_analysis(frame, name="lm", title="OS", time="os_months", event="death", status="metastasis",
                           status_time="dmfs_months", at=[12])
    assert la.notes[0] == "3 of 530 patients left out: os_months, death, metastasis not known for them."
    assert int(la.table.iloc[0]["At risk"]) < 530 - 3 + 1
    res = time_dependent_cox(frame, name="td", title="OS", time="os_months", event="death", status="metastasis",
                             status_time="dmfs_months")
    assert res.notes[0] == "3 of 530 patients left out: os_months, death, metastasis not known for them."
    assert "of 527 patients" in res.notes[1]
