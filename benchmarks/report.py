"""Markdown ratio table from the JSON rows of ``run.py --json`` (cold calls), for benchmarks/RESULTS.md.

One row per (case, n): npctrial's call time (wall, and process CPU), then for each peer
``wall ratio / CPU ratio / ratio with import`` (peer / npctrial: > 1 means npctrial is faster), or
why the peer has no number (not run at that size, no such function).

Usage::

    python benchmarks/report.py results-500.json results-1e4.json results-1e5.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PEERS = ("lifelines", "statsmodels", "survival")


def _ratio(row: dict[str, Any]) -> str:
    if "error" in row:
        return row["error"].replace("not run above n = ", "not run > ")
    parts = [row.get("ratio"), row.get("ratio_cpu"), row.get("ratio_with_import")]
    return " / ".join("-" if p is None else f"{p:.3g}" for p in parts)


def table(rows: list[dict[str, Any]]) -> str:
    cases = list(dict.fromkeys(r["case"] for r in rows))
    sizes = sorted({r["n"] for r in rows})
    out = ["| case | n | npctrial call s (CPU s) | import s | " + " | ".join(PEERS) + " |",
           "|---|---:|---:|---:|" + "---:|" * len(PEERS)]
    for case in cases:
        for n in sizes:
            here = {r["impl"]: r for r in rows if r["case"] == case and r["n"] == n}
            ours = here.get("npctrial")
            if ours is None or "error" in ours:
                continue
            cells = [_ratio(here[p]) if p in here else "(no such function)" for p in PEERS]
            out.append(f"| {case} | {n:,} | {ours['call_s']:.3g} ({ours['call_cpu_s']:.3g}) | "
                       f"{ours['import_s']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    rows: list[dict[str, Any]] = []
    for path in argv:
        rows.extend(json.loads(Path(path).read_text()))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
