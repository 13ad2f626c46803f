"""Curve/group codes from a :class:`SurvivalData` and the shared input boundary of the estimators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from npctrial.errors import ValidationError
from npctrial.survival.data import SurvivalData, group_name_of

__all__ = ["CurveSet", "as_survival_data", "build_curve_codes", "select_curve"]


class _Labelled(Protocol):
    @property
    def label(self) -> str: ...


_C = TypeVar("_C", bound=_Labelled)


def build_curve_codes(data: SurvivalData) -> tuple[np.ndarray, list[str]]:
    """One integer code per row for each group x strata combination, with R-style labels.

    Order: group levels first (slowest), then strata levels; combinations absent from the data
    are dropped. Labels: ``"all"`` without grouping, ``"sex=1"`` for one factor and
    ``"sex=1, ph.ecog=0"`` for two.
    """
    g, s = data.group, data.strata
    if g is None and s is None:
        return np.zeros(data.n, dtype=np.int64), ["all"]
    if g is None or s is None:
        f = g if g is not None else s
        assert f is not None
        return np.asarray(f.codes, dtype=np.int64), list(f.strata_labels)
    combo = g.codes * s.n_levels + s.codes
    used, codes = np.unique(combo, return_inverse=True)
    labels = [
        f"{g.strata_labels[int(u) // s.n_levels]}, {s.strata_labels[int(u) % s.n_levels]}"
        for u in used
    ]
    return codes.astype(np.int64).reshape(-1), labels


def select_curve(curves: Sequence[_C], label: str | int) -> _C:
    """The curve with this label (as made by :func:`build_curve_codes`) or at this position."""
    if isinstance(label, int):
        return curves[label]
    for c in curves:
        if c.label == label:
            return c
    labels = [c.label for c in curves]
    raise ValidationError(f"no curve labelled {label!r}; curves are {labels}", field="label")


class CurveSet(Generic[_C]):
    """Mixin for results holding ``curves`` (one per group x stratum, R's order): the labels and
    the lookup of a curve by label (e.g. ``"sex=1"``) or position."""

    curves: tuple[_C, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.curves)

    def curve(self, label: str | int) -> _C:
        """The curve with this label or at this position."""
        return select_curve(self.curves, label)

    def __getitem__(self, label: str | int) -> _C:
        return self.curve(label)

    def __len__(self) -> int:
        return len(self.curves)


def as_survival_data(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    strata: Any = None,
    weights: Any = None,
    entry: Any = None,
    event_codes: tuple[int, ...] = (0, 1),
    status_coding: str = "standard",
    na_action: str = "raise",
) -> SurvivalData:
    """Validate the raw arguments of an estimator (or pass through a ready SurvivalData).

    A pandas Series name becomes the group/strata label prefix (R: ``sex=1``).
    """
    if isinstance(time, SurvivalData):
        extra = {"event": event, "group": group, "strata": strata, "weights": weights, "entry": entry}
        given = [k for k, v in extra.items() if v is not None]
        if given:
            raise ValidationError(
                f"{given[0]} cannot be given with a SurvivalData (it already holds its columns)",
                field=given[0],
            )
        return time
    if event is None:
        raise ValidationError("event is required", field="event")
    gname = group_name_of(group, "group")
    sname = group_name_of(strata, "strata")
    if strata is not None and sname == gname:
        sname = sname + ".strata"
    return SurvivalData.from_arrays(
        time,
        event,
        entry=entry,
        weights=weights,
        group=group,
        strata=strata,
        event_codes=event_codes,
        status_coding=status_coding,  # type: ignore[arg-type]
        na_action=na_action,  # type: ignore[arg-type]
        group_name=gname,
        strata_name=sname,
    )
