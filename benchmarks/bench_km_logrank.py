"""Kaplan-Meier and log-rank speed against statsmodels and lifelines, with peak memory.

Data: Weibull(shape 1.5) event times in days, 30 % independent random censoring, two balanced
groups; "tied" rounds the times up to whole days (heavy ties, a few thousand distinct times),
"untied" keeps them continuous (almost every time distinct, the worst case for R's ``timefix``
merge and for the size of the risk-set grid). For each n the same arrays go to every
implementation; the best of ``repeat`` wall-clock runs is kept, the implementations
interleaved so that load from other processes affects them alike. Peak memory of our calls is
measured separately with ``tracemalloc`` (numpy reports its buffers to it), so timings are not
slowed by tracing.

Run::

    python benchmarks/bench_km_logrank.py --sizes 100000,1000000
    python benchmarks/bench_km_logrank.py --sizes 10000000 --peer-max 1000000
    python benchmarks/bench_km_logrank.py --data untied --sizes 100000

``run(sizes)`` returns rows for ``benchmarks/run.py``: ``ratio_<peer>`` = peer time / our time
(> 1 means npctrial is faster).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

DEFAULT_SIZES = [100_000, 1_000_000]
DATASETS = ("tied", "untied")
PEER_MAX = 1_000_000  # peers are slow at 1e7; time them only up to this n


def make_data(n: int, seed: int = 2026, *, tied: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weibull times in days (whole days if ``tied``, else continuous), 30 % censoring, two
    groups with hazard ratio ~0.8."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    scale = np.where(group == 1, 3.0 * 365 / 0.8 ** (1 / 1.5), 3.0 * 365)
    time = rng.weibull(1.5, n) * scale
    if tied:
        time = np.ceil(time)
    event = (rng.random(n) >= 0.30).astype(np.int64)
    return time, event, group


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _ours(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], Any]]:
    from npctrial.survival import kaplan_meier, logrank_test

    return {"km": lambda: kaplan_meier(t, e), "logrank": lambda: logrank_test(t, e, g)}


def _statsmodels(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], Any]]:
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    return {"km": lambda: SurvfuncRight(t, e), "logrank": lambda: survdiff(t, e, g)}


def _lifelines(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], Any]]:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    a, b = g == 0, g == 1
    return {
        "km": lambda: KaplanMeierFitter().fit(t, e),
        "logrank": lambda: logrank_test(t[a], t[b], e[a], e[b]),
    }


PEERS: dict[str, Callable[..., dict[str, Callable[[], Any]]]] = {
    "statsmodels": _statsmodels,
    "lifelines": _lifelines,
}


def run(
    sizes: list[int] | None = None,
    *,
    peer_max: int = PEER_MAX,
    repeat: int | None = None,
    datasets: tuple[str, ...] = DATASETS,
) -> list[dict]:
    """Time KM and log-rank at each n and data set for npctrial and (up to ``peer_max``) the peers."""
    rows: list[dict] = []
    for data, n in ((d, n) for n in sizes or DEFAULT_SIZES for d in datasets):
        t, e, g = make_data(n, tied=data == "tied")
        rep = repeat if repeat is not None else (7 if n <= 1_000_000 else 2)
        ours = _ours(t, e, g)
        peers = {name: make(t, e, g) for name, make in PEERS.items()} if n <= peer_max else {}
        for bench in ("km", "logrank"):
            ours[bench]()  # warm-up (imports, first-touch allocations)
            row: dict[str, Any] = {"benchmark": bench, "data": data, "n": n}
            fns = {"ours": ours[bench]} | {name: f[bench] for name, f in peers.items()}
            # interleave the implementations so load from other processes hits them alike
            best = dict.fromkeys(fns, float("inf"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(rep):
                    for name, fn in fns.items():
                        best[name] = min(best[name], _best(fn, 1))
            row["ours_s"] = best["ours"]
            row["ours_peak_mb"] = _peak_mb(ours[bench])
            for name in peers:
                row[f"{name}_s"] = best[name]
                row[f"ratio_{name}"] = best[name] / best["ours"]
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--peer-max", type=float, default=PEER_MAX, help="largest n timed for the peers")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--data", default=",".join(DATASETS), help="tied, untied or both (comma-separated)")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    datasets = tuple(d.strip() for d in args.data.split(","))
    for d in datasets:
        if d not in DATASETS:
            parser.error(f"--data must list {' or '.join(DATASETS)}, got {d!r}")
    for row in run(sizes, peer_max=int(args.peer_max), repeat=args.repeat, datasets=datasets):
        parts = [f"{row['benchmark']:>8} {row['data']:>6} n={row['n']:>9,d}  ours {row['ours_s']:.3f} s  peak {row['ours_peak_mb']:.0f} MB"]
        for name in PEERS:
            if f"{name}_s" in row:
                parts.append(f"{name} {row[f'{name}_s']:.3f} s (x{row[f'ratio_{name}']:.1f})")
        print("  ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
