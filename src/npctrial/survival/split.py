"""Split follow-up at fixed times, as R's ``survSplit``: (tstart, tstop] rows per period.

``split_at(data, cuts, duration=, event=)`` equals R's
``survSplit(Surv(duration, event) ~ ., data, cut = cuts, episode = "episode")`` and, with
``entry=``, ``survSplit(Surv(entry, duration, event) ~ ., ...)`` (behaviour as documented in
R's ``?survSplit``; checked against R in ``tests/data/refs/timedep_build.json``):

1. Cut points are sorted and made unique; each row's interval (start, stop] (start 0, or the
   ``entry`` column) is cut at every cut point strictly inside it. A cut equal to the start or
   the stop does not split.
2. The pieces keep every other column of the row; the event value stays on the last piece, the
   earlier ones get ``censored`` (0).
3. ``episode`` numbers the period of each piece: 1 + the number of cut points at or before its
   start (period 1 is (-inf, cut_1], period 2 is (cut_1, cut_2], ...).
4. Without ``entry`` a start column (``start_name``, default ``"tstart"``) is added before the
   duration; ``id`` names a subject column, added as 1..n (R) when the data have none.
   Rows come out in input order, pieces in time order.

The result feeds ``cox_ph(data, duration, event, ..., entry=start_name, strata="episode")`` for
period-specific baselines, or models with covariate x period interactions. Divergences from
R: missing times or events are an error naming the row (R passes such rows through), and times
are not merged by R's ``timefix`` (exactly equal values are equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.survival.columns import frame_numbers
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.validation import check_number

__all__ = ["split_at"]


def _cut_points(cuts: Any) -> np.ndarray:
    if isinstance(cuts, str) or not isinstance(cuts, Sequence | np.ndarray | pd.Series):
        raise ValidationError(f"cuts must be a sequence of numbers, got {cuts!r}", field="cuts")
    values = [check_number(c, "cuts") for c in cuts]
    if not values:
        raise ValidationError("cuts must hold at least one time", field="cuts")
    return np.unique(np.asarray(values, dtype=float))


@without_huge_page_hint
def split_at(
    data: pd.DataFrame,
    cuts: Sequence[float],
    *,
    duration: str,
    event: str,
    entry: str | None = None,
    episode: str = "episode",
    id: str | None = None,
    start_name: str = "tstart",
    censored: Any = 0,
) -> pd.DataFrame:
    """Split each row's follow-up at ``cuts`` (module docstring); returns the (start, stop] rows."""
    if not isinstance(data, pd.DataFrame):
        raise ValidationError(f"data must be a pandas DataFrame, got {type(data).__name__}", field="data")
    cut = _cut_points(cuts)
    stop = frame_numbers(data, duration)
    if event not in data.columns:
        raise ValidationError(f"column {event!r} not found in data", field=event)
    if data[event].isna().any():
        i = int(np.flatnonzero(data[event].isna().to_numpy())[0])
        raise ValidationError(f"{event} is missing at row {data.index[i]!r}", field=event, row=i)
    start = np.zeros(len(data)) if entry is None else frame_numbers(data, entry)
    bad = ~(start < stop)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"follow-up must end after it starts (R: 'zero' must be less than any time); row "
                              f"{data.index[i]!r} has ({start[i]:g}, {stop[i]:g}]", field=duration, row=i)
    for name in (episode,) + (() if entry else (start_name,)):
        if name in data.columns:
            raise ValidationError(f"column {name!r} already exists in data: choose another name", field=name)
    inside = (cut[None, :] > start[:, None]) & (cut[None, :] < stop[:, None])
    pieces = 1 + inside.sum(axis=1)
    row = np.repeat(np.arange(len(data)), pieces)
    first = np.concatenate([[0], np.cumsum(pieces)[:-1]])
    k = np.arange(len(row)) - np.repeat(first, pieces)  # piece number within the row
    last = k == pieces[row] - 1
    piece_stop = np.empty(len(row))
    piece_stop[last] = stop
    piece_stop[~last] = cut[np.nonzero(inside)[1]]  # row-major: each row's cuts in time order
    piece_start = np.where(k == 0, start[row], np.roll(piece_stop, 1))
    out = data.iloc[row].reset_index(drop=True)
    if id is not None and id not in out.columns:
        out.insert(0, id, row + 1)
    if entry is None:
        out.insert(out.columns.get_loc(duration), start_name, piece_start)
    else:
        out[entry] = piece_start
    out[duration] = piece_stop
    out[event] = np.where(last, data[event].to_numpy()[row], censored)
    out[episode] = 1 + np.searchsorted(cut, piece_start, side="right")
    return out
