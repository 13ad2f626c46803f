"""Competing risks: cumulative incidence, Gray's test, Aalen-Johansen and Fine-Gray vs peers.

Synthetic data: Weibull times in whole days (heavy ties), ~30 % censored, two causes, two
groups, five covariates for Fine-Gray. Peers, all timed in this run on this machine:

* ``lifelines`` ``AalenJohansenFitter`` (with its variance, one fit per cause: the same curves
  and SEs as ours) for ``cumulative_incidence`` and ``aalen_johansen``;
* Gray's test has no Python peer (its correctness is checked against cmprsk::cuminc in the
  tests); its row reports our time only;
* ``quadratic``: crr's algorithm (every risk set summed over all n rows, numpy inside the loop
  over the distinct failure times, O(n x failure times)) for one evaluation of the Fine-Gray
  likelihood, gradient and Hessian; our row times the same single evaluation
  (``fine_gray_eval``) and the full fit with the sandwich variance (``fine_gray_fit``).

Slow peers are only run up to ``peer_max_n`` rows (environment ``NPCTRIAL_BENCH_PEER_MAX_N``,
default 1e6 for lifelines, 1e5 for the quadratic peer).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from npctrial.survival import aalen_johansen, cumulative_incidence, fine_gray, gray_test
from npctrial.survival.fine_gray import _objective_grad_hess, _prepare

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
_LIFELINES_MAX = int(float(os.environ.get("NPCTRIAL_BENCH_PEER_MAX_N", "1e6")))
_SLOW_MAX = min(_LIFELINES_MAX, 100_000)


def _data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    group = rng.integers(0, 2, n)
    lp = x @ np.array([0.3, -0.2, 0.1, 0.0, 0.05]) + 0.2 * group
    t_event = np.ceil(365 * rng.weibull(1.2, n) * np.exp(-lp / 1.2))
    t_cens = np.ceil(365 * 3 * rng.weibull(1.5, n))
    cause = np.where(rng.random(n) < 0.55, 1, 2)
    event = np.where(t_event <= t_cens, cause, 0)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(5)])
    df["time"] = np.minimum(t_event, t_cens)
    df["event"] = event
    df["group"] = group
    return df


def _timeit(fn: Callable[[], object], repeat: int = 1) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _lifelines_aj(t: np.ndarray, e: np.ndarray) -> None:
    from lifelines import AalenJohansenFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cause in (1, 2):
            AalenJohansenFitter(calculate_variance=True, seed=0).fit(t, e, event_of_interest=cause)


def _quadratic_eval(
    time_: np.ndarray, ici: np.ndarray, x: np.ndarray, g: np.ndarray, b: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """crr's crrfsv: for each distinct failure time, sums over all rows (O(n) each)."""
    eta = x @ b
    w = np.exp(eta)
    f = 0.0
    p = x.shape[1]
    grad = np.zeros(p)
    hess = np.zeros((p, p))
    other = ici == 2
    for cft in np.unique(time_[ici == 1]):
        fail = (time_ == cft) & (ici == 1)
        d = fail.sum()
        at_risk = time_ >= cft
        gt = g[np.argmax(time_ >= cft)]
        wt = np.where(at_risk, w, np.where(other, w * gt / g, 0.0))
        s0 = wt.sum()
        s1 = wt @ x
        s2 = (x * wt[:, None]).T @ x
        f += -eta[fail].sum() + d * np.log(s0)
        grad += -x[fail].sum(axis=0) + d * s1 / s0
        hess += d * (s2 / s0 - np.outer(s1, s1) / s0**2)
    return f, grad, hess


def run(sizes: list[int] | None = None) -> list[dict]:
    rows: list[dict] = []
    for n in sizes or DEFAULT_SIZES:
        rows += _run_size(n)
    return rows


def _run_size(n: int) -> list[dict]:
    rows: list[dict] = []
    df = _data(n)
    t = df["time"].to_numpy()
    e = df["event"].to_numpy()
    g = df["group"].to_numpy()

    ours = _timeit(lambda: cumulative_incidence(t, e), repeat=3)
    row: dict = {"benchmark": "cumulative_incidence", "n": n, "ours_s": ours}
    if n <= _LIFELINES_MAX:
        row["lifelines_s"] = _timeit(lambda: _lifelines_aj(t, e))
        row["ratio_lifelines"] = row["lifelines_s"] / ours
    rows.append(row)

    ours = _timeit(lambda: aalen_johansen(t, e), repeat=3)
    row = {"benchmark": "aalen_johansen", "n": n, "ours_s": ours}
    if n <= _LIFELINES_MAX:
        row["lifelines_s"] = rows[-1].get("lifelines_s")
        row["ratio_lifelines"] = row["lifelines_s"] / ours
    rows.append(row)

    ours = _timeit(lambda: gray_test(t, e, g), repeat=3)
    rows.append({"benchmark": "gray_test", "n": n, "ours_s": ours})

    covs = [f"x{i}" for i in range(5)]
    order = np.argsort(t, kind="stable")
    ici = np.where(e == 1, 1, np.where(e == 0, 0, 2))[order]
    x = df[covs].to_numpy()[order]
    xc = x - x.mean(axis=0)
    pp = _prepare(t[order], ici, xc)
    b = np.full(5, 0.05)
    ours = _timeit(lambda: _objective_grad_hess(pp, b), repeat=3)
    row = {"benchmark": "fine_gray_eval", "n": n, "ours_s": ours}
    if n <= _SLOW_MAX:
        row["quadratic_s"] = _timeit(lambda: _quadratic_eval(pp.time, ici, xc, pp.g, b))
        row["ratio_quadratic"] = row["quadratic_s"] / ours
        # the peer does the same work: same numbers
        same = zip(_quadratic_eval(pp.time, ici, xc, pp.g, b), _objective_grad_hess(pp, b), strict=True)
        row["max_rel_diff"] = max(float(np.max(np.abs(q - o) / np.abs(o))) for q, o in same)
    rows.append(row)

    fit = fine_gray(df, "time", "event", covs, cause=1)
    ours = _timeit(lambda: fine_gray(df, "time", "event", covs, cause=1))
    rows.append(
        {"benchmark": "fine_gray_fit", "n": n, "ours_s": ours, "iterations": fit.iterations}
    )
    return rows


if __name__ == "__main__":
    for r in run([int(float(s)) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else None):
        print(r)
