"""CLI: ``npctrial eligibility`` and ``npctrial demo``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from npctrial.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "patients"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_eligible_example(capsys) -> None:
    code, out, _ = run(capsys, "eligibility", str(EXAMPLES / "imrt-s1-eligible.yaml"), "--protocol", "imrt-s1")
    assert code == 0
    assert "NPC-01-001: ELIGIBLE" in out
    assert "hb >= 100" in out and "hb=138 g/L" in out


def test_ineligible_report_still_exits_zero(capsys) -> None:
    code, out, _ = run(capsys, "eligibility", str(EXAMPLES / "imrt-s1-ineligible.yaml"))
    assert code == 0
    assert "INELIGIBLE" in out and "I2, I5" in out
    assert "not met" in out and "hb=95 g/L" in out


def test_incomplete_example_lists_missing(capsys) -> None:
    code, out, _ = run(capsys, "eligibility", str(EXAMPLES / "imrt-s1-incomplete.yaml"), "--wording")
    assert code == 0
    assert "INCOMPLETE" in out and "missing" in out
    assert "E4: allergy to S-1" in out


def test_nimotuzumab_example(capsys) -> None:
    code, out, _ = run(capsys, "eligibility", str(EXAMPLES / "nimotuzumab-high-risk.yaml"))
    assert code == 0 and ": ELIGIBLE" in out


def test_every_example_names_a_shipped_protocol() -> None:
    from npctrial.domain.protocol import available_protocols

    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        assert yaml.safe_load(path.read_text())["protocol"] in available_protocols()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eligibility", "no-such-file.yaml", "--protocol", "imrt-s1"], "patient file not found"),
        (["eligibility", "{patient}", "--protocol", "nope"], "unknown protocol 'nope'"),
        (["eligibility", "{bad_yaml}", "--protocol", "imrt-s1"], "not valid YAML"),
        (["eligibility", "{no_protocol}"], "no protocol"),
        (["eligibility", "{bad_value}", "--protocol", "imrt-s1"], "hb must be a number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("hb: 120\n")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("hb: [120\n")
    no_protocol = tmp_path / "np.yaml"
    no_protocol.write_text("hb: 120\n")
    bad_value = tmp_path / "bv.yaml"
    bad_value.write_text("hb: low\n")
    paths = {"patient": patient, "bad_yaml": bad_yaml, "no_protocol": no_protocol, "bad_value": bad_value}
    argv = [a.format(**paths) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1


def test_demo_prints_all_tables(capsys) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    for title in ("Eligibility", "Staging", "S-1 dosing", "High risk"):
        assert title in out
    for pid in ("NPC-01-001", "NPC-01-005", "NPC-02-003"):
        assert pid in out
    assert "boundary ambiguous" in out  # NPC-01-005 has BSA exactly 1.50 m2
