"""CLI commands of the trial-design layer: ``npctrial design ...``.

Sample size (``simon``, ``ahern``, ``fleming``, ``events``, ``lachin-foulkes``, ``one-arm``),
randomisation (``schedule`` writes a permuted-block list and prints its SHA-256) and simulation
(``simulate`` for operating characteristics, ``balance`` for randomisation schemes), each
printing a table and the design's summary in words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from npctrial.errors import ValidationError

if TYPE_CHECKING:  # the design layer, SciPy and pandas are imported by the command that runs
    import pandas as pd

design_app = typer.Typer(
    name="design",
    help="Sample size, randomisation schedules and simulation for trial design.",
    no_args_is_help=True,
)

Alpha = Annotated[float, typer.Option("--alpha", help="type I error (one-sided for binary designs)")]
Power = Annotated[float, typer.Option("--power", help="power = 1 - beta")]
P0 = Annotated[float, typer.Option("--p0", help="uninteresting response rate")]
P1 = Annotated[float, typer.Option("--p1", help="target response rate")]


def _console() -> Console:
    return Console(highlight=False, width=120)


def _table(frame: pd.DataFrame, title: str) -> Table:
    import pandas as pd
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for _, row in frame.iterrows():
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else f"{v:.4g}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    return table


def _show(frame: pd.DataFrame, title: str, summary: str) -> None:
    console = _console()
    console.print(_table(frame, title))
    console.print(summary, soft_wrap=True)


def parse_list(text: str, option: str) -> tuple[str, ...]:
    """``"A,B"`` -> ``("A", "B")``."""
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items:
        raise ValidationError(f"{option} must be a comma-separated list, got {text!r}",
                              field=option)
    return items


def parse_ints(text: str, option: str) -> tuple[int, ...]:
    out = []
    for item in parse_list(text, option):
        try:
            out.append(int(item))
        except ValueError:
            raise ValidationError(f"{option} must contain integers, got {item!r}",
                                  field=option) from None
    return tuple(out)


def parse_floats(text: str, option: str) -> tuple[float, ...]:
    out = []
    for item in parse_list(text, option):
        try:
            out.append(float(item))
        except ValueError:
            raise ValidationError(f"{option} must contain numbers, got {item!r}",
                                  field=option) from None
    return tuple(out)


def parse_strata(specs: list[str] | None, option: str = "--strata") -> dict[str, tuple[str, ...]]:
    """``["stage=III,IVA", "centre=X,Y"]`` -> ``{"stage": ("III", "IVA"), ...}``."""
    out: dict[str, tuple[str, ...]] = {}
    for spec in specs or []:
        name, sep, levels = spec.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"{option} must look like factor=level1,level2, got {spec!r}",
                                  field=option)
        out[name.strip()] = parse_list(levels, option)
    return out


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    with Progress(TextColumn(label), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# --------------------------------------------------------------------------- sample size


@design_app.command("simon")
def simon(
    p0: P0,
    p1: P1,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    design: Annotated[str, typer.Option("--design", help="optimal, minimax or admissible")
                      ] = "optimal",
    n_max: Annotated[int, typer.Option("--n-max", help="largest total sample size searched")
                     ] = 100,
) -> None:
    """Simon (1989) two-stage design; --design admissible lists Jung et al. (2004)."""
    import pandas as pd

    from npctrial.design import admissible_designs, simon_two_stage
    if design == "admissible":
        designs = admissible_designs(p0, p1, alpha, power, n_max=n_max)
        frame = pd.concat([d.to_frame() for d in designs], ignore_index=True)
        cols = ["design", "r1", "n1", "r", "n", "expected_n_null", "pet_null", "alpha_actual",
                "power_actual", "q_low", "q_high"]
        _show(frame[cols], "Admissible two-stage designs", designs[0].summary())
        return
    d = simon_two_stage(p0, p1, alpha, power, design=design, n_max=n_max)  # type: ignore[arg-type]
    cols = ["design", "r1", "n1", "r", "n", "expected_n_null", "pet_null", "alpha_actual",
            "power_actual"]
    _show(d.to_frame()[cols], "Simon two-stage design", d.summary())


@design_app.command("ahern")
def ahern(
    p0: P0,
    p1: P1,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
) -> None:
    """A'Hern (2001) exact single-stage design."""
    from npctrial.design import ahern_single_stage
    d = ahern_single_stage(p0, p1, alpha, power)
    _show(d.to_frame(), "Single-stage design (exact)", d.summary())


