"""Synthetic survival data shared by the benchmarks (numpy and pandas only: importing this module
must not import npctrial or a peer, so a fresh benchmark process times their imports itself)."""

from __future__ import annotations

import numpy as np
import pandas as pd

P = 10
COVS = [f"x{i}" for i in range(P)]


def make_cox_data(n: int, seed: int = 0) -> pd.DataFrame:
    """The Weibull 10-covariate tied data of every survival benchmark.

    Weibull(shape 1.3) proportional hazards with coefficients linspace(-0.4, 0.4, 10) on nine
    standard normal covariates and one Bernoulli(0.4) (``x1``, also the two-group factor of the
    Kaplan-Meier and log-rank benchmarks); event and censoring times rounded up to whole days
    (about a thousand distinct times, heavy ties), ~30 % censored; ``stratum`` (4 levels) and
    ``cluster`` (n/5 levels) for the stratified and robust fits. Drawn from a second generator
    (the columns above do not change): ``status`` (0 censored, 1 or 2 the cause of an event, 60/40)
    for competing risks, ``entry`` (delayed entry in [0, time/2]) for counting-process fits, ``id``
    and ``change_time`` (half of the subjects have a covariate change at a day strictly inside their
    follow-up, else NaN) for time-varying covariates.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, P))
    x[:, 1] = rng.binomial(1, 0.4, n)
    beta = np.linspace(-0.4, 0.4, P)
    lp = x @ beta
    t_event = np.ceil(365 * rng.weibull(1.3, n) * np.exp(-lp / 1.3))
    t_cens = np.ceil(365 * 3.5 * rng.uniform(0.05, 1.0, n))
    df = pd.DataFrame(x, columns=COVS)
    df["time"] = np.minimum(t_event, t_cens)
    df["event"] = (t_event <= t_cens).astype(int)
    df["stratum"] = rng.integers(0, 4, n)
    df["cluster"] = rng.integers(0, max(1, n // 5), n)
    extra = np.random.default_rng(seed + 1)
    df["status"] = np.where(df["event"] == 1, np.where(extra.random(n) < 0.6, 1, 2), 0)
    df["entry"] = np.floor(df["time"] * extra.uniform(0.0, 0.5, n))
    df["id"] = np.arange(n)
    change = np.ceil(df["time"] * extra.uniform(0.1, 0.9, n))
    df["change_time"] = np.where((extra.random(n) < 0.5) & (change < df["time"]), change, np.nan)
    return df
