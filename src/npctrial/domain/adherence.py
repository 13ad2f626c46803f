"""Adherence to an oral drug from the patient's diary: doses taken against doses planned.

1. :func:`check_doses_taken`: a diary period records at most the doses planned for it
   (``0 <= doses_taken <= doses_planned``; a dose taken twice is an overdose, recorded as an
   adverse event or a deviation, not as adherence above 100 %).
2. :func:`compute_adherence_pct`: ``100 * doses_taken / doses_planned`` (the proportion of
   prescribed doses taken, Osterberg L, Blaschke T, N Engl J Med 2005;353:487-497); None when no
   dose was planned. A period with doses planned and none recorded as taken counts 0 taken.
"""

from __future__ import annotations

from typing import Any

from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["check_doses_taken", "compute_adherence_pct"]


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(message("field.below_min", "%(field)s must be >= %(limit)s%(unit)s, got %(value)s",
                                      field=field, limit="0", unit="", value=repr(value)), field=field)
    return value


def check_doses_taken(doses_taken: int | None, doses_planned: int | None) -> int:
    """The doses taken (None counts 0) if they do not exceed the doses planned (rule 1)."""
    taken = 0 if doses_taken is None else _count(doses_taken, "doses_taken")
    if doses_planned is None:
        return taken
    planned = _count(doses_planned, "doses_planned")
    if taken > planned:
        raise ValidationError(message("dosing.taken_above_planned",
                                      "doses_taken (%(taken)s) cannot exceed doses_planned (%(planned)s)",
                                      taken=taken, planned=planned), field="doses_taken")
    return taken


def compute_adherence_pct(doses_taken: int | None, doses_planned: int | None) -> float | None:
    """Percent of the planned doses taken (rule 2), after :func:`check_doses_taken`."""
    taken = check_doses_taken(doses_taken, doses_planned)
    if not doses_planned:
        return None
    return 100.0 * taken / doses_planned
