"""Monte Carlo operating characteristics and randomisation balance, with fixed seeds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from npctrial.design import (
    Minimisation,
    PermutedBlockRandomiser,
    ahern_single_stage,
    compute_event_probability,
    lachin_foulkes,
    one_arm_survival,
    schoenfeld_events,
    simon_two_stage,
    simulate_balance,
    simulate_operating_characteristics,
)
from npctrial.design.simulation import _allocate
from npctrial.errors import ValidationError


def _within(sim: float, exact: float, se: float, k: float = 4.0) -> bool:
    return abs(sim - exact) <= k * se


def test_simon_simulation_agrees_with_exact_values():
    d = simon_two_stage(0.2, 0.4, 0.05, 0.8)
    oc = simulate_operating_characteristics(d, (0.1, 0.2, 0.3, 0.4, 0.5), n_sims=10_000, seed=5)
    for row in oc.rows:
        assert _within(row.rejection_rate, d.rejection_probability(row.true_value),
                       max(row.rejection_se, 1e-3))
        assert _within(row.pet, d.early_termination_probability(row.true_value), row.pet_se)
        assert _within(row.expected_n, d.expected_n(row.true_value), row.expected_n_se)
    assert oc.type_i_error == oc.rows[1].rejection_rate and oc.power == oc.rows[3].rejection_rate
    assert "type I error" in oc.summary() and "power" in oc.summary()
    assert list(oc.to_frame()["response_rate"]) == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_simulation_is_reproducible_from_the_seed():
    d = simon_two_stage(0.1, 0.3)
    a = simulate_operating_characteristics(d, n_sims=2000, seed=1)
    b = simulate_operating_characteristics(d, n_sims=2000, seed=1)
    c = simulate_operating_characteristics(d, n_sims=2000, seed=2)
    assert a == b and a != c


def test_single_stage_simulation():
    d = ahern_single_stage(0.1, 0.3)
    oc = simulate_operating_characteristics(d, n_sims=10_000, seed=3)
    for row in oc.rows:
        assert _within(row.rejection_rate, d.rejection_probability(row.true_value),
                       row.rejection_se)


def test_log_rank_power_and_events_under_accrual_and_dropout():
    d = lachin_foulkes(hazard_control=0.2, hazard_ratio=0.5, dropout=0.1, accrual_time=0.5,
                       follow_up=1.5, alpha=0.025, power=0.9, sided=1)
    progress = []
    oc = simulate_operating_characteristics(d, n_sims=1000, seed=11,
                                            progress=lambda done, total: progress.append(done))
    null, alt = oc.rows
    assert _within(null.rejection_rate, 0.025, (0.025 * 0.975 / 1000) ** 0.5)
    assert _within(alt.rejection_rate, 0.9, (0.9 * 0.1 / 1000) ** 0.5)
    # expected events from the closed-form event probability (uniform accrual, dropout)
    for row, hr in ((null, 1.0), (alt, 0.5)):
        p = compute_event_probability(0.2 * hr, 0.5, 1.5, 0.1) / 2 + \
            compute_event_probability(0.2, 0.5, 1.5, 0.1) / 2
        assert _within(row.mean_events, 430 * p, row.mean_events_se)
    assert progress[-1] == 2000


def test_two_sided_schoenfeld_design_and_one_arm_design():
    s = schoenfeld_events(0.6, median_control=3.0, accrual_time=3, follow_up=2)
    oc = simulate_operating_characteristics(s, n_sims=1000, seed=4)
    assert _within(oc.type_i_error, 0.05, (0.05 * 0.95 / 1000) ** 0.5)
    assert _within(oc.power, 0.8, (0.8 * 0.2 / 1000) ** 0.5)
    o = one_arm_survival(landmark=1, rate_null=0.7, rate_alt=0.8, accrual_time=2, follow_up=3)
    oc1 = simulate_operating_characteristics(o, n_sims=2000, seed=4)
    assert _within(oc1.type_i_error, 0.05, (0.05 * 0.95 / 2000) ** 0.5)
    assert _within(oc1.power, 0.8, (0.8 * 0.2 / 2000) ** 0.5)


def test_survival_design_without_accrual_cannot_be_simulated():
    with pytest.raises(ValidationError, match="needs patients"):
        simulate_operating_characteristics(schoenfeld_events(0.7), n_sims=10)


FACTORS = {"stage": ["III", "IVA"], "ebv": ["detectable", "undetectable"]}
DISTRIBUTIONS = {"stage": {"III": 0.3, "IVA": 0.7}, "ebv": ["detectable", "undetectable"]}


def test_balance_blocks_versus_minimisation():
    blocks = PermutedBlockRandomiser(("A", "B"), block_sizes=(4, 6), strata=FACTORS, seed=1)
    plain = PermutedBlockRandomiser(("A", "B"), block_sizes=(4, 6), seed=1)
    mini = Minimisation(("A", "B"), FACTORS, p_best=0.8, seed=1)
    fair = Minimisation(("A", "B"), FACTORS, p_best=0.5, seed=1)
    res = simulate_balance([blocks, plain, mini, fair], 80, DISTRIBUTIONS, n_sims=60, seed=2)
    f = res.to_frame()
    b, p, m, c = (f.iloc[i] for i in range(4))
    # stratified blocks: never more than half the largest block out of balance in a stratum
    assert b["max_stratum_imbalance_max"] <= 3
    assert p["overall_imbalance_max"] <= 3
    # minimisation balances factor levels far better than unstratified blocks
    assert m["max_level_imbalance_mean"] < p["max_level_imbalance_mean"] / 2
    # predictability: blocks and minimisation are guessable; p_best = 0.5 is a coin toss
    assert b["correct_guess_rate"] > 0.6 and m["correct_guess_rate"] > 0.6
    assert _within(c["correct_guess_rate"], 0.5, c["correct_guess_se"])
    assert "correct guesses" in res.summary()


def test_balance_simulation_reproduces_minimisation_assign():
    mini = Minimisation(("A", "B", "C"), FACTORS, p_best=0.7, seed=9)
    patients = [{"stage": s, "ebv": e} for s, e in
                [("III", "detectable"), ("IVA", "detectable"), ("IVA", "undetectable")] * 7]
    arms, _ = _allocate(mini, patients, sim_seed=123)
    m2 = replace(mini, seed=123)
    history = []
    for p in patients:
        history.append(m2.assign(p, history))
    assert [mini.arms[a] for a in arms] == [h.arm for h in history]
    blocks = PermutedBlockRandomiser(("A", "B"), strata=FACTORS, seed=1)
    arms_b, _ = _allocate(blocks, patients, sim_seed=77)
    b2 = replace(blocks, seed=77)
    seen: dict[str, int] = {}
    for p, a in zip(patients, arms_b, strict=True):
        label = b2.stratum_label(p)
        assert b2.next_assignment(label, seen.get(label, 0)).arm == blocks.arms[a]
        seen[label] = seen.get(label, 0) + 1


def test_balance_bad_input():
    mini = Minimisation(("A", "B"), FACTORS)
    with pytest.raises(ValidationError, match="missing factor 'ebv'"):
        simulate_balance(mini, 10, {"stage": ["III", "IVA"]}, n_sims=2)
    with pytest.raises(ValidationError, match="unknown to the randomiser"):
        simulate_balance(mini, 10, {"stage": ["III", "IVB"], "ebv": ["detectable"]}, n_sims=2)
