"""The CLI entry point: version, usage errors, and npctrial errors as one line with exit 2."""

import typer

from npctrial import __version__, cli
from npctrial.errors import ValidationError


def test_version(capsys):
    assert cli.main(["version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_is_usage_error():
    assert cli.main(["no-such-command"]) == 2


def test_npctrial_error_becomes_one_line(capsys, monkeypatch):
    probe = typer.Typer()

    @probe.command()
    def boom() -> None:
        raise ValidationError("weight_kg must be > 0, got -3", field="weight_kg")

    @probe.command()
    def other() -> None:  # a second command keeps typer in group mode
        pass

    monkeypatch.setattr(cli, "app", probe)
    assert cli.main(["boom"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "weight_kg must be > 0" in err[0]
