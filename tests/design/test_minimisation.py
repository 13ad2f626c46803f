"""Pocock-Simon minimisation: scores by hand, probabilities, reproducibility, balance, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from npctrial.design import Allocation, Minimisation
from npctrial.errors import ValidationError

FACTORS = {"stage": ["III", "IVA"], "centre": ["X", "Y"]}
HISTORY = [
    ({"stage": "III", "centre": "X"}, "A"),
    ({"stage": "III", "centre": "Y"}, "A"),
    ({"stage": "IVA", "centre": "X"}, "B"),
]


def test_range_scores_by_hand():
    # new patient stage III, centre X.  stage III: A 2, B 0; centre X: A 1, B 1.
    # to A: |3-0| + |2-1| = 4; to B: |2-1| + |1-2| = 2  -> B is the unique minimiser.
    m = Minimisation(("A", "B"), FACTORS, p_best=0.8, seed=1)
    alloc = m.assign({"stage": "III", "centre": "X"}, HISTORY)
    assert alloc.scores == {"A": 4.0, "B": 2.0}
    assert alloc.probabilities == pytest.approx({"A": 0.2, "B": 0.8})
    assert alloc.minimisers == ("B",)
    assert alloc.arm == ("A" if alloc.random_draw < 0.2 else "B")
    assert alloc.sequence_number == 3
    assert "G(A)=4" in alloc.summary() and "random draw" in alloc.summary()
    assert list(alloc.to_frame()["score"]) == [4.0, 2.0]


def test_variance_and_weights_by_hand():
    # weights stage 2, centre 1; population variance of two values = (diff/2)^2
    m = Minimisation(("A", "B"), FACTORS, weights={"stage": 2}, imbalance="variance", seed=1)
    alloc = m.assign({"stage": "III", "centre": "X"}, HISTORY)
    assert alloc.scores["A"] == pytest.approx(2 * 2.25 + 0.25)
    assert alloc.scores["B"] == pytest.approx(2 * 0.25 + 0.25)
    sd = Minimisation(("A", "B"), FACTORS, imbalance="sd", seed=1).assign(
        {"stage": "III", "centre": "X"}, HISTORY
    )
    assert sd.scores["A"] == pytest.approx(1.5 + 0.5)


def test_three_arms_and_unequal_ratio_by_hand():
    m = Minimisation(("A", "B", "C"), {"stage": ["III", "IVA"]}, ratio=(2, 1, 1), p_best=0.7)
    hist = [({"stage": "III"}, "A"), ({"stage": "III"}, "B")]
    alloc = m.assign({"stage": "III"}, hist)
    # counts / ratio: to A (2/2,1,0) range 1; to B (1/2,2,0) range 2; to C (1/2,1,1) range 0.5
    assert alloc.scores == pytest.approx({"A": 1.0, "B": 2.0, "C": 0.5})
    assert alloc.probabilities == pytest.approx({"A": 0.15, "B": 0.15, "C": 0.7})


def test_ties_give_equal_probability_among_minimisers():
    m = Minimisation(("A", "B", "C"), {"stage": ["III", "IVA"]}, p_best=0.9, seed=4)
    first = m.assign({"stage": "IVA"}, [])
    assert first.probabilities == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    second = m.assign({"stage": "IVA"}, [first])
    tied = set(second.minimisers)
    assert len(tied) == 2 and first.arm not in tied
    assert all(second.probabilities[a] == pytest.approx(0.5) for a in tied)


def test_reproducible_from_seed_and_history():
    m = Minimisation(("A", "B"), FACTORS, seed=99)
    a1 = m.assign({"stage": "IVA", "centre": "Y"}, HISTORY)
    a2 = Minimisation(("A", "B"), FACTORS, seed=99).assign(
        {"stage": "IVA", "centre": "Y"}, [dict(f, arm=arm) for f, arm in HISTORY]
    )
    assert a1 == a2
    draws = {m.assign({"stage": "IVA", "centre": "Y"}, HISTORY, sequence_number=s).random_draw
             for s in range(20)}
    assert len(draws) == 20


def _run(m: Minimisation, n: int, seed: int) -> list[Allocation]:
    rng = np.random.default_rng(seed)
    history: list[Allocation] = []
    for _ in range(n):
        patient = {"stage": str(rng.choice(["III", "IVA"], p=[0.3, 0.7])),
                   "centre": str(rng.choice(["X", "Y"]))}
        history.append(m.assign(patient, history))
    return history


def test_minimiser_chosen_with_probability_p_best():
    history = _run(Minimisation(("A", "B"), FACTORS, p_best=0.8, seed=7), 300, seed=1)
    unique = [a for a in history if len(a.minimisers) == 1]
    hits = sum(a.arm == a.minimisers[0] for a in unique)
    assert stats.binomtest(hits, len(unique), 0.8).pvalue > 0.001
    tied = [a for a in history if len(a.minimisers) == 2]
    assert stats.binomtest(sum(a.arm == "A" for a in tied), len(tied), 0.5).pvalue > 0.001


def test_deterministic_minimisation_balances_every_level():
    history = _run(Minimisation(("A", "B"), FACTORS, p_best=1.0, seed=7), 200, seed=2)
    for factor, levels in FACTORS.items():
        for level in levels:
            arms = [a.arm for a in history if a.patient_factors[factor] == level]
            # with p_best = 1 each level's imbalance stays small (here at most 2)
            assert abs(arms.count("A") - arms.count("B")) <= 2


def test_bad_input_names_the_factor():
    m = Minimisation(("A", "B"), FACTORS)
    with pytest.raises(ValidationError, match="missing factor 'centre'") as exc:
        m.assign({"stage": "III"}, [])
    assert exc.value.field == "patient_factors.centre"
    with pytest.raises(ValidationError, match="'Z' is not a level of 'centre'"):
        m.assign({"stage": "III", "centre": "Z"}, [])
    with pytest.raises(ValidationError, match="unknown arm 'C'") as exc:
        m.assign({"stage": "III", "centre": "X"}, [({"stage": "III", "centre": "X"}, "C")])
    assert exc.value.row == 0
    with pytest.raises(ValidationError, match="history is missing factor 'stage'"):
        m.assign({"stage": "III", "centre": "X"}, [({"centre": "X"}, "A")])
    with pytest.raises(ValidationError, match="weights names unknown factor 'age'"):
        Minimisation(("A", "B"), FACTORS, weights={"age": 1})
    with pytest.raises(ValidationError, match="p_best must be >= 1/2"):
        Minimisation(("A", "B"), FACTORS, p_best=0.3)
    with pytest.raises(ValidationError, match="imbalance must be one of"):
        Minimisation(("A", "B"), FACTORS, imbalance="max")  # type: ignore[arg-type]


def test_allocation_record_is_json_serialisable():
    import json

    alloc = Minimisation(("A", "B"), FACTORS, seed=1).assign({"stage": "III", "centre": "X"},
                                                             HISTORY)
    record = json.loads(json.dumps(alloc.to_dict()))
    assert record["scores"] == {"A": 4.0, "B": 2.0} and record["arm"] == alloc.arm


_levels = st.fixed_dictionaries({"stage": st.sampled_from(["III", "IVA"]),
                                 "centre": st.sampled_from(["X", "Y"])})


@settings(max_examples=60, deadline=None)
@given(
    history=st.lists(st.tuples(_levels, st.sampled_from(["A", "B", "C"])), max_size=25),
    patient=_levels,
    p_best=st.floats(1 / 3, 1.0),
    measure=st.sampled_from(["range", "variance", "sd"]),
    seed=st.integers(0, 2**40),
)
def test_property_allocation_is_consistent(history, patient, p_best, measure, seed):
    m = Minimisation(("A", "B", "C"), FACTORS, imbalance=measure, p_best=p_best, seed=seed)
    alloc = m.assign(patient, history)
    probs = np.array(list(alloc.probabilities.values()))
    assert probs.sum() == pytest.approx(1.0) and np.all(probs >= 0)
    assert alloc.probabilities[alloc.arm] > 0
    # the arm is the first whose cumulative probability exceeds the logged draw
    cum = np.cumsum(probs)
    cum[-1] = 1.0
    assert alloc.arm == m.arms[int(np.searchsorted(cum, alloc.random_draw, side="right"))]
    assert 0.0 <= alloc.random_draw < 1.0
    g = alloc.scores
    assert set(alloc.minimisers) == {a for a in g if g[a] == pytest.approx(min(g.values()))}
    if len(alloc.minimisers) > 1:
        assert alloc.arm in alloc.minimisers
    assert m.assign(patient, history) == alloc  # pure: same inputs, same allocation
