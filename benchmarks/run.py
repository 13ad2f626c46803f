"""``make bench``: cold-call ratios against the peers, then (optionally) the steady-state benchmarks.

1. Cold calls (``cold.py``): for Kaplan-Meier, the log-rank test, Cox (Efron, Breslow, with
   strata, with delayed entry), the concordance of the Efron fit, cumulative incidence, Gray's
   test, Fine-Gray, the Weibull AFT model, ``split_at`` (survSplit) and ``time_varying``
   (tmerge) on the Weibull 10-covariate tied data (``synthetic.py``), every
   implementation (npctrial, lifelines, statsmodels, the Rust ``survival`` package) runs once in a
   fresh process, median of ``--repeat`` processes (default 3), interleaved. The table prints
   each peer's time and the ratios peer / npctrial from this run (> 1: npctrial is faster) on the
   wall time of the call, on its CPU time (steadier on a shared machine) and on import + call,
   with the largest difference between the peer's estimate and ours.
2. ``--warm``: every ``bench_*.py`` module (best-of-rounds timings after a warm-up, peak memory,
   strata/cluster fits, competing risks, cohort, design, exports); each exposes
   ``run(sizes) -> list[dict]`` with ``ratio_<peer>`` columns.

Usage::

    python benchmarks/run.py                          # cold calls at n = 1e6
    python benchmarks/run.py --n 1e5 --repeat 5 --cases cox_efron km
    python benchmarks/run.py --n 500 1e4 1e5 --json results.json   # one table per size
    python benchmarks/run.py --warm --only km cox     # also steady-state modules, by name fragment

Timings are ratios measured in one run on the same machine; they are never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cold  # noqa: E402  (benchmarks/ is not a package)


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


def _cold_table(rows: list[dict[str, Any]], console: Any, n: int) -> None:
    from rich.table import Table

    table = Table(title=f"cold call at n = {n:,} (fresh process, median of runs): ratio = peer / npctrial",
                  header_style="bold")
    for col in ("case", "impl", "call s", "cpu s", "import s", "ratio", "ratio cpu", "ratio w/ import",
                "max rel diff", "peak MB"):
        table.add_column(col, justify="right")
    for r in rows:
        if "error" in r:
            table.add_row(r["case"], r["impl"], f"[red]{r['error']}[/]", *["-"] * 7)
            continue
        table.add_row(r["case"], r["impl"], _fmt(r["call_s"]), _fmt(r["call_cpu_s"]), _fmt(r["import_s"]),
                      _fmt(r.get("ratio")), _fmt(r.get("ratio_cpu")), _fmt(r.get("ratio_with_import")),
                      _fmt(r.get("max_rel_diff")), _fmt(r["peak_rss_growth_mb"]))
    console.print(table)


def _warm(only: list[str] | None, sizes: list[int] | None, console: Any) -> list[dict[str, Any]]:
    from rich.table import Table

    all_rows: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if only and not any(frag in path.stem for frag in only):
            continue
        module = _load(path)
        started = time.perf_counter()
        rows = module.run(sizes) if sizes else module.run()
        console.print(f"[bold]{path.stem}[/] ({time.perf_counter() - started:.1f} s)")
        if not rows:
            continue
        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = Table(show_header=True, header_style="bold")
        for col in columns:
            table.add_column(col, justify="right")
        for row in rows:
            table.add_row(*[_fmt(row.get(col)) for col in columns])
        console.print(table)
        all_rows.extend(rows)
    return all_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=None, help=f"cold-call cases (default all: {list(cold.case_names())})")
    parser.add_argument("--peers", nargs="*", default=None, help="peers to run (default all)")
    parser.add_argument("--n", type=float, nargs="+", default=[cold.DEFAULT_N],
                        help="rows of the cold-call data (several: one table per size)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per implementation")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-call benchmarks")
    parser.add_argument("--warm", action="store_true", help="also run the steady-state bench_*.py modules")
    parser.add_argument("--only", nargs="*", default=None, help="bench_*.py name fragments (with --warm)")
    parser.add_argument("--sizes", default=None, help="comma-separated n values for --warm")
    parser.add_argument("--json", default=None, help="also write all rows to this JSON file")
    args = parser.parse_args(argv)

    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(f"npctrial benchmarks on {platform.machine()} / Python {platform.python_version()}")
    rows: list[dict[str, Any]] = []
    if not args.no_cold:
        def progress(case: str, impl: str, out: dict[str, Any]) -> None:
            shown = out.get("error") or f"{out['call_s']:.3f} s (cpu {out['call_cpu_s']:.3f} s)"
            console.print(f"  {case:>16} {impl:>12}: {shown}")

        for n in args.n:
            cold_rows = cold.run(args.cases, n=int(n), repeat=args.repeat, peers=args.peers, progress=progress)
            _cold_table(cold_rows, console, int(n))
            rows.extend(cold_rows)
    if args.warm:
        sizes = [int(float(s)) for s in args.sizes.split(",")] if args.sizes else None
        rows.extend(_warm(args.only, sizes, console))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
