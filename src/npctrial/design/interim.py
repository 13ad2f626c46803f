"""Interim decisions of a running Simon two-stage trial (the monitoring side of :mod:`npctrial.design.simon`).

Rule (Simon R, Control Clin Trials 1989;10:1-10): stage 1 enrols ``n1`` patients; the trial stops
for futility if ``r1`` or fewer of them respond, else ``n - n1`` more are enrolled and the
treatment is declared promising if more than ``r`` of the ``n`` respond.

Algorithm (:func:`simon_interim_decision`):
1. Order the evaluable patients by entry (enrolment date); the first ``n1`` form stage 1.
2. Stage 1 responses > ``r1``: continue to stage 2 -- decided as soon as the ``r1 + 1``-th
   response is seen (later stage-1 patients cannot undo it).
3. ``n1`` stage-1 patients evaluated with responses <= ``r1``: stop for futility.
4. Otherwise stage 1 is ongoing (the number still needed is reported).
5. With stage 2 entered: ``n`` evaluated -> promising if responses > ``r``, else not promising;
   fewer -> stage 2 ongoing.
Patients still without a response assessment are not evaluable yet and are reported, never
counted as non-responders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from npctrial.errors import ValidationError

__all__ = ["SimonInterim", "simon_interim_decision"]

Decision = Literal["stage 1 ongoing", "stop for futility", "continue to stage 2", "stage 2 ongoing",
                   "promising", "not promising"]


@dataclass(frozen=True)
class SimonInterim:
    """Where a Simon two-stage trial stands, from its responses in order of entry."""

    n1: int
    r1: int
    n: int
    r: int
    evaluated_stage1: int
    responses_stage1: int
    evaluated: int
    responses: int
    status: Decision

    @property
    def needed_stage1(self) -> int:
        """Stage-1 patients still to evaluate before the futility decision."""
        return max(0, self.n1 - self.evaluated_stage1)

    def summary(self) -> str:
        return (f"Simon stage 1: {self.responses_stage1} responses in {self.evaluated_stage1}/{self.n1} "
                f"(stop if <= {self.r1}); overall {self.responses}/{self.evaluated} of {self.n} "
                f"(promising if > {self.r}): {self.status}")


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{name} must be an integer >= 0, got {value!r}", field=name)
    return value


def simon_interim_decision(design: Any, responses_in_entry_order: Iterable[bool]) -> SimonInterim:
    """Steps 1-5 of the module docstring; ``design`` has ``n1, r1, n, r`` (a protocol's or a SimonDesign)."""
    n1, r1 = _count(design.n1, "n1"), _count(design.r1, "r1")
    n, r = _count(design.n, "n"), _count(design.r, "r")
    if not (r1 < n1 < n and r1 <= r < n):
        raise ValidationError(f"not a Simon design: need r1 < n1 < n and r1 <= r < n, got {r1}/{n1}, {r}/{n}",
                              field="design")
    outcomes = [bool(x) for x in responses_in_entry_order]
    stage1 = outcomes[:n1]
    x1 = sum(stage1)
    total = outcomes[:n]
    x = sum(total)
    status: Decision
    if x1 > r1:
        if len(stage1) < n1 or len(total) < n:
            status = "continue to stage 2" if len(total) <= n1 else "stage 2 ongoing"
        else:
            status = "promising" if x > r else "not promising"
    elif len(stage1) >= n1:
        status = "stop for futility"
    else:
        status = "stage 1 ongoing"
    return SimonInterim(n1, r1, n, r, len(stage1), x1, len(total), x, status)
