"""Data nobody prepared for npctrial: R's datasets without a config, recodes, units, rows per patient.

Every R dataset in tests/data/refs/data must end in a report, or in one error with exit 2, and a
draft config saying what was guessed; R's conventions (time/status coded 1/2 or 0/1,
futime/fustat, start/stop) are recognised and the estimates equal R's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from npctrial.cli import main
from npctrial.cohort import cox_table, infer_config, load_config
from npctrial.cohort.pipeline import load_prepared
from npctrial.cohort.plan import build_plan
from npctrial.errors import ConfigurationError, ValidationError
from tests.rrefs import REFS, load_ref

DATASETS = ("lung", "veteran", "ovarian", "mgus2", "bladder", "heart")


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, Path, str]]:
    base = tmp_path_factory.mktemp("rdata")
    out = {}
    for name in DATASETS:
        report = base / name
        code = main(["analyze", str(REFS / "data" / f"{name}.csv"), "--out", str(report)])
        out[name] = (code, report, name)
    return out


@pytest.mark.parametrize("name", DATASETS)
def test_r_dataset_without_config_ends_in_a_report_with_a_draft_config(analyzed: dict, name: str) -> None:
    code, report, _ = analyzed[name]
    assert code == 0
    assert (report / "report.html").is_file() and (report / "tables.xlsx").is_file()
    draft = yaml.safe_load((report / "study.inferred.yaml").read_text("utf-8"))
    assert draft["survival"], "an endpoint is recognised"
    html = (report / "report.html").read_text("utf-8")
    assert "Config inferred from the file" in html


def test_lung_status_1_2_is_read_as_r_surv_and_km_equals_r(analyzed: dict) -> None:
    _, report, _ = analyzed["lung"]
    draft = yaml.safe_load((report / "study.inferred.yaml").read_text("utf-8"))
    recode = next(d for d in draft["derived"] if d["source"] == "status")
    assert recode["mapping"] == {"1": 0, "2": 1}
    assert draft["survival"][0]["event"] == recode["name"] and draft["survival"][0]["group"] == "sex"
    medians = pd.read_csv(report / "tables" / "km_status_median.csv")
    r = json.loads((Path(__file__).parent / "data" / "refs.json").read_text())["km_median_by_sex"]
    assert medians["Median"].tolist() == pytest.approx(r["median"], abs=1e-12)
    assert draft["time_unit"] is None  # the unit of 'time' is not in its name: not guessed
    html = (report / "report.html").read_text("utf-8")
    assert "the time unit of &#x27;time&#x27; is not known" in html


def test_heart_counting_process_rows_give_r_cox(analyzed: dict) -> None:
    _, report, _ = analyzed["heart"]
    draft = yaml.safe_load((report / "study.inferred.yaml").read_text("utf-8"))
    assert draft["rows_per_patient"] == "intervals" and draft["cox"]["entry"] == "start"
    assert set(draft["cox"]["covariates"]) == {"age", "year", "surgery", "transplant"}
    # the draft, with R's multivariate model declared, reproduces coxph(Surv(start, stop, event) ~ ...)
    draft["cox"]["multivariate"] = ["age", "year", "surgery", "transplant"]
    prepared = load_prepared(REFS / "data" / "heart.csv", load_config(draft))
    x = prepared.plan.config.cox
    tab = cox_table(prepared.frame, title="t", time=x.time, event=x.event, covariates=x.covariates,
                    categorical=x.categorical, multivariate=x.multivariate, entry=x.entry)
    ref = next(a for a in load_ref("timedep")["analyses"] if a["id"] == "heart_cox")
    multi = tab.forest[tab.forest.model == "multivariate"].set_index("covariate")
    terms = ["age", "year", "surgery", "transplant"]
    r_coef = [ref["coef"][t if t in ref["coef"] else f"{t}1"] for t in terms]  # R: transplant is a factor
    assert np.log(multi.loc[terms, "hr"].to_numpy()) == pytest.approx(r_coef, rel=1e-9)


def test_bladder_several_rows_per_patient_first_row_rule_is_stated(analyzed: dict) -> None:
    _, report, _ = analyzed["bladder"]
    html = (report / "report.html").read_text("utf-8")
    assert "340 rows for 85 patients; the first row of each patient (in file order) is analysed" in html
    excluded = pd.read_csv(report / "excluded_rows.csv")
    assert len(excluded) == 255 and excluded["expected"].str.startswith("not analysed: rows_per_patient first").all()
    draft = yaml.safe_load((report / "study.inferred.yaml").read_text("utf-8"))
    assert "enum" not in draft["columns"]  # constant in the first rows: never a factor


def test_constant_column_is_never_a_factor() -> None:
    df = pd.DataFrame({"time": ["5", "8", "12", "20"], "status": ["1", "0", "1", "1"], "centre": ["A"] * 4,
                       "arm": ["x", "y", "x", "y"]})
    cfg, notes = infer_config(df)
    assert "centre" not in cfg.columns
    assert any("'centre' is constant ('A' in every row): not used as a factor" == n for n in notes)
    assert cfg.association is not None and cfg.association.variables == ["arm"]


def test_competing_causes_0_1_2_give_a_cumulative_incidence() -> None:
    df = pd.DataFrame({"time": [3, 5, 8, 9, 12, 15, 20, 22], "status": [1, 2, 0, 1, 2, 1, 0, 1]})
    cfg, notes = infer_config(df.astype(str))
    assert cfg.competing_risks and cfg.competing_risks[0].competing == "status_cause2"
    assert any("coded 0/1/2: competing causes" in n for n in notes)


def test_mgus2_futime_death_and_ptime_pstat_are_two_endpoints(analyzed: dict) -> None:
    _, report, _ = analyzed["mgus2"]
    draft = yaml.safe_load((report / "study.inferred.yaml").read_text("utf-8"))
    assert {(s["time"], s["event"]) for s in draft["survival"]} == {("ptime", "pstat"), ("futime", "death")}


def test_inferred_config_that_cannot_run_ends_in_one_error_and_leaves_the_draft(tmp_path: Path,
                                                                               capsys: pytest.CaptureFixture[str]
                                                                               ) -> None:
    df = pd.DataFrame({"id": ["a", "b", "c"], "start_date": ["03/04/2009", "05/06/2010", "01/02/2011"],
                       "last_followup_date": ["03/04/2012", "05/06/2013", "01/02/2014"], "death": ["1", "0", "1"]})
    df.to_csv(tmp_path / "c.csv", index=False)
    code = main(["analyze", str(tmp_path / "c.csv"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("error:") == 1 and "could be day/month or month/day" in err
    assert "study.inferred.yaml: correct it and run again with --config" in " ".join(err.split())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["npctrial-manifest.json", "study.inferred.yaml"]


CONFIG = {
    "columns": {"t": {"column": "t", "type": "number"}, "s": {"column": "s", "levels": ["1", "2"]},
                "arm": {"column": "arm", "levels": ["B", "A"]}},
    "derived": [{"name": "dead", "kind": "recode", "source": "s", "mapping": {1: 0, 2: 1}}],
    "survival": [{"name": "os", "title": "OS", "time": "t", "event": "dead", "group": "arm"}],
}


def test_recode_to_numbers_has_numeric_semantics(tmp_path: Path) -> None:
    pd.DataFrame({"t": [5, 8, 12], "s": [2, 1, 2], "arm": ["A", "B", "A"]}).to_csv(tmp_path / "c.csv", index=False)
    prepared = load_prepared(tmp_path / "c.csv", load_config(CONFIG))
    assert prepared.frame["dead"].tolist() == [1.0, 0.0, 1.0] and prepared.frame["dead"].dtype == float
    assert int(prepared.frame["dead"].sum()) == 2  # a sum, not "101" concatenated
    assert prepared.plan.variable("dead").kind == "binary"
    assert prepared.plan.levels("arm") == ["B", "A"] and prepared.plan.reference("arm") == "B"


def test_recode_key_that_is_not_a_level_is_an_error_naming_it() -> None:
    bad = {**CONFIG, "derived": [{"name": "dead", "kind": "recode", "source": "s", "mapping": {1: 0, 22: 1}}]}
    with pytest.raises(ConfigurationError, match="recode key '22' is not a level of 's' \\(levels: 1, 2\\)"):
        build_plan(load_config(bad))


def test_numeric_recode_refuses_an_unmapped_value_naming_its_row(tmp_path: Path) -> None:
    cfg = {**CONFIG, "columns": {**CONFIG["columns"], "s": {"column": "s"}}}  # levels not declared
    pd.DataFrame({"t": [5, 8, 12], "s": [2, 3, 2], "arm": ["A", "B", "A"]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValidationError, match="row 3: derived 'dead': value '3' of 's' has no number"):
        load_prepared(tmp_path / "c.csv", load_config(cfg))
    pd.DataFrame({"t": [5, 8, 12], "s": [2, 1, 2], "arm": ["A", "B", "A"]}).to_csv(tmp_path / "c.csv", index=False)
    cfg["derived"] = [{"name": "dead", "kind": "recode", "source": "s", "mapping": {1: 0, 2: 1, 22: 1}}]
    with pytest.raises(ConfigurationError, match="recode key '22' is not a level of 's' \\(levels: 1, 2\\)"):
        load_prepared(tmp_path / "c.csv", load_config(cfg))  # checked against the values present


def test_text_event_is_refused_with_the_fix() -> None:
    bad = {**CONFIG, "derived": [{"name": "dead", "kind": "recode", "source": "s", "mapping": {1: "Alive", 2: "Dead"}}]}
    with pytest.raises(ConfigurationError, match="event 'dead' is a category .* recode it to numbers"):
        build_plan(load_config(bad))


def test_yaml_booleans_are_not_guessed_as_levels() -> None:
    text = "columns:\n  r: {column: r, levels: [Yes, No]}\n"
    with pytest.raises(ConfigurationError, match="True is a YAML boolean"):
        load_config(yaml.safe_load(text))


@pytest.mark.parametrize("unit, factor", [("days", 1.0), ("weeks", 7.0), ("months", 30.4375), ("years", 365.25)])
def test_durations_in_each_unit(tmp_path: Path, unit: str, factor: float) -> None:
    cfg = {"time_unit": unit, "columns": {"a": {"column": "a", "type": "date"}, "b": {"column": "b", "type": "date"}},
           "derived": [{"name": "d", "kind": "duration", "start": "a", "end": ["b"]}]}
    pd.DataFrame({"a": ["2010-01-01", "2010-01-01"], "b": ["2011-01-01", "2010-03-01"]}).to_csv(tmp_path / "c.csv",
                                                                                               index=False)
    prepared = load_prepared(tmp_path / "c.csv", load_config(cfg))
    assert prepared.frame["d"].tolist() == pytest.approx([365 / factor, 59 / factor], rel=1e-15)
    assert prepared.plan.unit("d") == unit


def test_number_durations_are_converted_to_the_report_unit(tmp_path: Path) -> None:
    cfg = {"time_unit": "months", "columns": {"t": {"column": "t", "type": "number", "unit": "days"},
                                              "e": {"column": "e", "type": "binary"}},
           "survival": [{"name": "os", "title": "OS", "time": "t", "event": "e"}]}
    pd.DataFrame({"t": [365.25, 730.5], "e": [1, 0]}).to_csv(tmp_path / "c.csv", index=False)
    prepared = load_prepared(tmp_path / "c.csv", load_config(cfg))
    assert prepared.frame["t"].tolist() == pytest.approx([12.0, 24.0], rel=1e-15)
    assert prepared.plan.landmarks["os"] == (12.0, 24.0, 36.0, 60.0)


def test_event_flag_and_date_are_checked_against_each_other(tmp_path: Path) -> None:
    cfg = {"id_column": "pid", "columns": {
        "pid": {"column": "pid"}, "met": {"column": "met", "type": "binary", "date": "met_date"},
        "met_date": {"column": "met_date", "type": "date", "allow_missing": True}}}
    pd.DataFrame({"pid": ["P1", "P2", "P3"], "met": ["1", "0", "1"],
                  "met_date": ["", "2011-05-06", "2012-01-01"]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValidationError) as info:
        load_prepared(tmp_path / "c.csv", load_config(cfg))
    msg = str(info.value)
    assert "row 2 (patient P1), column 'met_date': the date of the event, since met is 1 on this row" in msg
    assert "row 3 (patient P2), column 'met': got '0', expected 1, since met_date gives the event a date" in msg


def test_several_rows_per_patient_rule_last_ordered_by_a_date(tmp_path: Path) -> None:
    cfg = {"id_column": "pid", "rows_per_patient": "last", "order_rows_by": "visit",
           "columns": {"pid": {"column": "pid"}, "visit": {"column": "visit", "type": "date"},
                       "ecog": {"column": "ecog", "levels": ["0", "1", "2"]}}}
    pd.DataFrame({"pid": ["A", "A", "B"], "visit": ["2011-02-01", "2010-01-01", "2010-05-05"],
                  "ecog": ["2", "0", "1"]}).to_csv(tmp_path / "c.csv", index=False)
    prepared = load_prepared(tmp_path / "c.csv", load_config(cfg))
    assert prepared.frame.set_index("pid")["ecog"].to_dict() == {"A": "2", "B": "1"}
    assert prepared.excluded["row"].tolist() == [3]
    assert any("the last row of each patient (ordered by visit)" in n for n in prepared.notes)
    with pytest.raises(ValidationError, match="already on row 2"):
        load_prepared(tmp_path / "c.csv", load_config({**cfg, "rows_per_patient": "one", "order_rows_by": None}))


def test_event_dates_without_flags_are_endpoints() -> None:
    df = pd.DataFrame({"patient_id": ["a", "b", "c", "d"],
                       "diagnosis_date": ["2010-01-05", "2010-02-01", "2010-03-01", "2010-04-01"],
                       "death_date": ["2012-01-05", "", "", "2011-06-01"],
                       "last_contact_date": ["2012-01-05", "2013-02-01", "2013-03-01", "2011-06-01"]})
    cfg, notes = infer_config(df)
    kinds = {d.name: d.kind for d in cfg.derived}
    assert kinds == {"death_event": "event", "death_months": "duration"}
    assert cfg.survival[0].time == "death_months" and cfg.survival[0].event == "death_event"
    assert any("1 where death_date is given" in n for n in notes)
