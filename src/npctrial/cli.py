"""The ``npctrial`` command line (typer + rich).

Sub-commands live in :mod:`npctrial.commands` (one module per layer) and are registered here.
Bad input exits with status 2 and a one-line ``error: ...`` naming the field and the problem.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from npctrial.errors import NpcTrialError

app = typer.Typer(
    name="npctrial",
    help="Run, analyse and design clinical trials in nasopharyngeal carcinoma.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

# Modules in npctrial.commands that provide register(app). A missing module is a bug,
# so imports are not guarded.
_COMMAND_MODULES = ("domain", "design", "survival", "cohort", "web")


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"npctrial.commands.{name}")
        except ModuleNotFoundError as exc:  # layer not built yet
            if exc.name == f"npctrial.commands.{name}":
                continue
            raise
        module.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app and turn npctrial errors into one line."""
    try:
        app(args=argv, standalone_mode=False)
    except NpcTrialError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("[bold red]aborted[/]")
        return 1
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
