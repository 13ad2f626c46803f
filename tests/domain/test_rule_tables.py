"""The packaged rule tables: parsed by libyaml's safe loader (where PyYAML has it) into exactly
what PyYAML's own safe loader gives, and all loaded by one call (``load_rule_tables``), after
which the rules read no table again."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest
import yaml

from npctrial.domain import load_rule_tables
from npctrial.domain._tables import read_rule_table

DATA = resources.files("npctrial.domain").joinpath("data")
TABLES = sorted(p.name for p in DATA.iterdir() if p.name.endswith(".yaml"))
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize("name", TABLES)
def test_each_table_reads_as_the_pure_python_safe_loader_reads_it(name: str) -> None:
    assert read_rule_table(name) == yaml.safe_load(DATA.joinpath(name).read_text("utf-8"))


def test_every_table_is_named() -> None:
    assert set(load_rule_tables()) == {"ctcae_v4_03", "lab_analytes", "lab_panels", "rtog", "staging_ajcc",
                                       "dose_bands", "edit_checks", "term_labels"}


def test_after_loading_the_rules_parse_no_table_again() -> None:
    """In a fresh process: once loaded, YAML parsing is made to fail, and grading, labels, RTOG,
    staging, dose bands and lab panels still work (each from the table loaded before)."""
    script = textwrap.dedent("""
        import yaml
        from npctrial.domain import (clinical_terms, grade_lab, lab_panels, load_band_table, load_rule_tables,
                                     rtog_organs, stage_group)
        from npctrial.domain.edit_checks import generic_edit_checks
        from npctrial.domain.term_labels import term_label
        load_rule_tables()
        def refuse(*args, **kwargs):
            raise AssertionError("a rule table was parsed again")
        yaml.load = yaml.safe_load = refuse
        assert grade_lab("neutrophil_count_decreased", 0.8, "10^9/L") == 3
        assert clinical_terms() and lab_panels() and generic_edit_checks()
        assert rtog_organs("acute") and stage_group("T1", "N0", "M0") == "I"
        assert load_band_table("s1-imrt-protocol")
        assert str(term_label("ctcae_term", "mucositis_oral", "zh-hans")) != "mucositis_oral"
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
