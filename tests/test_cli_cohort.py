"""CLI: npctrial demo-cohort and npctrial analyze."""

from pathlib import Path

import pandas as pd
import pytest

from npctrial.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "paper-2016.yaml"


def test_demo_cohort_writes_530_patients(tmp_path: Path) -> None:
    out = tmp_path / "cohort.csv"
    assert main(["demo-cohort", "--out", str(out), "--seed", "1"]) == 0
    df = pd.read_csv(out)
    assert len(df) == 530 and int(df.metastasis.sum()) == 91


def test_demo_cohort_rejects_unknown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-cohort", "--out", str(tmp_path / "c.json")]) == 2
    assert "error:" in capsys.readouterr().err


def test_analyze_bad_cohort_exits_2_with_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "cohort.csv"
    assert main(["demo-cohort", "--out", str(cohort)]) == 0
    df = pd.read_csv(cohort, dtype=str, keep_default_na=False)
    df.loc[0, "n_stage_7th"] = "N9"
    df.loc[2, "metastasis"] = "2"
    df.to_csv(cohort, index=False)
    capsys.readouterr()
    code = main(["analyze", str(cohort), "--config", str(EXAMPLE), "--out", str(tmp_path / "report")])
    err = capsys.readouterr().err
    assert code == 2
    assert "row 2 (patient NPC0001), column 'n_stage_7th': got 'N9'" in err
    assert "row 4 (patient NPC0003), column 'metastasis': got '2'" in err
    assert not (tmp_path / "report").exists()


def test_analyze_without_config_infers_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "cohort.csv"
    main(["demo-cohort", "--out", str(cohort)])
    out = tmp_path / "report"
    assert main(["analyze", str(cohort), "--out", str(out)]) == 0
    text = "".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "study.inferred.yaml" in text
    assert "theconfigwasinferredfromthefile" in text and "guessed:'rt_start_date'->rt_start_date(date)" in text
    assert (out / "study.inferred.yaml").is_file()
    assert (out / "report.html").is_file()
