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

# Modules in npctrial.commands that provide register(app); a missing one is a bug, so the
# imports are not guarded. They import their layer (SciPy, pandas, Django) only in the command
# that runs: `npctrial --help` starts in about half a second.
_COMMAND_MODULES = ("domain", "design", "survival", "cohort", "web")


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"npctrial.commands.{name}").register(app)


@app.callback()
def _root() -> None:
    """Run, analyse and design clinical trials in nasopharyngeal carcinoma."""


@app.command("version")
def version() -> None:
    """Print the npctrial version."""
    from npctrial import __version__

    typer.echo(f"npctrial {__version__}")


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point.

    Usage errors are reported by typer (exit 2); npctrial errors (bad input naming the field)
    become one ``error: ...`` line on stderr and exit status 2.
    """
    try:
        app(args=argv, prog_name="npctrial")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except NpcTrialError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
