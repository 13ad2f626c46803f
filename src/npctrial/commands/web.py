"""CLI commands of the web EDC: ``serve``, ``createsuperuser``, ``backup``, ``restore``, ``verify-audit``,
``import``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npctrial.web.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def serve(
    demo: Annotated[bool, typer.Option("--demo", help="load the demo studies and users (idempotent)")] = False,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
    production: Annotated[bool, typer.Option(
        "--production", help="gunicorn (several processes) with static files served by WhiteNoise")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=64, help="worker processes with --production (default 4 x CPUs + 1)")] = None,
    threads: Annotated[int, typer.Option(
        "--threads", min=1, max=64, help="threads per worker process with --production")] = 1,
) -> None:
    """Migrate the database, optionally load the demo, print the logins and serve the EDC.

    Without --production: Django's development server (the embedded demo of `make run`).
    With --production: gunicorn after collectstatic (README, "Deployment").
    """
    if production:
        os.environ["NPCTRIAL_PRODUCTION"] = "1"  # before Django reads its settings
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    _migrate()
    if demo:
        from npctrial.web.demo import format_logins, load_demo

        typer.echo(format_logins(load_demo()))
    db = settings.DATABASES["default"]
    where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"PostgreSQL {db['HOST']}:{db['PORT']}/{db['NAME']}"
    typer.echo(f"Database: {where}")
    if production:
        from npctrial.web.production import serve_production

        serve_production(host, port, workers, threads, echo=typer.echo)
        return
    typer.echo(f"Serving npctrial EDC on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)")
    call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True, skip_checks=True)


def createsuperuser() -> None:
    """Create an administrator account (interactive)."""
    _setup()
    from django.core.management import call_command

    _migrate()
    call_command("createsuperuser")


def backup(file: Annotated[Path, typer.Argument(help="backup file to write")]) -> None:
    """Consistent online backup (SQLite backup API, or pg_dump / dumpdata in one snapshot)."""
    _setup()
    from npctrial.web.backup import backup_database

    method = backup_database(file)
    typer.echo(f"backup written to {file} ({method})")


def restore(
    file: Annotated[Path, typer.Argument(help="backup file to restore")],
    reason: Annotated[str, typer.Option("--reason", help="why the database is restored (audited)")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation (scripts)")] = False,
) -> None:
    """Replace the database content with a backup made by ``npctrial backup`` (asks first; audited).

    The current database is copied to var/pre-restore-<time> first; allocation numbers issued after
    the backup are kept as lost allocations and never handed out again.
    """
    import sys

    from npctrial.errors import ValidationError

    if not file.is_file():
        raise ValidationError(f"FILE: backup file not found: {file}", field="FILE")
    _setup()
    from npctrial.web.restore import capture, restore_with_safeguards

    current = capture()
    typer.echo(f"This replaces the whole database ({current.summary()}) with {file}.")
    if not yes:
        if not sys.stdin.isatty():
            raise ValidationError("restore replaces the database: confirm with --yes and give --reason", field="yes")
        if typer.prompt("Type RESTORE to go on") != "RESTORE":
            typer.echo("nothing was changed")
            raise typer.Exit(code=1)
        reason = reason or typer.prompt("Reason for the restore (audited)")
    if not reason.strip():
        raise ValidationError("--reason is required: a restore is audited with its reason", field="reason")
    report = restore_with_safeguards(file, reason=reason)
    typer.echo(f"restored {file}")
    typer.echo(report.summary())


def verify_audit() -> None:
    """Recompute the audit hash chain and compare every record with its audit trail (exit 1 if not intact)."""
    _setup()
    from npctrial.web.core.audit_verify import verify_audit as run

    result = run()
    typer.echo(result.summary())
    if not result.intact:
        raise typer.Exit(code=1)


def import_data(
    study: Annotated[str, typer.Argument(help="study code")],
    file: Annotated[Path, typer.Argument(help="CSV (screening or one form, the export's columns) or ODM 1.3 XML")],
    kind: Annotated[str, typer.Option("--kind", help="screening, a form (baseline, ae, ...) or odm")],
    reason: Annotated[str, typer.Option("--reason", help="kept in the history of every record imported")],
    user: Annotated[str, typer.Option("--user", help="the account the import is made as (its rights apply)")],
    mode: Annotated[str, typer.Option("--mode", help="create new records, or update those named by record_id")]
    = "create",
    partial: Annotated[bool, typer.Option("--partial", help="keep the rows that pass when others fail")] = False,
) -> None:
    """Import records, validated as data entry; every problem listed by row and field (exit 1 if refused)."""
    _setup()
    _migrate()
    from django.contrib.auth import get_user_model
    from rich.console import Console
    from rich.table import Table

    from npctrial.errors import ValidationError
    from npctrial.web.clinical.imports import run_import
    from npctrial.web.core.models import Study

    target = Study.objects.filter(code=study).first()
    if target is None:
        raise ValidationError(f"no study {study!r}", field="study")
    actor = get_user_model().objects.filter(username=user, is_active=True).first()
    if actor is None:
        raise ValidationError(f"no active user {user!r}", field="user")
    if not file.is_file():
        raise ValidationError(f"file not found: {file}", field="file")
    report = run_import(target, actor, kind=kind, data=file.read_bytes(), filename=file.name, reason=reason,
                        mode=mode, partial=partial)
    console = Console()
    console.print(report.summary())
    if report.problems:
        table = Table("row", "field", "problem")
        for p in report.problems:
            table.add_row(str(p.row) if p.row else "file", p.field, p.message)
        console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
    if not report.applied or report.problems:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("createsuperuser")(createsuperuser)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("verify-audit")(verify_audit)
    app.command("import")(import_data)
