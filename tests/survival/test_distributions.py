"""The survival engine's tail probabilities equal scipy.stats' bit for bit, and importing the
engine does not import scipy.stats (half a second of start-up a user fitting once would wait)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import stats

from npctrial.survival.distributions import chi2_sf, norm_ppf, norm_sf


def test_chi_square_tail_is_scipy_stats() -> None:
    x = np.concatenate([[0.0, 1e-300, np.inf, np.nan], np.geomspace(1e-6, 2e3, 200)])
    for df in (1, 2, 3, 7, 30, 250):
        np.testing.assert_array_equal(chi2_sf(x, df), stats.chi2.sf(x, df))
    assert chi2_sf(-1e-13, 2) == 1.0 == stats.chi2.sf(-1e-13, 2)


def test_normal_tail_and_quantile_are_scipy_stats() -> None:
    z = np.concatenate([[-np.inf, np.inf, np.nan, 0.0], np.linspace(-40, 40, 801)])
    np.testing.assert_array_equal(norm_sf(z), stats.norm.sf(z))
    q = np.concatenate([[0.0, 1.0, 1e-300], np.linspace(1e-6, 1 - 1e-6, 999)])
    np.testing.assert_array_equal(norm_ppf(q), stats.norm.ppf(q))


def test_importing_the_survival_engine_leaves_scipy_stats_and_sparse_unloaded() -> None:
    code = "import sys, npctrial.survival; print(sorted(m for m in ('scipy.stats', 'scipy.sparse') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
