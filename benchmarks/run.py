"""Run every benchmark in this folder and print speed ratios against the peers.

Each ``bench_*.py`` module exposes ``run(sizes: list[int] | None = None) -> list[dict]``; each row
has at least ``benchmark``, ``n``, ``ours_s`` and, per peer, ``<peer>_s`` and ``ratio_<peer>``
(peer time / our time, so > 1 means npctrial is faster). Usage::

    python benchmarks/run.py                 # default sizes of each benchmark
    python benchmarks/run.py --only km cox   # a subset, by module-name fragment
    python benchmarks/run.py --sizes 100000,1000000

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

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="module-name fragments to run")
    parser.add_argument("--sizes", default=None, help="comma-separated n values (e.g. 100000,1000000)")
    parser.add_argument("--json", default=None, help="also write all rows to this JSON file")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")] if args.sizes else None

    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"npctrial benchmarks on {platform.machine()} / Python {platform.python_version()}")
    all_rows: list[dict] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and not any(frag in path.stem for frag in args.only):
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
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=2, default=str))
    return 0


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
