"""Compare two directories of R reference files (JSON and CSV) to their printed precision.

Usage: ``python tests/data/refs/compare_refs.py EXPECTED_DIR ACTUAL_DIR [--only NAME ...]``

JSON documents are compared key by key (order ignored): strings, booleans and nulls exactly,
numbers to the 15 significant digits they are printed with (a difference of one unit in the
15th digit is accepted: the last printed digit is rounded). ``generated_utc`` is ignored. CSV
files are compared byte for byte. Exit status 1 and a list of differences when they differ.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

IGNORED_KEYS = frozenset({"generated_utc"})
REL = 1.5e-14  # one unit in the 15th significant digit


def _same_number(a: float, b: float) -> bool:
    if a == b:
        return True
    return abs(a - b) <= REL * max(abs(a), abs(b))


def diff(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every difference between two decoded JSON values, as readable paths."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return [] if expected is actual else [f"{path}: {expected!r} != {actual!r}"]
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if math.isfinite(expected) and _same_number(float(expected), float(actual)):
            return []
        return [f"{path}: {expected!r} != {actual!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        keys_e, keys_a = set(expected) - IGNORED_KEYS, set(actual) - IGNORED_KEYS
        out += [f"{path}.{k}: missing" for k in sorted(keys_e - keys_a)]
        out += [f"{path}.{k}: unexpected" for k in sorted(keys_a - keys_e)]
        for k in sorted(keys_e & keys_a):
            out += diff(expected[k], actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: length {len(expected)} != {len(actual)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += diff(e, a, f"{path}[{i}]")
        return out
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


def compare_dirs(expected: Path, actual: Path, only: list[str] | None = None) -> list[str]:
    """Differences between the reference files of ``expected`` and their copies in ``actual``."""
    problems: list[str] = []
    files = sorted(p for p in expected.rglob("*") if p.suffix in {".json", ".csv"})
    if only:
        files = [p for p in files if p.stem in only]
    for path in files:
        rel = path.relative_to(expected)
        other = actual / rel
        if not other.is_file():
            problems.append(f"{rel}: not regenerated")
        elif path.suffix == ".csv":
            if path.read_bytes() != other.read_bytes():
                problems.append(f"{rel}: CSV differs")
        else:
            found = diff(json.loads(path.read_text()), json.loads(other.read_text()))
            problems += [f"{rel} {d}" for d in found]
    return problems


def main(argv: list[str]) -> int:
    only = argv[argv.index("--only") + 1 :] if "--only" in argv else None
    args = argv[: argv.index("--only")] if "--only" in argv else argv
    problems = compare_dirs(Path(args[0]), Path(args[1]), only)
    for p in problems[:200]:
        print(p)
    print(f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
