"""Config schema, inference and the file formats."""

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from npctrial.cohort import dump_config, infer_config, load_config, make_demo_cohort, read_cohort
from npctrial.errors import ConfigurationError, ValidationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-2016.yaml"


def test_example_config_loads_and_round_trips() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.association is not None and len(cfg.association.variables) == 8
    assert cfg.label("t_stage") == "2010 UICC/AJCC T staging"
    again = load_config(__import__("yaml").safe_load(dump_config(cfg)))
    assert again == cfg


@pytest.mark.parametrize(
    "data, match",
    [
        ({"columns": {"a": {"column": "A", "type": "colour"}}}, "columns.a.type"),
        ({"columns": {}, "association": {"outcome": "x", "variables": ["y"]}}, "unknown variable 'x'"),
        ({"columns": {"a": {"column": "A"}}, "derived": [{"name": "b", "kind": "threshold", "source": "a"}]},
         "needs threshold, labels"),
        ({"columns": {}, "surprise": 1}, "surprise"),
        ({"columns": {"t": {"column": "t"}, "e": {"column": "e"}, "a": {"column": "a"}},
          "cox": {"time": "t", "event": "e", "covariates": ["a"], "reference": {"a": "x"}}},
         r"cox.reference names \['a'\], which are not in cox.categorical"),
    ],
)
def test_bad_configs(data: dict, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        load_config(data)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_config(tmp_path / "none.yaml")


def test_infer_config_from_demo_columns() -> None:
    cfg, notes = infer_config(make_demo_cohort(1))
    assert cfg.columns["rt_start_date"].type == "date"
    assert cfg.columns["acute_mucositis"].type == "grade"
    assert cfg.columns["metastasis"].type == "binary"
    assert cfg.columns["t_stage_7th"].levels == ["T1", "T2", "T3", "T4"]
    assert cfg.association is not None and "t_stage_7th" in cfg.association.variables
    assert any("rt_start_date" in n for n in notes)
    durations = {d.name: (d.start, d.end) for d in cfg.derived}
    assert durations["metastasis_months"] == ("rt_start_date", ["metastasis_date", "last_followup_date"])
    assert durations["death_months"] == ("rt_start_date", ["last_followup_date"])
    assert {s.event for s in cfg.survival} == {"metastasis", "death"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".sav", ".dta"])
def test_every_format_reads_back(tmp_path: Path, suffix: str) -> None:
    df = make_demo_cohort(1).head(40)
    path = tmp_path / f"cohort{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".xlsx":
        df.to_excel(path, index=False)
    elif suffix == ".parquet":
        df.to_parquet(path)
    elif suffix == ".sav":
        pyreadstat.write_sav(df, str(path))
    else:
        pyreadstat.write_dta(df, str(path))
    back = read_cohort(path)
    assert list(back.columns) == list(df.columns)
    assert len(back) == 40
    assert back["t_stage_7th"].astype(str).tolist() == df["t_stage_7th"].tolist()
    assert pd.to_numeric(back["age"]).tolist() == df["age"].tolist()


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValidationError, match="unsupported format"):
        read_cohort(tmp_path / "x.json")
    with pytest.raises(ValidationError, match="not found"):
        read_cohort(tmp_path / "nope.csv")
