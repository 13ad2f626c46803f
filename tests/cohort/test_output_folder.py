"""--out never destroys: only new/empty folders or a previous npctrial report (by its manifest) are written."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from npctrial.cli import main
from npctrial.cohort import make_demo_cohort, run_analysis
from npctrial.cohort.output_folder import MANIFEST, MARKER, clean_leftovers, staged_output
from npctrial.errors import ValidationError

SRC = Path(__file__).resolve().parents[2] / "src"
SMALL_CONFIG = """\
title: Overall survival by treatment
id_column: patient_id
columns:
  patient_id: {column: patient_id, type: category}
  treatment: {column: treatment, type: category, levels: [RT alone, Chemoradiotherapy]}
  rt_start: {column: rt_start_date, type: date}
  death: {column: death, type: binary}
  last_followup: {column: last_followup_date, type: date}
derived:
  - {name: os_months, kind: duration, start: rt_start, end: [last_followup]}
survival:
  - {name: os, title: Overall survival, time: os_months, event: death, group: treatment}
"""


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A user's folder: the cohort, the config and an unrelated document."""
    folder = tmp_path / "study"
    folder.mkdir()
    make_demo_cohort(1).head(120).to_csv(folder / "cohort.csv", index=False)
    (folder / "study.yaml").write_text(SMALL_CONFIG, "utf-8")
    (folder / "protocol.docx").write_bytes(b"PK\x03\x04 not ours \x00\xff")
    return folder


def analyze(cohort: Path, out: Path | str, config: Path | None) -> list[str]:
    args = ["analyze", str(cohort), "--out", str(out)] + (["--config", str(config)] if config else [])
    return args


@pytest.mark.parametrize("target", ["folder", "dot", "cohort_file", "parent"])
def test_refused_targets_leave_every_file_byte_for_byte(study: Path, target: str, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(study.parent)
    monkeypatch.chdir(study)
    out = {"folder": study, "dot": Path("."), "cohort_file": study / "cohort.csv", "parent": Path("..")}[target]
    capsys.readouterr()
    code = main(analyze(study / "cohort.csv", out, study / "study.yaml"))
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --out")
    assert snapshot(study.parent) == before
    assert sorted(p.name for p in study.parent.iterdir()) == ["study"]  # no staging folder either


def test_without_config_a_folder_with_other_files_is_refused(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(study)
    assert main(analyze(study / "cohort.csv", study, None)) == 2
    assert "holds the input file cohort.csv" in capsys.readouterr().err
    assert snapshot(study) == before


def test_folder_of_someone_else_is_refused(tmp_path: Path, study: Path) -> None:
    other = tmp_path / "results"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValidationError, match=r"did not create \(no npctrial-manifest.json\); it holds notes.txt"):
        run_analysis(study / "cohort.csv", other, config=study / "study.yaml")
    assert (other / "notes.txt").read_text() == "mine"


def test_new_then_replaced_report_and_manifest(tmp_path: Path, study: Path) -> None:
    out = tmp_path / "report"
    run_analysis(study / "cohort.csv", out, config=study / "study.yaml")
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["generator"] == "npctrial"
    listed = manifest["files"]
    on_disk = snapshot(out)
    del on_disk[MANIFEST]
    assert listed == on_disk and "report.html" in listed and "tables/os.csv" in listed
    # a second run replaces the report in place; nothing is left next to it
    first = snapshot(out)
    run_analysis(study / "cohort.csv", out, config=study / "study.yaml")
    assert snapshot(out) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "study"]


def test_empty_folder_is_accepted(tmp_path: Path, study: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    run_analysis(study / "cohort.csv", out, config=study / "study.yaml")
    assert (out / MANIFEST).is_file()


@pytest.mark.parametrize("change", ["added", "edited"])
def test_report_with_a_foreign_or_edited_file_is_refused(tmp_path: Path, study: Path, change: str) -> None:
    out = tmp_path / "report"
    run_analysis(study / "cohort.csv", out, config=study / "study.yaml")
    if change == "added":
        (out / "tables" / "my_notes.txt").write_text("keep me")
        expected = "tables/my_notes.txt"
    else:
        (out / "report.html").write_text("edited by hand")
        expected = r"report.html \(changed since npctrial wrote it\)"
    before = snapshot(out)
    with pytest.raises(ValidationError, match=f"files that npctrial did not write: {expected}"):
        run_analysis(study / "cohort.csv", out, config=study / "study.yaml")
    assert snapshot(out) == before


def test_failed_run_leaves_no_staging_folder(tmp_path: Path) -> None:
    out = tmp_path / "report"
    with pytest.raises(RuntimeError), staged_output(out) as work:
        (work / "partial.txt").write_text("x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_previous_report_is_deleted_only_by_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "report"
    with staged_output(out) as work:
        (work / "a.txt").write_text("1")
    with staged_output(out) as work:
        (work / "b.txt").write_text("2")
    assert sorted(snapshot(out)) == ["b.txt", MANIFEST]


def leftover(parent: Path, name: str, *, marker: bool, pid: int = 999_999_999) -> Path:
    folder = parent / f".npctrial-staging-{name}-{pid}-0123456789ab"
    folder.mkdir()
    (folder / "report.html").write_text("half written")
    if marker:
        import socket

        (folder / MARKER).write_text(json.dumps({"generator": "npctrial", "host": socket.gethostname()}))
    return folder


def test_leftovers_removed_only_when_ours_and_dead(tmp_path: Path) -> None:
    dead = leftover(tmp_path, "report", marker=True)
    alike = leftover(tmp_path, "other", marker=False)  # same pattern, no marker: not ours
    alive = leftover(tmp_path, "live", marker=True, pid=os.getppid())
    (tmp_path / ".npctrial-staging-x").mkdir()  # does not match the pattern
    assert clean_leftovers(tmp_path) == [dead]
    assert alike.exists() and alive.exists() and (tmp_path / ".npctrial-staging-x").exists()


def _cli(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.Popen([sys.executable, "-m", "npctrial.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_staging(parent: Path, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [p for p in parent.iterdir() if p.name.startswith(".npctrial-staging-report-")]
        if found and (found[0] / MARKER).exists():
            return found[0]
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.02)
    raise AssertionError("no staging folder appeared")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_leaves_no_staging_folder_after_the_next_run(tmp_path: Path, study: Path, sig: int) -> None:
    out = tmp_path / "report"
    proc = _cli(analyze(study / "cohort.csv", out, study / "study.yaml"))
    staging = _wait_for_staging(tmp_path, proc)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert not out.exists()
    if sig == signal.SIGTERM:  # the run unwinds and removes its own staging folder
        assert not staging.exists()
    else:
        assert staging.exists()
    assert main(analyze(study / "cohort.csv", out, study / "study.yaml")) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "study"]
