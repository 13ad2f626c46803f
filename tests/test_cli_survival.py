"""The survival CLI: `npctrial survival km|logrank|rmst FILE ...` on the R reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

from npctrial import cli
from npctrial.survival import logrank_test
from tests.conftest import REFS

LUNG = REFS / "data" / "lung.csv"


def _run(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> tuple[str, str]:
    assert cli.main(["survival", *argv]) == code
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_km_prints_table_times_and_writes_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "km.png"
    out, _ = _run(
        capsys,
        [
            "km", str(LUNG), "--time", "time", "--event", "status", "--group", "sex",
            "--status-coding", "r", "--times", "180,365", "--plot", str(png),
        ],
    )
    assert "sex=1" in out and "sex=2" in out and "median" in out
    assert "180" in out and "365" in out
    assert png.is_file() and png.stat().st_size > 10_000


def test_logrank_matches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _run(
        capsys,
        ["logrank", str(LUNG), "--time", "time", "--event", "status", "--group", "sex", "--status-coding", "r",
         "--pairwise", "holm"],
    )
    import pandas as pd

    df = pd.read_csv(LUNG)
    res = logrank_test(df["time"], df["status"], df["sex"], status_coding="r")
    assert f"Chisq= {res.chisq:.4g}" in out
    assert "Pairwise comparisons (p-value adjustment: holm)" in out


def test_rmst_two_groups(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _run(
        capsys,
        ["rmst", str(LUNG), "--time", "time", "--event", "status", "--group", "sex", "--status-coding", "r",
         "--tau", "365"],
    )
    assert "difference (sex=2 - sex=1)" in out


def test_bad_input_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    _, err = _run(capsys, ["km", str(LUNG), "--time", "nope", "--event", "status"], code=2)
    assert err.startswith("error:") and "'nope' not found" in err
    _, err = _run(capsys, ["km", str(LUNG), "--time", "time", "--event", "status"], code=2)
    assert "status_coding='r'" in err
    _, err = _run(capsys, ["km", "missing.csv", "--time", "t", "--event", "e"], code=2)
    assert "does not exist" in err
