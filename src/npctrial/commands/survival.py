"""CLI commands of the survival layer: ``npctrial survival km|logrank|rmst|cox|cuminc|finegray FILE ...``.

Each reads a data file (CSV, XLSX, Parquet), names the columns to use and prints R-like
tables; ``km --plot out.png`` also draws the curves with a numbers-at-risk table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from npctrial.errors import ValidationError

if TYPE_CHECKING:  # pandas is imported by the command that runs
    import pandas as pd

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
    import pandas as pd
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


def _times(times: str | None) -> list[float] | None:
    if not times:
        return None
    try:
        return [float(x) for x in times.split(",")]
    except ValueError:
        raise ValidationError(f"--times must be comma-separated numbers, got {times!r}", field="--times") from None


def _names(df: pd.DataFrame, value: str | None, option: str) -> list[str]:
    """Comma-separated column names of ``option``, each checked to exist in ``df``."""
    if not value:
        return []
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        _column(df, name, option)
    return names


def _code(value: str) -> int | str:
    """An event/cause code from the command line: an integer if it reads as one, else a label."""
    try:
        return int(value)
    except ValueError:
        return value


def _same_level(value: Any, text: str) -> bool:
    """Whether the command-line ``text`` names the column value ``value`` ("1" matches 1.0)."""
    if str(value) == text:
        return True
    try:
        return bool(float(text) == float(value))
    except (TypeError, ValueError):
        return False


def _references(df: pd.DataFrame, pairs: list[str], categorical: list[str]) -> dict[str, Any]:
    """``--reference col=LEVEL`` options as {column: level}, the level matched to the column's values."""
    import pandas as pd
    out: dict[str, Any] = {}
    for pair in pairs:
        col, sep, level = pair.partition("=")
        col = col.strip()
        if not sep or not col:
            raise ValidationError(f"--reference must be COLUMN=LEVEL, got {pair!r}", field="--reference")
        values = _column(df, col, "--reference")
        assert values is not None
        if col not in categorical:
            raise ValidationError(
                f"--reference column {col!r} must also be given in --categorical", field="--reference"
            )
        levels = list(pd.unique(values.dropna()))
        match = [v for v in levels if _same_level(v, level.strip())]
        if not match:
            raise ValidationError(
                f"--reference level {level!r} not found in column {col!r}; levels are "
                f"{sorted(str(v) for v in levels)}",
                field="--reference",
            )
        out[col] = match[0]
    return out


@survival_app.command("cox")
def cox_command(
    file: FileArg,
    time: TimeOpt,
    event: EventOpt,
    covariates: Annotated[str, typer.Option("--covariates", help="comma-separated covariate columns")],
    categorical: Annotated[
        str | None, typer.Option("--categorical", help="comma-separated covariates to treat as factors")
    ] = None,
    reference: Annotated[
        list[str] | None, typer.Option("--reference", help="COLUMN=LEVEL reference level (repeatable)")
    ] = None,
    strata: Annotated[str | None, typer.Option("--strata", help="comma-separated stratification columns")] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", help="cluster column (robust variance)")] = None,
    ties: Annotated[str, typer.Option("--ties", help="efron, breslow or exact")] = "efron",
    zph: Annotated[bool, typer.Option("--zph", help="also print the cox.zph proportional-hazards test")] = False,
    status_coding: StatusOpt = "standard",
) -> None:
    """Cox proportional hazards regression (R coxph); rows with missing values are dropped."""
    from npctrial.survival import cox_ph

    df = _read(file)
    _column(df, time, "--time")
    _column(df, event, "--event")
    covs = _names(df, covariates, "--covariates")
    if not covs:
        raise ValidationError("--covariates must name at least one column", field="--covariates")
    cats = _names(df, categorical, "--categorical")
    extra = [c for c in cats if c not in covs]
    if extra:
        raise ValidationError(f"--categorical columns {extra} are not in --covariates", field="--categorical")
    strata_cols = _names(df, strata, "--strata")
    _column(df, cluster, "--cluster")
    if ties not in ("efron", "breslow", "exact"):
        raise ValidationError(f"--ties must be efron, breslow or exact, got {ties!r}", field="--ties")
    if status_coding not in ("standard", "r"):
        raise ValidationError(
            f"--status-coding must be 'standard' or 'r', got {status_coding!r}", field="--status-coding"
        )
    res = cox_ph(
        df, time, event, covs,
        categorical=cats,
        reference=_references(df, reference or [], cats) or None,
        strata=strata_cols or None,
        cluster=cluster,
        ties=ties,
        event_codes=(1, 2) if status_coding == "r" else None,
    )
    typer.echo(res.summary())
    if zph:
        typer.echo("")
        typer.echo(res.zph().summary())


@survival_app.command("cuminc")
def cuminc_command(
    file: FileArg,
    time: TimeOpt,
    event: Annotated[str, typer.Option("--event", help="column with censoring/cause codes")],
    group: Annotated[str | None, typer.Option("--group", help="column with the groups (Gray's test)")] = None,
    strata: Annotated[str | None, typer.Option("--strata", help="column stratifying Gray's test")] = None,
    censor_code: Annotated[str, typer.Option("--censor-code", help="event value meaning censored")] = "0",
    times: Annotated[str | None, typer.Option("--times", help="comma-separated times for the estimates")] = None,
    drop_missing: DropOpt = False,
) -> None:
    """Cumulative incidence per cause (cmprsk cuminc) with Gray's test between groups."""
    from npctrial.survival import cumulative_incidence

    df = _read(file)
    res = cumulative_incidence(
        _column(df, time, "--time"),
        _column(df, event, "--event"),
        group=_column(df, group, "--group"),
        strata=_column(df, strata, "--strata"),
        censor_code=_code(censor_code),
        na_action="drop" if drop_missing else "raise",
    )
    typer.echo(res.summary(_times(times)))


@survival_app.command("finegray")
def finegray_command(
    file: FileArg,
    time: TimeOpt,
    event: Annotated[str, typer.Option("--event", help="column with censoring/cause codes")],
    covariates: Annotated[str, typer.Option("--covariates", help="comma-separated covariate columns")],
    cause: Annotated[str, typer.Option("--cause", help="event value of the cause of interest")] = "1",
    censor_code: Annotated[str, typer.Option("--censor-code", help="event value meaning censored")] = "0",
    categorical: Annotated[
        str | None, typer.Option("--categorical", help="comma-separated covariates to treat as factors")
    ] = None,
) -> None:
    """Fine-Gray subdistribution hazards regression (cmprsk crr); missing rows are dropped."""
    from npctrial.survival import fine_gray

    df = _read(file)
    _column(df, time, "--time")
    codes = _column(df, event, "--event")
    assert codes is not None
    covs = _names(df, covariates, "--covariates")
    if not covs:
        raise ValidationError("--covariates must name at least one column", field="--covariates")
    cats = _names(df, categorical, "--categorical")
    wanted = _code(cause)
    if wanted not in set(codes.dropna().tolist()):
        raise ValidationError(
            f"--cause {cause!r} does not occur in column {event!r}", field="--cause"
        )
    res = fine_gray(df, time, event, covs, cause=wanted, censor_code=_code(censor_code), categorical=cats)
    typer.echo(res.summary())


def register(app: typer.Typer) -> None:
    """Add the ``survival`` sub-app to the ``npctrial`` app."""
    app.add_typer(survival_app, name="survival")
