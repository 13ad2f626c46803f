"""Simon two-stage designs against Simon (1989) Table 1 and independent exact enumeration."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import pytest

from npctrial.design import admissible_designs, simon_two_stage
from npctrial.errors import ValidationError

# Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials
# 1989;10:1-10, Table 1: (p0, p1, alpha, beta, design, r1, n1, r, n, EN(p0), PET(p0)).
SIMON_1989 = [
    (0.05, 0.25, 0.10, 0.10, "optimal", 0, 9, 2, 24, 14.5, 0.63),
    (0.05, 0.25, 0.10, 0.10, "minimax", 0, 13, 2, 20, 16.4, 0.51),
    (0.05, 0.25, 0.05, 0.20, "optimal", 0, 9, 2, 17, 12.0, 0.63),
    (0.05, 0.25, 0.05, 0.20, "minimax", 0, 12, 2, 16, 13.8, 0.54),
    (0.05, 0.25, 0.05, 0.10, "optimal", 0, 9, 3, 30, 16.8, 0.63),
    (0.05, 0.25, 0.05, 0.10, "minimax", 0, 15, 3, 25, 20.4, 0.46),
    (0.10, 0.30, 0.10, 0.10, "optimal", 1, 12, 5, 35, 19.8, 0.66),
    (0.10, 0.30, 0.10, 0.10, "minimax", 1, 16, 4, 25, 20.4, 0.51),
    (0.10, 0.30, 0.05, 0.20, "optimal", 1, 10, 5, 29, 15.0, 0.74),
    (0.10, 0.30, 0.05, 0.20, "minimax", 1, 15, 5, 25, 19.5, 0.55),
    (0.10, 0.30, 0.05, 0.10, "optimal", 2, 18, 6, 35, 22.5, 0.73),
    (0.10, 0.30, 0.05, 0.10, "minimax", 2, 22, 6, 33, 26.2, 0.62),
    (0.20, 0.40, 0.10, 0.10, "optimal", 3, 17, 10, 37, 26.0, 0.55),
    (0.20, 0.40, 0.10, 0.10, "minimax", 3, 19, 10, 36, 28.3, 0.46),
    (0.20, 0.40, 0.05, 0.20, "optimal", 3, 13, 12, 43, 20.6, 0.75),
    (0.20, 0.40, 0.05, 0.20, "minimax", 4, 18, 10, 33, 22.3, 0.72),
    (0.20, 0.40, 0.05, 0.10, "optimal", 4, 19, 15, 54, 30.4, 0.67),
    (0.20, 0.40, 0.05, 0.10, "minimax", 5, 24, 13, 45, 31.2, 0.66),
    (0.30, 0.50, 0.10, 0.10, "optimal", 7, 22, 17, 46, 29.9, 0.67),
    (0.30, 0.50, 0.10, 0.10, "minimax", 7, 28, 15, 39, 35.0, 0.36),
    (0.30, 0.50, 0.05, 0.20, "optimal", 5, 15, 18, 46, 23.6, 0.72),
    (0.30, 0.50, 0.05, 0.20, "minimax", 6, 19, 16, 39, 25.7, 0.67),
    (0.30, 0.50, 0.05, 0.10, "optimal", 8, 24, 24, 63, 34.7, 0.73),
    (0.30, 0.50, 0.05, 0.10, "minimax", 7, 24, 21, 53, 36.6, 0.56),
    (0.40, 0.60, 0.10, 0.10, "optimal", 7, 18, 22, 46, 30.2, 0.56),
    (0.40, 0.60, 0.10, 0.10, "minimax", 11, 28, 20, 41, 33.8, 0.55),
    (0.40, 0.60, 0.05, 0.20, "optimal", 7, 16, 23, 46, 24.5, 0.72),
    (0.40, 0.60, 0.05, 0.20, "minimax", 17, 34, 20, 39, 34.4, 0.91),
    (0.40, 0.60, 0.05, 0.10, "optimal", 11, 25, 32, 66, 36.0, 0.73),
    (0.40, 0.60, 0.05, 0.10, "minimax", 12, 29, 27, 54, 38.1, 0.64),
]


def _brute(r1: int, n1: int, r: int, n: int, p: float) -> tuple[float, float]:
    """P(reject H0) and PET by enumerating every (stage-1, stage-2) outcome in exact rationals."""
    pf = Fraction(p)
    pmf = [comb(n1, x) * pf**x * (1 - pf) ** (n1 - x) for x in range(n1 + 1)]
    n2 = n - n1
    pmf2 = [comb(n2, y) * pf**y * (1 - pf) ** (n2 - y) for y in range(n2 + 1)]
    reject = sum(pmf[x] * pmf2[y] for x in range(r1 + 1, n1 + 1) for y in range(n2 + 1)
                 if x + y > r)
    pet = sum(pmf[: r1 + 1])
    return float(reject), float(pet)


@pytest.mark.parametrize("row", SIMON_1989, ids=lambda r: f"{r[0]}-{r[1]}-{r[2]}-{r[3]}-{r[4]}")
def test_reproduces_simon_1989_table(row):
    p0, p1, alpha, beta, kind, r1, n1, r, n, en, pet = row
    d = simon_two_stage(p0, p1, alpha, 1 - beta, design=kind)
    assert (d.r1, d.n1, d.r, d.n) == (r1, n1, r, n)
    assert d.expected_n_null == pytest.approx(en, abs=0.05 + 1e-9)
    assert d.pet_null == pytest.approx(pet, abs=0.005 + 1e-9)
    # exact alpha, power, PET and EN recomputed by independent enumeration
    a_exact, pet0 = _brute(r1, n1, r, n, p0)
    pw_exact, pet1 = _brute(r1, n1, r, n, p1)
    assert d.alpha_actual == pytest.approx(a_exact, rel=1e-9)
    assert d.power_actual == pytest.approx(pw_exact, rel=1e-9)
    assert d.pet_null == pytest.approx(pet0, rel=1e-9)
    assert d.pet_alt == pytest.approx(pet1, rel=1e-9)
    assert d.expected_n_null == pytest.approx(n1 + (1 - pet0) * (n - n1), rel=1e-9)
    assert a_exact <= alpha and pw_exact >= 1 - beta
    assert d.rejection_probability(p1) == pytest.approx(pw_exact, rel=1e-9)


def _all_feasible(p0: float, p1: float, alpha: float, power: float, n_max: int):
    """Every feasible design by plain loops (independent of the vectorised search)."""
    out = []
    for n in range(2, n_max + 1):
        for n1 in range(1, n):
            for r1 in range(n1):
                for r in range(r1, n):
                    a, pet0 = _brute(r1, n1, r, n, p0)
                    if a > alpha:
                        continue
                    pw, _ = _brute(r1, n1, r, n, p1)
                    if pw >= power:
                        out.append((n, n1, r1, r, n1 + (1 - pet0) * (n - n1)))
                    break  # larger r only lowers power; the smallest alpha-feasible r is enough
    return out


def test_search_matches_brute_force_including_admissible_set():
    p0, p1, alpha, power, n_max = 0.05, 0.25, 0.05, 0.8, 19
    feasible = _all_feasible(p0, p1, alpha, power, n_max)
    best = min(feasible, key=lambda d: (round(d[4], 10), d[0]))
    mm = min(feasible, key=lambda d: (d[0], round(d[4], 10)))
    opt = simon_two_stage(p0, p1, alpha, power, design="optimal", n_max=n_max)
    mini = simon_two_stage(p0, p1, alpha, power, design="minimax", n_max=n_max)
    assert (opt.n, opt.n1, opt.r1, opt.r) == best[:4]
    assert opt.expected_n_null == pytest.approx(best[4], rel=1e-9)
    assert (mini.n, mini.n1, mini.r1, mini.r) == mm[:4]
    # admissible: for q on a grid, the best weighted criterion over ALL feasible designs is
    # attained by the design reported for that q
    adm = admissible_designs(p0, p1, alpha, power, n_max=n_max)
    assert adm[0].design == "minimax" and adm[-1].design == "optimal"
    assert adm[0].q_range[1] == 1.0 and adm[-1].q_range[0] == 0.0
    for a, b in itertools.pairwise(adm):
        assert a.q_range[0] == pytest.approx(b.q_range[1])
    for q in [i / 50 for i in range(51)]:
        target = min(q * d[0] + (1 - q) * d[4] for d in feasible)
        chosen = simon_two_stage(p0, p1, alpha, power, design="admissible", q=q, n_max=n_max)
        assert q * chosen.n + (1 - q) * chosen.expected_n_null == pytest.approx(target, rel=1e-9)


def test_admissible_designs_lie_between_minimax_and_optimal():
    adm = admissible_designs(0.2, 0.4, 0.05, 0.8)
    ns = [d.n for d in adm]
    ens = [d.expected_n_null for d in adm]
    assert ns == sorted(ns) and ens == sorted(ens, reverse=True)
    assert (adm[0].r1, adm[0].n1, adm[0].r, adm[0].n) == (4, 18, 10, 33)
    assert (adm[-1].r1, adm[-1].n1, adm[-1].r, adm[-1].n) == (3, 13, 12, 43)


def test_summary_and_frame_state_the_design():
    d = simon_two_stage(0.2, 0.4, 0.05, 0.8)
    text = d.summary()
    for piece in ("optimal", "enrol 13", "3 or fewer", "more than 12 of 43", "0.2", "0.4"):
        assert piece in text
    frame = d.to_frame()
    assert frame.loc[0, "n"] == 43 and frame.loc[0, "r1"] == 3
    assert d.expected_n(0.2) == pytest.approx(d.expected_n_null)


def test_bad_input():
    with pytest.raises(ValidationError, match="p1 must be greater than p0"):
        simon_two_stage(0.4, 0.2)
    with pytest.raises(ValidationError, match="n_max") as exc:
        simon_two_stage(0.2, 0.4, n_max=20)
    assert exc.value.field == "n_max"
    with pytest.raises(ValidationError, match="design must be"):
        simon_two_stage(0.2, 0.4, design="best")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="alpha must be in"):
        simon_two_stage(0.2, 0.4, alpha=1.5)
