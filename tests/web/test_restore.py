"""Restore: asks for confirmation, keeps a safety copy, is audited, and never hands out again an
allocation number issued after the backup (SQLite here; PostgreSQL under with-postgres.sh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.web.live_server import fresh_database, run_python, seed


def _tool(env, *args) -> dict:
    done = run_python(["-m", "tests.web.production_seed", *args], env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(env, *args):
    return run_python(["-m", "npctrial.cli", *args], env)


@pytest.mark.postgres
def test_restore_keeps_allocations_issued_after_the_backup_and_never_reissues_their_numbers(tmp_path):
    with fresh_database() as env:
        world = seed(env, 4)
        first, second, third, fourth = world["subjects"]
        assert _tool(env, "randomise", str(first), str(second))["numbers"] == [1, 2]
        backup = tmp_path / "edc.backup"
        assert _cli(env, "backup", str(backup)).returncode == 0
        assert _tool(env, "randomise", str(third), str(fourth))["numbers"] == [3, 4]  # patients told #3 and #4

        refused = _cli(env, "restore", str(backup))  # not a terminal and no --yes: nothing happens
        assert refused.returncode == 2 and "confirm with --yes" in refused.stderr
        assert _tool(env, "show")["kept"] == [1, 2, 3, 4]
        no_reason = _cli(env, "restore", str(backup), "--yes")
        assert no_reason.returncode == 2 and "--reason" in no_reason.stderr

        done = _cli(env, "restore", str(backup), "--yes", "--reason", "disk failure on the database server")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "ccrt-nimo: allocations issued after the backup kept as lost, never reissued: #3, #4" in done.stdout
        safety = next(Path(env["NPCTRIAL_VAR_DIR"]).glob("pre-restore-*"))
        assert safety.stat().st_size > 0  # the replaced database is kept

        state = _tool(env, "show")
        assert state == {"kept": [1, 2], "lost": [3, 4], "count": 4, "intact": True, "problems": []}
        new = _tool(env, "enrol", "1")["subjects"][0]
        assert _tool(env, "randomise", str(new))["numbers"] == [5]  # not 3: that number is a patient's
        assert _tool(env, "show")["intact"]

        check = _cli(env, "verify-audit")
        assert check.returncode == 0, check.stdout[-2000:]
        events = run_python(["-c", (
            "import json, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'npctrial.web.settings'); "
            "django.setup(); from npctrial.web.core.models import AuditEvent; "
            "print(json.dumps([[e.action, e.reason, e.username, e.details.get('sha256', ''), e.study_id is not None,"
            " e.details.get('lost_allocations')] for e in AuditEvent.objects.filter(action='restore').order_by('pk')]))")],
            env)
        rows = json.loads(events.stdout.strip().splitlines()[-1])
        assert len(rows) == 2  # the installation-wide event and the study's
        action, reason, username, sha256, _, lost = rows[0]
        assert reason == "disk failure on the database server" and username.startswith("system:")
        assert len(sha256) == 64 and lost == {"ccrt-nimo": [3, 4]}
        assert rows[1][4] is True and rows[1][5] == [3, 4]


def test_restore_of_a_missing_file_changes_nothing(tmp_path):
    with fresh_database() as env:
        done = _cli(env, "restore", str(tmp_path / "nope.backup"), "--yes", "--reason", "x")
        assert done.returncode == 2 and "not found" in done.stderr
        assert not list(Path(env["NPCTRIAL_VAR_DIR"]).glob("pre-restore-*"))
