"""npctrial.design: sample size, randomisation and simulation for trial design.

Public API is listed in ``__all__`` and locked by ``tests/design/test_public_api.py``.
"""

from npctrial.design.blocks import AllocationSchedule, PermutedBlockRandomiser, ScheduleEntry
from npctrial.design.minimisation import Allocation, Minimisation

__all__ = [
    "Allocation",
    "AllocationSchedule",
    "Minimisation",
    "PermutedBlockRandomiser",
    "ScheduleEntry",
]