@design_app.command("fleming")
def fleming(
    p0: P0,
    p1: P1,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
) -> None:
    """Fleming (1982) single-stage design (normal approximation)."""
    from npctrial.design import fleming_single_stage
    d = fleming_single_stage(p0, p1, alpha, power)
    _show(d.to_frame(), "Single-stage design (normal approximation)", d.summary())


AccrualOpt = Annotated[float | None, typer.Option("--accrual", help="accrual duration")]
FollowOpt = Annotated[float | None, typer.Option("--follow-up", help="follow-up after accrual")]
DropOpt = Annotated[float, typer.Option("--dropout", help="dropout hazard per time unit")]
SidedOpt = Annotated[int, typer.Option("--sided", help="1 or 2")]
AllocOpt = Annotated[float, typer.Option("--allocation",
                                         help="fraction randomised to the experimental arm")]


@design_app.command("events")
def events(
    hr: Annotated[float, typer.Option("--hr", help="hazard ratio, experimental vs control")],
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    sided: SidedOpt = 2,
    allocation: AllocOpt = 0.5,
    median_control: Annotated[float | None, typer.Option("--median-control")] = None,
    accrual: AccrualOpt = None,
    follow_up: FollowOpt = None,
    dropout: DropOpt = 0.0,
) -> None:
    """Events (and patients) for a log-rank test: Schoenfeld (1983) and Freedman (1982)."""
    import pandas as pd

    from npctrial.design import freedman_events, schoenfeld_events
    kwargs = dict(median_control=median_control, accrual_time=accrual, follow_up=follow_up,
                  dropout=dropout)
    designs = [f(hr, alpha, power, allocation, sided, **kwargs)  # type: ignore[arg-type]
               for f in (schoenfeld_events, freedman_events)]
    frame = pd.concat([d.to_frame() for d in designs], ignore_index=True).dropna(axis=1, how="all")
    _show(frame, "Events for a log-rank test", "\n".join(d.summary() for d in designs))


@design_app.command("lachin-foulkes")
def lachin_foulkes_cmd(
    accrual: Annotated[float, typer.Option("--accrual", help="accrual duration")],
    follow_up: Annotated[float, typer.Option("--follow-up", help="follow-up after accrual")],
    hr: Annotated[float | None, typer.Option("--hr", help="hazard ratio")] = None,
    median_control: Annotated[float | None, typer.Option("--median-control")] = None,
    median_experimental: Annotated[float | None, typer.Option("--median-experimental")] = None,
    hazard_control: Annotated[float | None, typer.Option("--hazard-control")] = None,
    dropout: DropOpt = 0.0,
    allocation: AllocOpt = 0.5,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    sided: SidedOpt = 2,
) -> None:
    """Lachin-Foulkes (1986) patients and events, uniform accrual, exponential survival."""
    from npctrial.design import lachin_foulkes
    d = lachin_foulkes(hr, median_control=median_control, median_experimental=median_experimental,
                       hazard_control=hazard_control, accrual_time=accrual, follow_up=follow_up,
                       dropout=dropout, allocation=allocation, alpha=alpha, power=power,
                       sided=sided)
    _show(d.to_frame().dropna(axis=1, how="all"), "Lachin-Foulkes sample size", d.summary())


