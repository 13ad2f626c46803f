"""Permuted-block randomisation: reproducibility, balance within blocks, hashing, bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from npctrial.design import AllocationSchedule, PermutedBlockRandomiser
from npctrial.errors import ValidationError

STRATA = {"stage": ["III", "IVA"], "ebv": ["detectable", "undetectable"]}


def _randomiser(**kw) -> PermutedBlockRandomiser:
    args = dict(arms=("CCRT", "CCRT+nimotuzumab"), strata=STRATA, seed=20260101)
    args.update(kw)
    return PermutedBlockRandomiser(**args)


def test_strata_are_cross_classified_levels():
    r = _randomiser()
    assert r.stratum_labels == (
        "stage=III|ebv=detectable",
        "stage=III|ebv=undetectable",
        "stage=IVA|ebv=detectable",
        "stage=IVA|ebv=undetectable",
    )
    assert r.stratum_label({"ebv": "undetectable", "stage": "IVA"}) == "stage=IVA|ebv=undetectable"


def test_same_seed_same_schedule_and_other_seed_differs():
    a = _randomiser().schedule_all(60)
    b = _randomiser().schedule_all(60)
    c = _randomiser(seed=20260102).schedule_all(60)
    assert a == b and a.sha256() == b.sha256()
    assert [e.arm for e in a.entries] != [e.arm for e in c.entries]


def test_each_stratum_depends_only_on_seed_and_its_label():
    full = _randomiser().schedule_all(40)
    label = "stage=IVA|ebv=detectable"
    alone = _randomiser().schedule(label, 40)
    assert [e for e in full.entries if e.stratum == label] == list(alone.entries)
    # a randomiser with fewer strata gives the same sequence for a shared stratum
    fewer = PermutedBlockRandomiser(
        ("CCRT", "CCRT+nimotuzumab"), strata=[label, "other"], seed=20260101
    )
    assert list(fewer.schedule(label, 40).entries) == list(alone.entries)


def test_next_assignment_matches_pregenerated_schedule():
    r = _randomiser()
    sched = r.schedule({"stage": "III", "ebv": "detectable"}, 30)
    for i, entry in enumerate(sched.entries):
        assert r.next_assignment({"stage": "III", "ebv": "detectable"}, i) == entry


def _check_blocks(schedule: AllocationSchedule) -> None:
    arms, ratio = schedule.arms, np.array(schedule.ratio)
    total = ratio.sum()
    max_block = max(schedule.block_sizes)
    for stratum in schedule.strata:
        entries = [e for e in schedule.entries if e.stratum == stratum]
        counts = np.zeros(len(arms))
        for e in entries:
            counts[arms.index(e.arm)] += 1
            assert e.block_size in schedule.block_sizes
            # ratio-adjusted imbalance never exceeds half the largest block
            n = counts.sum()
            assert np.all(np.abs(counts - n * ratio / total) <= max_block / 2 + 1e-9)
            if e.position_in_block == e.block_size:  # a completed block restores the ratio
                assert np.allclose(counts, n * ratio / total)


def test_blocks_restore_balance_and_bound_imbalance():
    _check_blocks(_randomiser().schedule_all(203))
    _check_blocks(
        PermutedBlockRandomiser(("A", "B"), ratio=(2, 1), block_sizes=(3, 6, 9), seed=5).schedule(
            None, 500
        )
    )


def test_block_sizes_drawn_uniformly_and_arm_probability_half():
    sched = PermutedBlockRandomiser(("A", "B"), block_sizes=(2, 4, 6), seed=11).schedule(n=6000)
    frame = sched.to_frame()
    sizes = frame.drop_duplicates("block")["block_size"].value_counts().reindex([2, 4, 6])
    # chi-square goodness of fit to uniform block-size choice (fixed seed; fails if biased)
    assert stats.chisquare(sizes.to_numpy()).pvalue > 0.001
    # first position of a block is A with probability 1/2
    first = frame[frame["position_in_block"] == 1]["arm"]
    assert stats.binomtest(int((first == "A").sum()), len(first), 0.5).pvalue > 0.001


def test_two_to_one_ratio_gives_two_thirds():
    sched = PermutedBlockRandomiser(("E", "C"), ratio=(2, 1), block_sizes=(3, 6), seed=3).schedule(
        n=600
    )
    counts = sched.counts().loc["all"]
    # 600 slots end on a block boundary only by chance; the bound is half the largest block
    assert abs(counts["E"] - 400) <= 3


def test_hash_is_sha256_of_exported_csv(tmp_path):
    sched = _randomiser().schedule_all(12)
    path = tmp_path / "schedule.csv"
    text = sched.to_csv(path)
    assert path.read_bytes() == text.encode("utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sched.sha256() == digest
    assert sched.verify(digest.upper())
    assert not sched.verify("0" * 64)
    assert text.splitlines()[0] == "stratum,sequence,block,block_size,position_in_block,arm"
    concealed = sched.to_frame(conceal_blocks=True)
    assert list(concealed.columns) == ["stratum", "sequence", "arm"]
    assert "SHA-256" in sched.summary()


def test_bad_input_names_the_problem():
    with pytest.raises(ValidationError, match="block size 4 is not a multiple of the ratio total 3"):
        PermutedBlockRandomiser(("A", "B"), ratio=(2, 1), block_sizes=(3, 4))
    with pytest.raises(ValidationError, match="'IVB' is not a level of 'stage'") as exc:
        _randomiser().schedule({"stage": "IVB", "ebv": "detectable"}, 4)
    assert exc.value.field == "stratum.stage"
    with pytest.raises(ValidationError, match="missing factor 'ebv'"):
        _randomiser().next_assignment({"stage": "III"}, 0)
    with pytest.raises(ValidationError, match="unknown stratum 'stage=II'"):
        _randomiser().schedule("stage=II", 4)
    with pytest.raises(ValidationError, match="ratio must have one entry per arm"):
        PermutedBlockRandomiser(("A", "B", "C"), ratio=(1, 1))
    with pytest.raises(ValidationError, match="duplicate arm"):
        PermutedBlockRandomiser(("A", "A"))
    with pytest.raises(ValidationError, match="seed"):
        PermutedBlockRandomiser(("A", "B"), seed=-1)
    with pytest.raises(ValidationError, match="stratum is required"):
        _randomiser().schedule(None, 3)


@settings(max_examples=40, deadline=None)
@given(
    ratio=st.sampled_from([(1, 1), (2, 1), (1, 2), (1, 1, 1), (2, 1, 1)]),
    multiples=st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True),
    seed=st.integers(0, 2**32),
    n=st.integers(0, 80),
)
def test_property_blocks_balance(ratio, multiples, seed, n):
    total = sum(ratio)
    arms = tuple("ABC"[: len(ratio)])
    r = PermutedBlockRandomiser(arms, ratio=ratio, block_sizes=tuple(m * total for m in multiples),
                                seed=seed)
    sched = r.schedule(None, n)
    assert len(sched) == n
    _check_blocks(sched)
