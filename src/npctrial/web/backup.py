"""Consistent online backup and restore of the EDC database.

* SQLite: the SQLite online backup API (``sqlite3.Connection.backup``) copies a consistent
  snapshot page by page while the server keeps running; restore copies the file back the same way.
* PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, serializable/repeatable
  read) and ``pg_restore --clean``; when the client tools are missing, Django ``dumpdata`` of
  every model inside one REPEATABLE READ transaction, restored with ``flush`` + ``loaddata``.

The format is recognised from the file's first bytes on restore.
"""

from __future__ import annotations

import glob
import io
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.core import management
from django.db import connection, connections, transaction
from django.utils.translation import gettext as _

from npctrial.errors import ConfigurationError, ValidationError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _pg_env() -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    args = ["-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"] or "postgres"]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return args, env


def _sqlite_copy(source_path: str | Path, dest_path: str | Path) -> None:
    """Copy one SQLite database onto another with the online backup API (consistent while in use)."""
    source = sqlite3.connect(str(source_path))
    dest = sqlite3.connect(str(dest_path))
    try:
        with dest:
            source.backup(dest)
    finally:
        dest.close()
        source.close()


def backup_database(path: str | Path) -> str:
    """Write a consistent backup of the configured database to ``path``; returns the method used."""
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise ValidationError(_("backup directory does not exist: %(dir)s") % {"dir": target.parent}, field="FILE")
    if connection.vendor == "sqlite":
        _sqlite_copy(connection.settings_dict["NAME"], target)
        return "sqlite-backup-api"
    if connection.vendor == "postgresql":
        pg_dump = _pg_tool("pg_dump")
        if pg_dump:
            args, env = _pg_env()
            cmd = [pg_dump, *args, "--format=custom", "--no-owner", "-f", str(target), connection.settings_dict["NAME"]]
            result = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if result.returncode == 0:
                return "pg_dump"
        buffer = io.StringIO()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            management.call_command("dumpdata", "--natural-foreign", stdout=buffer, exclude=["contenttypes", "auth.permission"])
        target.write_text(buffer.getvalue(), encoding="utf-8")
        return "dumpdata-repeatable-read"
    raise ConfigurationError(_("backup is not supported for database vendor %(vendor)r") % {"vendor": connection.vendor},
                             field="DATABASE_URL")


def restore_database(path: str | Path) -> str:
    """Replace the configured database's content with the backup at ``path``."""
    source_path = Path(path)
    if not source_path.is_file():
        raise ValidationError(_("FILE: backup file not found: %(file)s") % {"file": source_path}, field="FILE")
    head = source_path.read_bytes()[:16]
    if head.startswith(SQLITE_MAGIC):
        if connection.vendor != "sqlite":
            raise ValidationError(_("FILE is a SQLite backup but the database is PostgreSQL"), field="FILE")
        connections.close_all()
        _sqlite_copy(source_path, connection.settings_dict["NAME"])
        return "sqlite-backup-api"
    if head.startswith(PGDUMP_MAGIC):
        if connection.vendor != "postgresql":
            raise ValidationError(_("FILE is a pg_dump archive but the database is not PostgreSQL"), field="FILE")
        pg_restore = _pg_tool("pg_restore")
        if not pg_restore:
            raise ConfigurationError(_("pg_restore is not installed"), field="FILE")
        connections.close_all()
        args, env = _pg_env()
        cmd = [pg_restore, *args, "--clean", "--if-exists", "--no-owner", "-d", connection.settings_dict["NAME"], str(source_path)]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise ConfigurationError(_("pg_restore failed: %(error)s") % {"error": result.stderr.strip()[:500]}, field="FILE")
        return "pg_restore"
    if head.lstrip().startswith(b"["):
        with tempfile.TemporaryDirectory() as tmp:
            fixture = Path(tmp) / "backup.json"
            shutil.copyfile(source_path, fixture)
            with transaction.atomic():
                management.call_command("flush", "--no-input", verbosity=0)
                management.call_command("loaddata", str(fixture), verbosity=0)
        return "loaddata"
    raise ValidationError(_("FILE %(file)s is not an npctrial backup") % {"file": source_path}, field="FILE")
