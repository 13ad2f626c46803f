"""Boundary validation of the design modules: arms, ratios, factors (numbers, probabilities and
counts come from the shared :mod:`npctrial.validation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from npctrial.errors import ValidationError
from npctrial.validation import check_count, check_positive, check_probability

__all__ = ["check_arms", "check_count", "check_factors", "check_patient_levels", "check_positive",
           "check_probability", "check_ratio"]


def check_arms(arms: object, *, field: str = "arms") -> tuple[str, ...]:
    """At least two distinct, non-empty arm names."""
    if isinstance(arms, str) or not isinstance(arms, Sequence):
        raise ValidationError(f"{field} must be a sequence of arm names, got {arms!r}", field=field)
    names = tuple(str(a).strip() for a in arms)
    if len(names) < 2:
        raise ValidationError(f"{field} must name at least two arms, got {len(names)}", field=field)
    if any(not a for a in names):
        raise ValidationError(f"{field} contains an empty arm name", field=field)
    if len(set(names)) != len(names):
        raise ValidationError(f"{field} contains duplicate arm names: {names}", field=field)
    return names


def check_ratio(ratio: object, n_arms: int, *, field: str = "ratio") -> tuple[int, ...]:
    """One positive integer per arm."""
    if ratio is None:
        return (1,) * n_arms
    if isinstance(ratio, str) or not isinstance(ratio, Sequence):
        raise ValidationError(f"{field} must be a sequence of integers, got {ratio!r}", field=field)
    values = []
    for r in ratio:
        if isinstance(r, bool) or not isinstance(r, int | np.integer) or r < 1:
            raise ValidationError(f"{field} must contain positive integers, got {r!r}", field=field)
        values.append(int(r))
    if len(values) != n_arms:
        raise ValidationError(
            f"{field} must have one entry per arm ({n_arms}), got {len(values)}", field=field
        )
    return tuple(values)


def check_factors(factors: object, *, field: str = "factors") -> dict[str, tuple[str, ...]]:
    """A mapping factor -> at least one distinct level name (levels kept as strings)."""
    if not isinstance(factors, Mapping):
        raise ValidationError(
            f"{field} must map factor names to their levels, got {factors!r}", field=field
        )
    out: dict[str, tuple[str, ...]] = {}
    for name, levels in factors.items():
        key = str(name).strip()
        if not key:
            raise ValidationError(f"{field} contains an empty factor name", field=field)
        if isinstance(levels, str) or not isinstance(levels, Sequence) or len(levels) == 0:
            raise ValidationError(
                f"{field}[{key!r}] must be a non-empty sequence of levels, got {levels!r}",
                field=f"{field}.{key}",
            )
        lv = tuple(str(v) for v in levels)
        if len(set(lv)) != len(lv):
            raise ValidationError(
                f"{field}[{key!r}] contains duplicate levels: {lv}", field=f"{field}.{key}"
            )
        out[key] = lv
    return out


def check_patient_levels(patient: object, factors: Mapping[str, tuple[str, ...]], *,
                         field: str = "patient_factors", row: int | None = None) -> dict[str, str]:
    """The patient's level of every factor, each one of the declared levels."""
    where = "" if row is None else f" (row {row})"
    if not isinstance(patient, Mapping):
        raise ValidationError(
            f"{field} must map factor names to levels{where}, got {patient!r}", field=field, row=row
        )
    levels: dict[str, str] = {}
    for name, allowed in factors.items():
        if name not in patient:
            raise ValidationError(
                f"{field} is missing factor {name!r}{where}", field=f"{field}.{name}", row=row
            )
        value = str(patient[name])
        if value not in allowed:
            raise ValidationError(
                f"{field}[{name!r}] = {value!r} is not a level of {name!r}{where}; "
                f"expected one of {list(allowed)}",
                field=f"{field}.{name}",
                row=row,
            )
        levels[name] = value
    return levels
