"""The domain CLI commands: `npctrial stage` and `npctrial bsa`."""

from __future__ import annotations

import re

import pytest

from npctrial import cli


def _stage_row(out: str) -> str:
    match = re.search(r"Stage\s*\S\s*(\S+)", out)
    assert match, out
    return match.group(1)


@pytest.mark.parametrize(
    ("argv", "stage"),
    [
        (["stage", "T3", "N2", "M0", "--edition", "8"], "III"),
        (["stage", "cT3N2M0"], "III"),
        (["stage", "T4", "N3", "M0", "--edition", "7"], "IVB"),
        (["stage", "T4", "N3", "M0"], "IVA"),
        (["stage", "T1", "N0", "M1", "-e", "7"], "IVC"),
        (["stage", "T0", "N0", "M0"], "none"),
    ],
)
def test_stage(capsys: pytest.CaptureFixture[str], argv: list[str], stage: str) -> None:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert _stage_row(out) == stage


def test_stage_prints_published_wording(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stage", "T3", "N2", "M0"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "8th edition" in out and "skull" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["stage", "T5", "N0", "M0"], "T5"),
        (["stage", "cT5N0M0"], "cT5N0M0"),
        (["stage", "T3", "N3a", "M0", "--edition", "8"], "N3a"),
        (["stage", "T3", "N2"], "tnm"),
        (["stage", "T3", "N2", "M0", "--edition", "6"], "edition"),
        (["bsa", "--height", "170", "--weight", "-3"], "weight_kg must be > 0"),
        (["bsa", "--height", "1.7", "--weight", "65"], "height_cm"),
        (["bsa", "--height", "170", "--weight", "65", "--formula", "nope"], "formula"),
        (["bsa", "--height", "170", "--weight", "65", "--bands", "nope"], "bands"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error:") and needle in err[0]


def test_bsa(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bsa", "--height", "170", "--weight", "65"]) == 0
    out = capsys.readouterr().out
    assert "mosteller" in out and "1.7520" in out


def test_bsa_all_formulas_with_bands(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bsa", "--height", "160", "--weight", "50", "--formula", "all", "--decimals", "2",
            "--bands", "s1-imrt-protocol"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    for name, raw in [("mosteller", "1.4907"), ("dubois", "1.5011"), ("haycock", "1.4873"), ("boyd", "1.4977")]:
        assert name in captured.out and raw in captured.out
    assert "40 mg x2/day" in captured.out
    # DuBois rounds to exactly 1.50 m2, the boundary the protocol leaves ambiguous.
    assert "warning:" in captured.err and "ambiguous" in captured.err


def test_bsa_cap_and_large_bsa_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bsa", "--height", "200", "--weight", "140", "--cap", "2.0"]) == 0
    captured = capsys.readouterr()
    assert "2.7889" in captured.out and "2.0000" in captured.out and "applied" in captured.out
    assert "above 2.5" in captured.err
