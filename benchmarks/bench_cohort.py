"""Full cohort report (npctrial analyze) on large synthetic cohorts.

The cohort is the demo cohort (Chen et al. 2016 shape) resampled with replacement to ``n``
patients. The target is a 100,000-patient report in under 60 s; there is no peer that produces
the same report, so the ratio is against that budget (``ratio_budget`` = 60 s / our time, > 1 is
within budget).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from npctrial.cohort import make_demo_cohort, run_analysis

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "paper-2016.yaml"
BUDGET_S = 60.0


def make_large_cohort(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` patients resampled from five demo cohorts (ids made unique)."""
    base = pd.concat([make_demo_cohort(s) for s in range(1, 6)], ignore_index=True)
    rng = np.random.default_rng(seed)
    big = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    big["patient_id"] = [f"P{i:07d}" for i in range(n)]
    return big


def run(sizes: list[int] | None = None) -> list[dict]:
    rows = []
    for n in sizes or [10_000, 100_000]:
        with tempfile.TemporaryDirectory() as tmp:
            cohort = Path(tmp) / "cohort.csv"
            make_large_cohort(n).to_csv(cohort, index=False)
            started = time.perf_counter()
            report = run_analysis(cohort, Path(tmp) / "report", config=EXAMPLE)
            elapsed = time.perf_counter() - started
        rows.append({"benchmark": "cohort report (analyze)", "n": n, "ours_s": round(elapsed, 2),
                     "budget_s": BUDGET_S, "ratio_budget": round(BUDGET_S / elapsed, 2),
                     "tables": len(report.tables), "figures": len(report.figures)})
    return rows


if __name__ == "__main__":  # pragma: no cover
    # sizes on the command line, e.g. ``python benchmarks/bench_cohort.py 10000``
    for row in run([int(a) for a in sys.argv[1:]] or None):
        print(row)
