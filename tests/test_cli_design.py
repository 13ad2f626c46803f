"""The design CLI: `npctrial design simon|ahern|fleming|events|lachin-foulkes|one-arm|schedule|
simulate|balance`."""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd
import pytest

from npctrial import cli


def _run(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> tuple[str, str]:
    assert cli.main(["design", *argv]) == code
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_simon_prints_the_published_design(capsys):
    out, _ = _run(capsys, ["simon", "--p0", "0.2", "--p1", "0.4", "--alpha", "0.05",
                           "--power", "0.8"])
    # Simon (1989): optimal 3/13, 12/43
    assert "enrol 13 patients" in out and "more than 12 of 43" in out
    out, _ = _run(capsys, ["simon", "--p0", "0.2", "--p1", "0.4", "--design", "minimax"])
    assert "enrol 18 patients" in out and "more than 10 of 33" in out
    out, _ = _run(capsys, ["simon", "--p0", "0.2", "--p1", "0.4", "--design", "admissible"])
    assert "minimax" in out and "optimal" in out and "q_low" in out


def test_single_stage_commands(capsys):
    out, _ = _run(capsys, ["ahern", "--p0", "0.05", "--p1", "0.2"])
    assert "Enrol 27 patients" in out and "4 or more respond" in out   # A'Hern 2001
    out, _ = _run(capsys, ["fleming", "--p0", "0.05", "--p1", "0.2"])
    assert "Enrol 22 patients" in out


def test_events_and_lachin_foulkes(capsys):
    out, _ = _run(capsys, ["events", "--hr", "0.7"])
    assert "247 events" in out and "253 events" in out    # Schoenfeld, Freedman
    out, _ = _run(capsys, ["lachin-foulkes", "--hazard-control", "0.2", "--hr", "0.5",
                           "--dropout", "0.1", "--accrual", "0.5", "--follow-up", "1.5",
                           "--alpha", "0.025", "--power", "0.9", "--sided", "1"])
    assert "430 patients" in out and "91 events" in out
    out, _ = _run(capsys, ["one-arm", "--landmark", "1", "--rate-null", "0.7", "--rate-alt", "0.8"])
    assert "events" in out


def test_schedule_writes_csv_and_prints_its_sha256(capsys, tmp_path):
    path = tmp_path / "schedule.csv"
    out, _ = _run(capsys, ["schedule", "--arms", "A,B", "--block-sizes", "4,6", "--strata",
                           "stage=III,IVA", "--n", "100", "--seed", "1", "--out", str(path)])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert re.search(rf"SHA-256 {digest}", out)
    frame = pd.read_csv(path)
    assert len(frame) == 200 and set(frame["stratum"]) == {"stage=III", "stage=IVA"}
    # same seed -> same file; another seed -> another hash
    path2 = tmp_path / "again.csv"
    _run(capsys, ["schedule", "--arms", "A,B", "--strata", "stage=III,IVA", "--n", "100",
                  "--seed", "1", "--out", str(path2)])
    assert path2.read_bytes() == path.read_bytes()
    out3, _ = _run(capsys, ["schedule", "--arms", "A,B", "--strata", "stage=III,IVA", "--n", "100",
                            "--seed", "2", "--out", str(tmp_path / "other.csv")])
    assert digest not in out3


def test_schedule_bad_input_is_one_error_line(capsys):
    _, err = _run(capsys, ["schedule", "--arms", "A,B", "--ratio", "2,1", "--block-sizes", "4",
                           "--n", "3", "--seed", "1"], code=2)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "block size 4 is not a multiple of the ratio total 3" in lines[0]
    _, err = _run(capsys, ["schedule", "--arms", "A,B", "--strata", "stage", "--n", "3",
                           "--seed", "1"], code=2)
    assert "--strata must look like factor=level1,level2" in err


def test_simulate_simon_and_survival(capsys):
    out, _ = _run(capsys, ["simulate", "--p0", "0.2", "--p1", "0.4", "--n-sims", "2000",
                           "--seed", "3"])
    # exact type I error of Simon's optimal 3/13, 12/43 at p0 = 0.2, by direct enumeration:
    # P(X1 > 3 and X1 + X2 > 12), X1 ~ Bin(13, .2), X2 ~ Bin(30, .2)
    b = [[math.comb(m, x) * 0.2**x * 0.8 ** (m - x) for x in range(m + 1)] for m in (13, 30)]
    alpha = sum(b[0][x1] * b[1][x2] for x1 in range(4, 14) for x2 in range(31) if x1 + x2 > 12)
    assert "type I error" in out and f"exact {alpha:.4f}" in out
    out, _ = _run(capsys, ["simulate", "--hr", "0.6", "--median-control", "3", "--accrual", "3",
                           "--follow-up", "2", "--n-sims", "200", "--seed", "3"])
    assert "log-rank" in out and "power" in out
    _, err = _run(capsys, ["simulate", "--hr", "0.6"], code=2)
    assert "--median-control" in err


def test_balance(capsys):
    out, _ = _run(capsys, ["balance", "--strata", "stage=III,IVA", "--n", "40", "--n-sims", "10"])
    assert "minimisation" in out and "permuted blocks" in out


def test_schedule_to_stdout_is_pure_csv_with_hash_on_stderr(capsys):
    out, err = _run(capsys, ["schedule", "--arms", "A,B", "--n", "8", "--seed", "5",
                             "--conceal-blocks"])
    assert out.splitlines()[0] == "stratum,sequence,arm" and len(out.splitlines()) == 9
    assert f"SHA-256 {hashlib.sha256(out.encode()).hexdigest()}" in err
