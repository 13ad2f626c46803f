"""Cold-call benchmarks: one first call in a fresh process, as a user fitting once waits for it.

For each case (``peers.CASES``) and implementation, a new Python process

1. builds the data (:func:`synthetic.make_cox_data`, numpy and pandas only; npctrial and the
   peers are not imported yet),
2. imports the implementation's library (timed: ``import``),
3. runs its untimed set-up (e.g. the Cox fit whose concordance is timed),
4. times the one call (``call``: wall clock and process CPU time, the CPU time of every thread
   of the process) and reports the estimate and the peak resident memory.

Before the runs, npctrial's sources are compiled to bytecode (``compileall``, into the
``__pycache__`` folders Git ignores), as ``pip install`` does for every installed package: the
peers' bytecode is already in site-packages, and a process that compiles npctrial's sources while
importing them (``PYTHONDONTWRITEBYTECODE``) would time the compiler, not the import.

Each process is run ``repeat`` times (default 3), the implementations interleaved within each
round so that load from other processes hits them alike; the median of the rounds is reported.
Ratios are peer / npctrial from the same run (> 1: npctrial is faster): ``ratio`` on the wall
time of the call, ``ratio_cpu`` on its CPU time (steadier on a shared machine), and
``ratio_with_import`` on import + call. Each peer's estimate is compared with ours
(``max_abs_diff``, ``max_rel_diff``).

Usage::

    python benchmarks/cold.py                       # every case at n = 1e6
    python benchmarks/cold.py --cases cox_efron km --n 100000 --repeat 5
    python benchmarks/cold.py --peers survival      # a subset of the peers
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_N = 1_000_000
TIMEOUT_S = 1800


def case_names() -> list[str]:
    sys.path.insert(0, str(HERE))
    from peers import CASES

    return list(CASES)


def child(case: str, impl: str, n: int) -> dict[str, Any]:
    """Steps 1-4 in this (fresh) process; returns the measurements."""
    sys.path.insert(0, str(HERE))
    from peers import CASES
    from synthetic import make_cox_data

    spec = CASES[case][impl]
    df = make_cox_data(n)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    lib = spec.load()
    t1, c1 = time.perf_counter(), time.process_time()
    state = spec.prepare(lib, df)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.collect()
    t2, c2 = time.perf_counter(), time.process_time()
    estimate = spec.call(lib, state)
    t3, c3 = time.perf_counter(), time.process_time()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"import_s": t1 - t0, "import_cpu_s": c1 - c0, "call_s": t3 - t2, "call_cpu_s": c3 - c2,
            "peak_rss_growth_mb": (rss1 - rss0) / 1024, "estimate": [float(v) for v in estimate]}


def _spawn(case: str, impl: str, n: int, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, impl, str(n)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {TIMEOUT_S} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _agreement(ours: list[float], theirs: list[float]) -> tuple[float, float]:
    k = min(len(ours), len(theirs))  # a peer may report less (lifelines: C without its SE)
    if k == 0:
        return float("nan"), float("nan")
    diffs = [abs(a - b) for a, b in zip(ours[:k], theirs[:k], strict=True)]
    rel = [d / abs(a) if a != 0 else d for d, a in zip(diffs, ours[:k], strict=True)]
    return max(diffs), max(rel)


def run(cases: list[str] | None = None, *, n: int = DEFAULT_N, repeat: int = 3,
        peers: list[str] | None = None, progress: Any = None) -> list[dict[str, Any]]:
    """One row per (case, implementation): medians over ``repeat`` fresh processes and ratios."""
    sys.path.insert(0, str(HERE))
    from peers import CASES

    compileall.compile_dir(str(HERE.parent / "src" / "npctrial"), quiet=1)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent / "src"), env.get("PYTHONPATH")]))
    rows: list[dict[str, Any]] = []
    for case in cases or list(CASES):
        impls = [name for name in CASES[case] if name == "npctrial" or peers is None or name in peers]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in impls}
        errors: dict[str, str] = {}
        for name in impls:
            limit = CASES[case][name].max_n
            if limit is not None and n > limit:
                errors[name] = f"not run above n = {limit:,}"
        for _ in range(repeat):
            for name in impls:  # interleaved: a load change hits every implementation alike
                if name in errors:
                    continue
                out = _spawn(case, name, n, env)
                if "error" in out:
                    errors[name] = out["error"]
                else:
                    runs[name].append(out)
                if progress is not None:
                    progress(case, name, out)
        ours = runs.get("npctrial") or []
        for name in impls:
            row: dict[str, Any] = {"case": case, "impl": name, "n": n, "note": CASES[case][name].note}
            if name in errors:
                row["error"] = errors[name]
                rows.append(row)
                continue
            r = runs[name]
            for key in ("call_s", "call_cpu_s", "import_s", "peak_rss_growth_mb"):
                row[key] = _median(r, key)
            if name != "npctrial" and ours:
                row["ratio"] = row["call_s"] / _median(ours, "call_s")
                row["ratio_cpu"] = row["call_cpu_s"] / _median(ours, "call_cpu_s")
                row["ratio_with_import"] = ((row["call_s"] + row["import_s"])
                                            / (_median(ours, "call_s") + _median(ours, "import_s")))
                row["max_abs_diff"], row["max_rel_diff"] = _agreement(ours[0]["estimate"], r[0]["estimate"])
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], argv[2], int(argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=None)
    parser.add_argument("--peers", nargs="*", default=None)
    parser.add_argument("--n", type=float, nargs="+", default=[DEFAULT_N])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    for n in args.n:
        for row in run(args.cases, n=int(n), repeat=args.repeat, peers=args.peers):
            print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
