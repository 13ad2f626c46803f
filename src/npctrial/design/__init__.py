"""npctrial.design: sample size, randomisation and simulation for trial design.

Public API is listed in ``__all__`` and locked by ``tests/design/test_public_api.py``.
"""

from npctrial.design.blocks import AllocationSchedule, PermutedBlockRandomiser, ScheduleEntry
from npctrial.design.interim import SimonInterim, simon_interim_decision
from npctrial.design.minimisation import Allocation, Minimisation
from npctrial.design.simon import SimonDesign, admissible_designs, simon_two_stage
from npctrial.design.simulation import (
    BalanceResult,
    OperatingCharacteristics,
    OperatingRow,
    simulate_balance,
    simulate_operating_characteristics,
)
from npctrial.design.single_stage import (
    SingleStageDesign,
    ahern_single_stage,
    fleming_single_stage,
)
from npctrial.design.survival_size import (
    SurvivalDesign,
    compute_event_probability,
    freedman_events,
    lachin_foulkes,
    one_arm_survival,
    schoenfeld_events,
)

__all__ = [
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
