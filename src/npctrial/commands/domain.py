"""CLI commands of the clinical-rules layer (npctrial.domain).

One function per command; :func:`register` adds them to the app. To add a command, write a
function here and one ``app.command(...)`` line in :func:`register`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from npctrial.commands import eligibility as eligibility_commands
from npctrial.domain.dosing import BSA_FORMULAS, banded_dose, body_surface_area
from npctrial.domain.staging import categories, normalize_category, parse_tnm, stage_group
from npctrial.errors import ValidationError


def _console() -> Console:
    return Console(highlight=False)


@contextmanager
def _report_warnings() -> Iterator[None]:
    """Show clinical/statistical warnings raised by the command as 'warning: ...' lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    err = Console(stderr=True, highlight=False)
    shown: set[str] = set()
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, UserWarning) and text not in shown:
            shown.add(text)
            err.print(f"[yellow]warning:[/] {text}", soft_wrap=True)


# --------------------------------------------------------------------------- stage


def stage(
    tnm: Annotated[list[str], typer.Argument(help="T N M categories (T3 N2 M0) or one string (cT3N2M0)")],
    edition: Annotated[int, typer.Option("--edition", "-e", help="AJCC/UICC edition: 7 or 8")] = 8,
) -> None:
    """Stage group of nasopharyngeal carcinoma (AJCC/UICC 8th or 7th edition)."""
    if len(tnm) == 1:
        parsed = parse_tnm(tnm[0], edition=edition)
        t, n, m = parsed.t, parsed.n, parsed.m
    elif len(tnm) == 3:
        t, n, m = (normalize_category(v, axis, edition)  # type: ignore[arg-type]
                   for v, axis in zip(tnm, ("T", "N", "M"), strict=True))
    else:
        raise ValidationError(f"tnm: give T N M (e.g. T3 N2 M0) or one string (cT3N2M0), got "
                              f"{' '.join(tnm)!r}", field="tnm")
    group = stage_group(t, n, m, edition=edition)
    table = Table(title=f"NPC stage, AJCC/UICC {edition}th edition")
    table.add_column("Category")
    table.add_column("Value")
    table.add_column("Published definition", overflow="fold")
    for axis, cat in (("T", t), ("N", n), ("M", m)):
        table.add_row(axis, cat, categories(axis, edition)[cat])  # type: ignore[arg-type]
    table.add_row("Stage", group or "none", "" if group else "the stage table lists no stage for this combination")
    _console().print(table)


# --------------------------------------------------------------------------- bsa


def bsa(
    height: Annotated[float, typer.Option("--height", help="height in cm")],
    weight: Annotated[float, typer.Option("--weight", help="weight in kg")],
    formula: Annotated[str, typer.Option("--formula", help=f"one of {', '.join(BSA_FORMULAS)}; 'all' compares them")] = "mosteller",
    cap: Annotated[float | None, typer.Option("--cap", help="cap the dosing BSA at this value (m2)")] = None,
    decimals: Annotated[int | None, typer.Option("--decimals", help="round the dosing BSA to this many decimals")] = None,
    bands: Annotated[str | None, typer.Option("--bands", help="band table for a flat dose, e.g. s1-imrt-protocol")] = None,
) -> None:
    """Body-surface area (and optionally the banded flat dose) from height and weight."""
    formulas = list(BSA_FORMULAS) if formula.strip().lower() == "all" else [formula]
    with _report_warnings():
        results = [body_surface_area(height, weight, f, cap=cap, decimals=decimals) for f in formulas]
        doses = [banded_dose(r, bands) for r in results] if bands else []
    table = Table(title=f"Body-surface area: {height:g} cm, {weight:g} kg",
                  caption="; ".join(f"{f}: {BSA_FORMULAS[f][0]} ({BSA_FORMULAS[f][1]})"
                                    for f in dict.fromkeys(r.formula for r in results)))
    for col in ("Formula", "BSA raw (m2)", "BSA used (m2)", "Cap (m2)", "Rounding"):
        table.add_column(col, no_wrap=col == "Formula")
    if doses:
        table.add_column(f"{doses[0].drug} dose", no_wrap=True)
    for i, r in enumerate(results):
        row = [r.formula, f"{r.bsa_raw_m2:.4f}", f"{r.bsa_m2:.4f}",
               "none" if r.cap_m2 is None else f"{r.cap_m2:g}" + (" (applied)" if r.capped else ""),
               "none" if r.decimals is None else f"{r.decimals} dp"]
        if doses:
            d = doses[i]
            row.append(f"{d.mg_per_dose:g} mg x{d.doses_per_day}/day" + (" review" if d.on_ambiguous_bound else ""))
        table.add_row(*row)
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add the domain commands to the ``npctrial`` app."""
    app.command("stage")(stage)
    app.command("bsa")(bsa)
    eligibility_commands.register(app)  # eligibility, demo
