"""The curated public API of npctrial.design."""

import importlib

import npctrial.design as design

EXPECTED = [
    "Allocation",
    "AllocationSchedule",
    "BalanceResult",
    "Minimisation",
    "OperatingCharacteristics",
    "OperatingRow",
    "PermutedBlockRandomiser",
    "ScheduleEntry",
    "SimonDesign",
    "SimonInterim",
    "SingleStageDesign",
    "SurvivalDesign",
    "admissible_designs",
    "ahern_single_stage",
    "compute_event_probability",
    "fleming_single_stage",
    "freedman_events",
    "lachin_foulkes",
    "one_arm_survival",
    "schoenfeld_events",
    "simon_interim_decision",
    "simon_two_stage",
    "simulate_balance",
    "simulate_operating_characteristics",
]


def test_all_is_locked():
    assert sorted(design.__all__) == EXPECTED


def test_every_name_importable():
    module = importlib.import_module("npctrial.design")
    for name in EXPECTED:
        assert getattr(module, name) is not None