@design_app.command("one-arm")
def one_arm(
    median_null: Annotated[float | None, typer.Option("--median-null")] = None,
    median_alt: Annotated[float | None, typer.Option("--median-alt")] = None,
    landmark: Annotated[float | None, typer.Option("--landmark", help="landmark time")] = None,
    rate_null: Annotated[float | None, typer.Option("--rate-null")] = None,
    rate_alt: Annotated[float | None, typer.Option("--rate-alt")] = None,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    sided: SidedOpt = 1,
    accrual: AccrualOpt = None,
    follow_up: FollowOpt = None,
    dropout: DropOpt = 0.0,
) -> None:
    """Single-arm survival design against a historical median or landmark rate (exponential)."""
    from npctrial.design import one_arm_survival
    d = one_arm_survival(median_null=median_null, median_alt=median_alt, landmark=landmark,
                         rate_null=rate_null, rate_alt=rate_alt, alpha=alpha, power=power,
                         sided=sided, accrual_time=accrual, follow_up=follow_up, dropout=dropout)
    _show(d.to_frame().dropna(axis=1, how="all"), "One-arm survival design", d.summary())


# --------------------------------------------------------------------------- randomisation


@design_app.command("schedule")
def schedule(
    arms: Annotated[str, typer.Option("--arms", help="arm names, comma-separated")],
    n: Annotated[int, typer.Option("--n", help="slots per stratum")],
    seed: Annotated[int, typer.Option("--seed", help="random seed (store it)")],
    ratio: Annotated[str | None, typer.Option("--ratio", help="e.g. 2,1 (default 1:1)")] = None,
    block_sizes: Annotated[str, typer.Option("--block-sizes", help="e.g. 4,6")] = "4,6",
    strata: Annotated[list[str] | None, typer.Option(
        "--strata", help="factor=level1,level2 (repeat for each factor)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV file to write")] = None,
    conceal_blocks: Annotated[bool, typer.Option(
        "--conceal-blocks", help="omit block numbers and sizes from the CSV")] = False,
) -> None:
    """Generate a stratified permuted-block schedule; print its SHA-256 (of the CSV bytes)."""
    from npctrial.design import PermutedBlockRandomiser
    arm_names = parse_list(arms, "--arms")
    factors = parse_strata(strata)
    r = PermutedBlockRandomiser(
        arm_names, ratio=parse_ints(ratio, "--ratio") if ratio else (1,) * len(arm_names),
        block_sizes=parse_ints(block_sizes, "--block-sizes"), strata=factors or None, seed=seed,
    )
    sched = r.schedule_all(n)
    text = sched.to_csv(out, conceal_blocks=conceal_blocks)
    digest = sched.sha256(conceal_blocks=conceal_blocks)
    # without --out the CSV goes to stdout alone (pipe-able); the table and hash to stderr
    console = _console() if out is not None else Console(stderr=True, highlight=False, width=120)
    counts = sched.counts().reset_index()
    console.print(_table(counts, "Slots per stratum and arm"))
    if out is None:
        typer.echo(text, nl=False)
    else:
        console.print(f"wrote {len(sched)} slots to {out}")
    console.print(f"SHA-256 {digest}")


# --------------------------------------------------------------------------- simulation


