"""compute_concordance's O(n log D) counting against a pair-by-pair loop over R's definitions.

The loop follows R's ``concordancefit`` (timewt = "n") as documented: event i and subject j are
comparable when j is at risk after t_i (t_j > t_i, or t_j = t_i and j censored; with (entry, stop]
rows also entry_j < t_i), in the same stratum; pairs weigh w_i w_j; the influence of subject k
collects the pairs it is part of in either role, and se(C) = sqrt(sum of dfbeta^2) with dfbeta
summed within clusters. Every option and every kind of tie is exercised on small random data.
"""

from __future__ import annotations

import numpy as np
import pytest

from npctrial.survival import compute_concordance
from npctrial.survival.cox.dominance import earlier_sums


def _pair_loop(time, status, eta, w, strata, entry, cluster):
    n = len(time)
    counts = np.zeros(5)  # concordant, discordant, tied.x, tied.y, tied.xy
    infl = np.zeros((n, 3))
    for i in range(n):
        if status[i] != 1:
            continue
        for j in range(n):
            if j == i or strata[j] != strata[i]:
                continue
            if time[j] == time[i] and status[j] == 1:
                if i < j:
                    counts[4 if eta[i] == eta[j] else 3] += w[i] * w[j]
                continue
            at_risk = time[j] > time[i] or (time[j] == time[i] and status[j] == 0)
            if not at_risk or (entry is not None and entry[j] >= time[i]):
                continue
            k = 0 if eta[i] > eta[j] else 1 if eta[i] < eta[j] else 2
            counts[k] += w[i] * w[j]
            infl[i, k] += w[j]
            infl[j, k] += w[i]
    conc, disc, tx = counts[:3]
    npair = conc + disc + tx
    somer = (conc - disc) / npair
    dfbeta = ((infl[:, 0] - infl[:, 1]) - infl.sum(axis=1) * somer) * w / (2 * npair)
    if cluster is not None:
        dfbeta = np.array([dfbeta[cluster == c].sum() for c in np.unique(cluster)])
    return (*counts, (somer + 1) / 2, float(np.sqrt(np.sum(dfbeta**2))))


OPTIONS = [
    {},
    {"weights": True},
    {"strata": True},
    {"entry": True},
    {"entry": True, "weights": True, "strata": True, "cluster": True},
    {"weights": True, "cluster": True, "continuous": True},
    {"entry": True, "continuous": True},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "+".join(o) or "plain")
@pytest.mark.parametrize("seed", range(4))
def test_counts_and_standard_error_match_the_pair_loop(options: dict, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(30, 90))
    time = rng.integers(1, int(rng.integers(3, 25)), size=n).astype(float)
    status = rng.binomial(1, 0.6, size=n)
    eta = rng.normal(size=n) if options.get("continuous") else rng.integers(0, 6, size=n).astype(float)
    w = rng.uniform(0.5, 2.0, size=n) if options.get("weights") else np.ones(n)
    strata = rng.integers(0, 3, size=n) if options.get("strata") else np.zeros(n, dtype=int)
    entry = time - rng.integers(1, 8, size=n) if options.get("entry") else None
    cluster = rng.integers(0, 12, size=n) if options.get("cluster") else None
    got = compute_concordance(time, status, eta, weights=w if options.get("weights") else None,
                              strata=strata if options.get("strata") else None, entry=entry, cluster=cluster)
    want = _pair_loop(time, status, eta, w, strata, entry, cluster)
    names = ("concordant", "discordant", "tied_x", "tied_y", "tied_xy", "c_index", "std_err")
    for name, value in zip(names, want, strict=True):
        assert getattr(got, name) == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_entry_times_remove_exactly_the_pairs_not_yet_at_risk() -> None:
    """Subject 2 enters at 5, after the event at 3: only the pair (event at 3, subject 1) counts."""
    time = np.array([3.0, 8.0, 9.0])
    status = np.array([1, 0, 0])
    eta = np.array([2.0, 1.0, 0.0])
    plain = compute_concordance(time, status, eta)
    late = compute_concordance(time, status, eta, entry=np.array([0.0, 0.0, 5.0]))
    assert (plain.concordant, late.concordant) == (2.0, 1.0)
    assert late.discordant == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_earlier_sums_match_a_double_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, bits = int(rng.integers(1, 70)), int(rng.integers(1, 6))
    group = np.sort(rng.integers(0, 3, size=n))
    v = rng.integers(0, 2**bits, size=n)
    a = rng.uniform(size=n)
    b = rng.uniform(size=n)
    index = rng.permutation(n)
    above, below = earlier_sums((group << bits) | v, a, b, bits, index)
    for k in range(n):
        same = [j for j in range(k) if group[j] == group[k]]
        assert above[index[k]] == pytest.approx(sum(a[j] for j in same if v[j] > v[k]), abs=1e-12)
        assert below[index[k]] == pytest.approx(sum(b[j] for j in same if v[j] < v[k]), abs=1e-12)
