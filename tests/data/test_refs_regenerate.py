"""The committed R reference files are what tests/data/refs/make_refs.R produces.

Runs the generator with R (R 4.2, survival 3.5, cmprsk 2.2, jsonlite; installed by
``scripts/install-system-deps.sh``) into a temporary directory and compares every JSON and
CSV file with the committed copy, numbers to their 15 printed digits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.data.refs.compare_refs import compare_dirs, diff
from tests.rrefs import REFS

SCRIPT = REFS / "make_refs.R"


def test_make_refs_reproduces_every_committed_file(tmp_path: Path) -> None:
    rscript = shutil.which("Rscript")
    assert rscript, "Rscript not found: run scripts/install-system-deps.sh (r-base-core r-cran-survival ...)"
    run = subprocess.run([rscript, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    problems = compare_dirs(REFS, tmp_path)
    assert not problems, "\n".join(problems[:20])
    committed = sorted(p.relative_to(REFS) for p in REFS.rglob("*") if p.suffix in {".json", ".csv"})
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.suffix in {".json", ".csv"})
    assert committed == produced


def test_the_comparison_sees_a_change_in_the_last_printed_digits() -> None:
    doc = json.loads((REFS / "survreg.json").read_text())
    changed = json.loads(json.dumps(doc))
    changed["analyses"][0]["scale"] *= 1 + 1e-13
    (problem,) = diff(doc, changed)
    assert problem.startswith("$.analyses[0].scale: 0.731108992136593 != 0.73110899213666")
    changed["analyses"][0]["scale"] = doc["analyses"][0]["scale"] * (1 + 1e-15)
    assert diff(doc, changed) == []
    same = json.loads(json.dumps(doc))
    same["generated_utc"] = "another time"
    assert diff(doc, same) == []


def test_every_reference_file_is_described_in_the_readme() -> None:
    readme = (REFS / "README.md").read_text()
    for path in sorted(REFS.rglob("*")):
        if path.suffix in {".json", ".csv"}:
            assert path.name in readme, f"{path.name} is not described in {REFS / 'README.md'}"