@design_app.command("simulate")
def simulate(
    p0: Annotated[float | None, typer.Option("--p0", help="Simon design: null rate")] = None,
    p1: Annotated[float | None, typer.Option("--p1", help="Simon design: target rate")] = None,
    design: Annotated[str, typer.Option("--design", help="optimal or minimax")] = "optimal",
    rates: Annotated[str | None, typer.Option(
        "--rates", help="true response rates or hazard ratios to simulate")] = None,
    hr: Annotated[float | None, typer.Option("--hr", help="survival design: hazard ratio")
                  ] = None,
    median_control: Annotated[float | None, typer.Option("--median-control")] = None,
    accrual: AccrualOpt = None,
    follow_up: FollowOpt = None,
    dropout: DropOpt = 0.0,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
    sided: Annotated[int, typer.Option("--sided", help="survival designs: 1 or 2")] = 2,
    n_sims: Annotated[int, typer.Option("--n-sims")] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
) -> None:
    """Simulate a Simon design (--p0 --p1) or a log-rank design (--hr --median-control ...)."""
    from npctrial.design import lachin_foulkes, simon_two_stage, simulate_operating_characteristics
    if hr is not None:
        if median_control is None or accrual is None or follow_up is None:
            raise ValidationError("a survival simulation needs --median-control, --accrual and "
                                  "--follow-up", field="--median-control")
        d = lachin_foulkes(hr, median_control=median_control, accrual_time=accrual,
                           follow_up=follow_up, dropout=dropout, alpha=alpha, power=power,
                           sided=sided)
        long_run = n_sims * (d.patients or 1) > 200_000
    elif p0 is not None and p1 is not None:
        d = simon_two_stage(p0, p1, alpha, power, design=design)  # type: ignore[assignment,arg-type]
        long_run = n_sims >= 1_000_000
    else:
        raise ValidationError("give --p0 and --p1 (Simon design) or --hr (survival design)",
                              field="--p0")
    values = parse_floats(rates, "--rates") if rates else None
    with _progress("simulating", long_run) as progress:
        oc = simulate_operating_characteristics(d, values, n_sims=n_sims, seed=seed,
                                                progress=progress)
    _show(oc.to_frame(), "Simulated operating characteristics", d.summary() + "\n" + oc.summary())


@design_app.command("balance")
def balance(
    arms: Annotated[str, typer.Option("--arms", help="arm names, comma-separated")] = "A,B",
    strata: Annotated[list[str] | None, typer.Option(
        "--strata", help="factor=level1,level2 (repeat); levels equally likely")] = None,
    n: Annotated[int, typer.Option("--n", help="patients per simulated trial")] = 100,
    block_sizes: Annotated[str, typer.Option("--block-sizes")] = "4,6",
    p_best: Annotated[float, typer.Option("--p-best", help="minimisation: P(best arm)")] = 0.8,
    n_sims: Annotated[int, typer.Option("--n-sims")] = 200,
    seed: Annotated[int, typer.Option("--seed")] = 1,
) -> None:
    """Compare stratified blocks, unstratified blocks and minimisation on the same patients."""
    from npctrial.design import Minimisation, PermutedBlockRandomiser, simulate_balance
    arm_names = parse_list(arms, "--arms")
    factors = parse_strata(strata)
    if not factors:
        raise ValidationError("give at least one --strata factor=level1,level2", field="--strata")
    sizes = parse_ints(block_sizes, "--block-sizes")
    schemes: list[PermutedBlockRandomiser | Minimisation] = [
        PermutedBlockRandomiser(arm_names, ratio=(1,) * len(arm_names), block_sizes=sizes,
                                strata=factors, seed=seed),
        PermutedBlockRandomiser(arm_names, ratio=(1,) * len(arm_names), block_sizes=sizes,
                                seed=seed),
        Minimisation(arm_names, factors, p_best=p_best, seed=seed),
    ]
    with _progress("simulating", n_sims * n > 20_000) as progress:
        res = simulate_balance(schemes, n, {f: list(lv) for f, lv in factors.items()},
                               n_sims=n_sims, seed=seed, progress=progress)
    cols = ["overall_imbalance_mean", "max_stratum_imbalance_mean", "total_stratum_imbalance_mean",
            "max_level_imbalance_mean", "correct_guess_rate"]
    _show(res.to_frame()[cols].reset_index(), "Balance and predictability", res.summary())


def register(app: typer.Typer) -> None:
    """Add the ``design`` sub-app to the ``npctrial`` app."""
    app.add_typer(design_app, name="design")
