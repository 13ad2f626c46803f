"""CLI commands of the cohort layer: ``npctrial analyze`` and ``npctrial demo-cohort``."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from npctrial.errors import ValidationError

console = Console()
DEMO_SUFFIXES = (".csv", ".xlsx", ".parquet", ".sav", ".dta")


def analyze(
    cohort: Annotated[Path, typer.Argument(help="Cohort file: CSV, XLSX, Parquet, SPSS .sav or Stata .dta.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder: new, empty, or a previous npctrial report (replaced atomically).")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Study YAML; inferred from the file if omitted (the guesses are listed).")] = None,
    drop_invalid: Annotated[bool, typer.Option("--drop-invalid", help="Exclude invalid rows (listed in the report) instead of stopping.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Report language: en (default) or zh (Simplified Chinese).")] = "en",
) -> None:
    """Analyse a cohort file: Table 1 associations, toxicity, survival, Cox; HTML/PDF/XLSX/DOCX + figures."""
    from npctrial.cohort.pipeline import STEPS, run_analysis

    with _stop_cleanly_on_sigterm(), Progress(TextColumn("[bold]{task.description:<16}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=len(STEPS))

        def step(name: str) -> None:
            done = STEPS.index(name) if name in STEPS else 0
            bar.update(task, description=name, completed=done)

        report = run_analysis(cohort, out, config=config, drop_invalid=drop_invalid, progress=step, language=lang)
        bar.update(task, completed=len(STEPS))
    console.print(f"Report written to [bold]{out}[/] ({report.n_analysed} of {report.n_rows} rows analysed, "
                  f"{len(report.tables)} tables, {len(report.figures)} figures).")
    if config is None:
        console.print(f"No --config given: the config was inferred from the file ({len(report.inferred)} guesses, "
                      f"listed in the report); it is {out / 'study.inferred.yaml'}: check it, edit it and run again "
                      "with --config.")
        for guess in report.inferred:
            console.print(f"  guessed: {guess}", highlight=False)
    for omitted in report.omitted:
        console.print(f"[yellow]not run:[/] {omitted}", highlight=False)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)


@contextlib.contextmanager
def _stop_cleanly_on_sigterm() -> Iterator[None]:
    """While the report is written, SIGTERM unwinds like Ctrl-C, so the staging folder is removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def demo_cohort(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.csv, .xlsx, .parquet, .sav or .dta).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
) -> None:
    """Write a synthetic 530-patient NPC cohort shaped like Chen et al. (2016)."""
    from npctrial.cohort.demo import make_demo_cohort

    suffix = out.suffix.lower()
    if suffix not in DEMO_SUFFIXES:
        raise ValidationError(f"--out must end in .csv, .xlsx, .parquet, .sav or .dta, got {out.name!r}", field="out")
    if out.exists() or out.is_symlink():
        raise ValidationError(f"--out {out} already exists; npctrial does not overwrite files, give a new name",
                              field="out")
    df = make_demo_cohort(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        df.to_csv(out, index=False, lineterminator="\n")
    elif suffix == ".xlsx":
        df.to_excel(out, index=False)
    elif suffix == ".parquet":
        df.to_parquet(out, index=False)
    else:
        import pyreadstat

        writer = pyreadstat.write_sav if suffix == ".sav" else pyreadstat.write_dta
        writer(df, str(out))
    console.print(f"Wrote {len(df)} patients to {out}")


def register(app: typer.Typer) -> None:
    """Add ``analyze`` and ``demo-cohort`` to the ``npctrial`` app."""
    app.command("analyze")(analyze)
    app.command("demo-cohort")(demo_cohort)
