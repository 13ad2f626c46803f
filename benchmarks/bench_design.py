"""Trial design: Simon search, simulated Simon trials and simulated log-rank trials vs peers.

Rows (``n`` = the size parameter of each row; ratios are peer time / our time, > 1 = faster):

* ``simon_search``: ``simon_two_stage`` (vectorised enumeration over all (n1, r1, r) of each n)
  vs a plain loop over designs with scipy binomial calls per design (how most published
  programs search), both with ``n_max = n``; the loop peer only runs up to ``n_max`` 45.
* ``simon_simulation``: ``n`` simulated trials of the 3/13, 12/43 design (vectorised) vs a
  Python loop drawing each trial.
* ``logrank_simulation``: ``n`` simulated two-arm trials of 200 patients with the batch log-rank
  vs ``lifelines.statistics.logrank_test`` and ``npctrial.survival.logrank_test`` per trial
  (peers timed on min(n, 200) trials and scaled to n). ``max_rel_diff_*`` compares chi-square
  statistics; against ``npctrial.survival`` it can reach ~1e-3 when a simulated trial has two
  times within 1.5e-8 relative, which that function (like R's ``timefix``) treats as tied.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from npctrial.design import simon_two_stage, simulate_operating_characteristics
from npctrial.design._logrank import compute_logrank_batch
from npctrial.design.simon import _candidates

DEFAULT_SIZES = [1_000, 10_000]
_PEER_TRIALS = 200


def _timeit(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _loop_simon(p0: float, p1: float, alpha: float, power: float, n_max: int) -> tuple:
    best = None
    for n in range(2, n_max + 1):
        for n1 in range(1, n):
            x = np.arange(n1 + 1)
            b0, b1 = stats.binom.pmf(x, n1, p0), stats.binom.pmf(x, n1, p1)
            for r1 in range(n1):
                for r in range(r1, n):
                    xs = x[r1 + 1:]
                    a = float(np.sum(b0[r1 + 1:] * stats.binom.sf(r - xs, n - n1, p0)))
                    if a > alpha:
                        continue
                    pw = float(np.sum(b1[r1 + 1:] * stats.binom.sf(r - xs, n - n1, p1)))
                    if pw >= power:
                        pet = float(stats.binom.cdf(r1, n1, p0))
                        en = n1 + (1 - pet) * (n - n1)
                        if best is None or en < best[0] - 1e-12:
                            best = (en, r1, n1, r, n)
                    break
    return best


def _simon_rows() -> list[dict]:
    rows = []
    for n_max in (45, 100):
        _candidates.cache_clear()
        ours, d = _timeit(lambda n_max=n_max: simon_two_stage(0.2, 0.4, 0.05, 0.8, n_max=n_max))
        row: dict = {"benchmark": "simon_search", "n": n_max, "ours_s": round(ours, 4),
                     "design": f"{d.r1}/{d.n1}, {d.r}/{d.n}"}
        if n_max <= 45:
            peer, best = _timeit(functools.partial(_loop_simon, 0.2, 0.4, 0.05, 0.8, n_max))
            row["loop_s"] = round(peer, 3)
            row["ratio_loop"] = round(peer / ours, 1)
            row["same_design"] = best[1:] == (d.r1, d.n1, d.r, d.n)
        rows.append(row)
    return rows


def _simon_sim_row(n: int) -> dict:
    d = simon_two_stage(0.2, 0.4)
    ours, _ = _timeit(lambda: simulate_operating_characteristics(d, (0.4,), n_sims=n, seed=1))
    rng = np.random.default_rng(1)

    def loop() -> float:
        hits = 0
        for _ in range(n):
            x1 = rng.binomial(d.n1, 0.4)
            if x1 > d.r1 and x1 + rng.binomial(d.n - d.n1, 0.4) > d.r:
                hits += 1
        return hits / n

    peer, _ = _timeit(loop)
    return {"benchmark": "simon_simulation", "n": n, "ours_s": round(ours, 4),
            "loop_s": round(peer, 4), "ratio_loop": round(peer / ours, 1)}


def _trials(n: int, m: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = np.zeros((n, m), dtype=bool)
    group[:, : m // 2] = True
    t = rng.exponential(1.0, (n, m)) / np.where(group, 0.1, 0.2)
    entry = rng.uniform(0, 2, (n, m))
    cens = 4 - entry
    return np.minimum(t, cens), t <= cens, group


def _logrank_row(n: int) -> dict:
    time_, event, group = _trials(n)
    ours, (_, _, z) = _timeit(lambda: compute_logrank_batch(time_, event, group))
    row: dict = {"benchmark": "logrank_simulation", "n": n, "ours_s": round(ours, 4)}
    k = min(n, _PEER_TRIALS)
    from lifelines.statistics import logrank_test as ll_logrank

    from npctrial.survival import logrank_test

    def lifelines_loop() -> list[float]:
        return [ll_logrank(time_[i][group[i]], time_[i][~group[i]], event[i][group[i]],
                           event[i][~group[i]]).test_statistic for i in range(k)]

    def npctrial_loop() -> list[float]:
        return [logrank_test(time_[i], event[i].astype(int), group[i].astype(int)).chisq
                for i in range(k)]

    for name, fn in (("lifelines", lifelines_loop), ("survival_logrank", npctrial_loop)):
        peer, chisq = _timeit(fn)
        scaled = peer * n / k
        row[f"{name}_s"] = round(scaled, 3)
        row[f"ratio_{name}"] = round(scaled / ours, 1)
        row[f"max_rel_diff_{name}"] = float(np.max(np.abs(np.asarray(chisq) - z[:k] ** 2)
                                                  / np.asarray(chisq)))
    return row


def run(sizes: list[int] | None = None) -> list[dict]:
    rows = _simon_rows()
    for n in sizes or DEFAULT_SIZES:
        rows.append(_simon_sim_row(n))
        rows.append(_logrank_row(n))
    return rows


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    sizes = [int(float(s)) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else None
    for r in run(sizes):
        print(json.dumps(r))
