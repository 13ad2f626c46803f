"""CLI commands of the survival layer: ``npctrial survival km|logrank|rmst FILE ...``.

Each reads a data file (CSV, XLSX, Parquet), names the columns to use and prints R-like
tables; ``km --plot out.png`` also draws the curves with a numbers-at-risk table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from npctrial.errors import ValidationError

survival_app = typer.Typer(
    name="survival",
    help="Kaplan-Meier curves, log-rank tests and restricted mean survival from a data file.",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="data file: .csv, .xlsx or .parquet")]
TimeOpt = Annotated[str, typer.Option("--time", help="column with follow-up time")]
EventOpt = Annotated[str, typer.Option("--event", help="column with event status")]
StatusOpt = Annotated[
    str, typer.Option("--status-coding", help="'standard' (0/1) or 'r' (1 = censored, 2 = event)")
]
DropOpt = Annotated[bool, typer.Option("--drop-missing", help="drop rows with missing values")]


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValidationError(f"file {str(path)!r} does not exist", field="file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise ValidationError(f"file must be .csv, .xlsx or .parquet, got {suffix!r}", field="file")


def _column(df: pd.DataFrame, name: str | None, option: str) -> pd.Series | None:
    if name is None:
        return None
    if name not in df.columns:
        raise ValidationError(
            f"{option} column {name!r} not found; columns are {list(df.columns)}", field=option
        )
    return df[name]


def _common(df: pd.DataFrame, time: str, event: str, status_coding: str, drop: bool) -> dict[str, Any]:
    return {
        "time": _column(df, time, "--time"),
        "event": _column(df, event, "--event"),
        "status_coding": status_coding,
        "na_action": "drop" if drop else "raise",
    }


@survival_app.command("km")
def km_command(
    file: FileArg,
    time: TimeOpt,
    event: EventOpt,
    group: Annotated[str | None, typer.Option("--group", help="column defining the curves")] = None,
    strata: Annotated[str | None, typer.Option("--strata", help="second grouping column")] = None,
    conf_type: Annotated[str, typer.Option("--conf-type", help="log, log-log, plain, logit, arcsin")] = "log",
    times: Annotated[str | None, typer.Option("--times", help="comma-separated times for survival estimates")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="write the KM plot to this PNG/SVG/PDF")] = None,
    status_coding: StatusOpt = "standard",
    drop_missing: DropOpt = False,
) -> None:
    """Kaplan-Meier estimate: median, restricted mean and survival at chosen times."""
    from npctrial.survival import kaplan_meier

    df = _read(file)
    res = kaplan_meier(
        **_common(df, time, event, status_coding, drop_missing),
        group=_column(df, group, "--group"),
        strata=_column(df, strata, "--strata"),
        conf_type=conf_type,
    )
    typer.echo(res.summary())
    if times:
        try:
            at = [float(x) for x in times.split(",")]
        except ValueError:
            raise ValidationError(f"--times must be comma-separated numbers, got {times!r}", field="--times") from None
        typer.echo("")
        typer.echo(res.at(at).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        ax = res.plot(None, at_risk_table=True)
        ax.get_figure(root=True).savefig(plot, dpi=300, bbox_inches="tight")  # type: ignore[union-attr]
        typer.echo(f"\nplot written to {plot}")


@survival_app.command("logrank")
def logrank_command(
    file: FileArg,
    time: TimeOpt,
    event: EventOpt,
    group: Annotated[str, typer.Option("--group", help="column with the groups compared")],
    strata: Annotated[str | None, typer.Option("--strata", help="stratification column")] = None,
    rho: Annotated[float, typer.Option("--rho", help="S(t-)^rho weight (1 = Peto-Peto)")] = 0.0,
    gamma: Annotated[float, typer.Option("--gamma", help="(1 - S(t-))^gamma weight")] = 0.0,
    trend: Annotated[bool, typer.Option("--trend", help="test for trend over ordered groups")] = False,
    pairwise: Annotated[str | None, typer.Option("--pairwise", help="also pairwise tests: holm, bonferroni or none")] = None,
    status_coding: StatusOpt = "standard",
    drop_missing: DropOpt = False,
) -> None:
    """Log-rank family test (R survdiff), optionally stratified, for trend, or pairwise."""
    from npctrial.survival import logrank_test, pairwise_logrank

    df = _read(file)
    common = _common(df, time, event, status_coding, drop_missing)
    g = _column(df, group, "--group")
    s = _column(df, strata, "--strata")
    res = logrank_test(**common, group=g, strata=s, rho=rho, gamma=gamma, trend=trend)
    typer.echo(res.summary())
    if pairwise:
        pw = pairwise_logrank(**common, group=g, strata=s, rho=rho, gamma=gamma, adjust=pairwise)  # type: ignore[arg-type]
        typer.echo("")
        typer.echo(pw.summary())


@survival_app.command("rmst")
def rmst_command(
    file: FileArg,
    time: TimeOpt,
    event: EventOpt,
    tau: Annotated[float, typer.Option("--tau", help="restriction time")],
    group: Annotated[str | None, typer.Option("--group", help="column with the groups")] = None,
    status_coding: StatusOpt = "standard",
    drop_missing: DropOpt = False,
) -> None:
    """Restricted mean survival time up to --tau (difference and ratio for two groups)."""
    from npctrial.survival import rmst

    df = _read(file)
    res = rmst(**_common(df, time, event, status_coding, drop_missing), tau=tau, group=_column(df, group, "--group"))
    typer.echo(res.summary())


def register(app: typer.Typer) -> None:
    """Add the ``survival`` sub-app to the ``npctrial`` app."""
    app.add_typer(survival_app, name="survival")
