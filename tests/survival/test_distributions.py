"""The survival engine's tail probabilities and normal quantiles (``npctrial.survival.distributions``).

Up to 256 values they come from the C library's ``erfc``, AS 241 and the closed forms of the
chi-square tail; beyond that, and for non-integer df, from ``scipy.special``. Checked against R
(values printed by R 4.2 with ``sprintf("%.17g", ...)``) and against scipy.stats to the last few
units in the last place, and importing the engine leaves scipy and the fonts unloaded (a third of
a second of start-up a user fitting once would wait)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import stats

from npctrial.survival.distributions import chi2_sf, norm_ppf, norm_sf


def _in_chunks(fn, values: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``fn`` on pieces of at most 200 values: the closed-form path."""
    return np.concatenate([np.atleast_1d(fn(c)) for c in np.array_split(values, -(-values.size // 200))])


def test_normal_quantile_is_r_qnorm_bit_for_bit() -> None:
    # R: sprintf("%.17g", qnorm(c(0.975, 0.95, 0.995, 0.9)))  (AS 241, as statistics.NormalDist)
    r = [1.9599639845400536, 1.6448536269514715, 2.5758293035488999, 1.2815515655446008]
    assert [float(norm_ppf(q)) for q in (0.975, 0.95, 0.995, 0.9)] == r
    # R: sprintf("%.17g", pchisq(c(3.84, 0.5, 1e-4), 1, lower.tail = FALSE))
    r_chi = [0.050043521248705224, 0.47950012218695348, 0.9920212873707368]
    np.testing.assert_allclose([chi2_sf(x, 1) for x in (3.84, 0.5, 1e-4)], r_chi, rtol=3e-15, atol=0)


def test_chi_square_tail_is_scipy_stats() -> None:
    x = np.concatenate([[0.0, 1e-300, np.inf, np.nan], np.geomspace(1e-6, 2e3, 200)])
    for df in (1, 2, 3, 7, 30, 250):
        ours, ref = chi2_sf(x, df), stats.chi2.sf(x, df)
        np.testing.assert_array_equal(ours[:4], ref[:4])  # 1 at 0, 0 at inf, NaN for NaN
        usual = ref >= 1e-100  # every p-value a report shows: a few hundred units in the last place at most
        np.testing.assert_allclose(ours[usual], ref[usual], rtol=1e-13, atol=0)
        far = (ref > 1e-300) & ~usual  # e^-690: the rounding of x / 2 is multiplied by x / 2
        np.testing.assert_allclose(ours[far], ref[far], rtol=2e-13, atol=0)
    assert chi2_sf(-1e-13, 2) == 1.0 == stats.chi2.sf(-1e-13, 2)
    # per-element df (cox.zph's table) take the same closed forms
    np.testing.assert_allclose(chi2_sf(x[4:], np.arange(1, 201)), stats.chi2.sf(x[4:], np.arange(1, 201)),
                               rtol=2e-13, atol=1e-300)  # tails to 1e-255 here
    # non-integer df and long arrays go to scipy.special itself
    np.testing.assert_array_equal(chi2_sf(x, 2.5), stats.chi2.sf(x, 2.5))
    long = np.geomspace(1e-3, 50, 1000)
    np.testing.assert_array_equal(chi2_sf(long, 3), stats.chi2.sf(long, 3))


def test_normal_tail_and_quantile_are_scipy_stats() -> None:
    z = np.concatenate([[-np.inf, np.inf, np.nan, 0.0], np.linspace(-40, 40, 801)])
    ours, ref = _in_chunks(norm_sf, z), stats.norm.sf(z)
    np.testing.assert_array_equal(ours[:4], ref[:4])
    usual = ref >= 1e-100
    np.testing.assert_allclose(ours[usual], ref[usual], rtol=1.5e-13, atol=0)
    np.testing.assert_allclose(ours[~usual], ref[~usual], rtol=3e-13, atol=1e-300)
    np.testing.assert_array_equal(norm_sf(z), stats.norm.sf(z))  # long arrays: scipy.special
    q = np.concatenate([[0.0, 1.0, 1e-300], np.linspace(1e-6, 1 - 1e-6, 999)])
    ours, ref = _in_chunks(norm_ppf, q), stats.norm.ppf(q)
    np.testing.assert_array_equal(ours[:3], ref[:3])  # -inf, inf, and the far tail
    np.testing.assert_allclose(ours, ref, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(norm_ppf(q), stats.norm.ppf(q))
    assert np.isnan(norm_ppf(1.5)) and np.isnan(norm_ppf(-0.1)) and np.isnan(stats.norm.ppf(1.5))


def test_importing_the_survival_engine_leaves_scipy_and_the_fonts_unloaded() -> None:
    code = ("import sys, npctrial.survival; print(sorted(m for m in ('scipy.stats', 'scipy.sparse', "
            "'scipy.special', 'npctrial.fonts', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
