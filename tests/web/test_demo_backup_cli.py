"""Demo loader, the web CLI commands and consistent backup/restore (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from npctrial.cli import main
from npctrial.web.core.allocation import verify_sequence
from npctrial.web.core.models import (
    DataQuery,
    Membership,
    Randomisation,
    ScreeningRecord,
    Study,
    Subject,
)
from npctrial.web.demo import USERS, demo_password, format_logins, load_demo


@pytest.mark.django_db
def test_demo_covers_every_stage_and_is_idempotent():
    logins = load_demo()
    assert {x.username for x in logins} == {*USERS, "admin"}
    assert Study.objects.count() == 2
    total = ScreeningRecord.objects.exclude(site__code="MX").count()
    assert 36 <= total <= 44
    assert Subject.objects.filter(site__code="MX").count() == 3 * Study.objects.count()  # three messy patients per study
    outcomes = set(ScreeningRecord.objects.values_list("outcome", flat=True))
    assert outcomes == {"eligible", "ineligible", "incomplete"}
    eligible_not_enrolled = ScreeningRecord.objects.filter(outcome="eligible", subject__isnull=True).count()
    assert eligible_not_enrolled > 0
    ccrt = Study.objects.get(code="ccrt-nimotuzumab")
    assert Randomisation.objects.filter(subject__study=ccrt).exists()
    assert Subject.objects.filter(study=ccrt, randomisation__isnull=True).exists()
    assert verify_sequence(ccrt.allocation_sequence).intact
    assert set(DataQuery.objects.values_list("status", flat=True)) == {"open", "answered", "closed"}
    assert Subject.objects.filter(high_risk=True).exists()
    assert Subject.objects.values("site").distinct().count() == 4  # GZ, HK, SG and the messy site MX
    # each site's patients are screened, enrolled and queried-back by a coordinator of that site
    for record in ScreeningRecord.objects.select_related("site", "screened_by"):
        assert Membership.objects.filter(user=record.screened_by, site=record.site, role="coordinator").exists()
    for subject in Subject.objects.select_related("site", "enrolled_by"):
        assert Membership.objects.filter(user=subject.enrolled_by, site=subject.site, role="coordinator").exists()
    for query in DataQuery.objects.exclude(answered_by=None).select_related("site", "answered_by"):
        assert Membership.objects.filter(user=query.answered_by, site=query.site).exists()
    coordinators = Membership.objects.filter(role="coordinator").values_list("site__code", "user__username")
    assert {site for site, _ in coordinators} == {"GZ", "HK", "SG", "MX"}
    assert all(len({u for s, u in coordinators if s == site}) == 1 for site in ("GZ", "HK", "SG", "MX"))
    load_demo()  # second call: nothing duplicated
    assert ScreeningRecord.objects.exclude(site__code="MX").count() == total and Study.objects.count() == 2
    assert Subject.objects.filter(site__code="MX").count() == 3 * Study.objects.count()
    text = format_logins(logins)
    assert all(demo_password(u) in text for u in USERS)


def test_cli_lists_the_web_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("serve", "createsuperuser", "backup", "restore"):
        assert command in out
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--demo" in out and "--host" in out and "--port" in out


def test_restore_of_a_missing_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["restore", str(tmp_path / "nope.bak")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "not found" in err and "\n" not in err


_SCRIPT = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "npctrial.web.settings"
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from npctrial.web.core.models import Site
action = sys.argv[1]
if action == "seed":
    Site.objects.create(code="GZ", name="before backup")
elif action == "change":
    s = Site.objects.get(code="GZ"); s.name = "after backup"; s.save(reason="test")
    Site.objects.create(code="HK", name="new")
elif action == "show":
    print(sorted(Site.objects.values_list("code", "name")))
"""


def _run(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _backup_env(tmp_path: Path) -> tuple[dict, object]:
    env = {**os.environ, "NPCTRIAL_VAR_DIR": str(tmp_path / "var"), "NPCTRIAL_EXTRA_APPS": ""}
    cleanup = None
    if connection.vendor == "postgresql":
        import psycopg

        url = urlparse(os.environ["DATABASE_URL"])
        name = f"npctrial_backup_{uuid.uuid4().hex[:8]}"
        admin_dsn = urlunparse(url._replace(path="/postgres"))
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = urlunparse(url._replace(path=f"/{name}"))

        def cleanup() -> None:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env.pop("DATABASE_URL", None)
    return env, cleanup


@pytest.mark.postgres
def test_backup_and_restore_round_trip(tmp_path):
    """Runs against SQLite, and against PostgreSQL when DATABASE_URL points to it."""
    env, cleanup = _backup_env(tmp_path)
    script = tmp_path / "db.py"
    script.write_text(_SCRIPT)
    backup_file = tmp_path / "edc.backup"
    try:
        _run(env, str(script), "seed")
        out = _run(env, "-m", "npctrial.cli", "backup", str(backup_file))
        assert "backup written" in out and backup_file.stat().st_size > 0
        _run(env, str(script), "change")
        assert "after backup" in _run(env, str(script), "show")
        out = _run(env, "-m", "npctrial.cli", "restore", str(backup_file), "--yes", "--reason", "test round trip")
        assert "restored" in out
        assert _run(env, str(script), "show").strip() == "[('GZ', 'before backup')]"
    finally:
        if cleanup:
            cleanup()
