"""Competing-risks input: event codes or labels and the validated data (internal).

Shared by :mod:`npctrial.survival.competing_risks`, :mod:`npctrial.survival.gray` and
:mod:`npctrial.survival.aalen_johansen`: events are integer codes (cmprsk's ``fstatus`` with
``cencode``) or labels (R's factor ``fstatus``/``Surv(time, factor(event))``); everything is
validated once into a :class:`~npctrial.survival.data.SurvivalData`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.survival.data import SurvivalData, as_float_array

__all__ = ["Cause", "validate_competing"]


Cause = int | str


def _event_codes(event: Any, censor_code: Cause) -> tuple[Any, int, tuple[int, ...], tuple[Cause, ...]]:
    """Integer event codes for SurvivalData, and the causes as the user wrote them.

    Numeric events are used as they are (integer codes; causes are the sorted distinct values
    other than ``censor_code``, as cmprsk). Text or categorical events (``"relapse"``,
    ``"death"``, ``"censored"``) are mapped to 1..K in level order (categorical order, else
    sorted), ``censor_code`` (a label then) to 0, as R's factor ``fstatus``.
    """
    is_text = isinstance(getattr(event, "dtype", None), pd.CategoricalDtype) or (
        np.asarray(event).dtype.kind in "OUS"
        and pd.api.types.infer_dtype(pd.Series(np.asarray(event, dtype=object)), skipna=True)
        in ("string", "categorical", "mixed")
    )
    if not is_text:
        ev = as_float_array(event, "event")
        ok = np.isfinite(ev)
        bad = ok & (ev != np.round(np.where(ok, ev, 0.0)))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValidationError(
                f"event must hold integer codes; row {pos} is {ev[pos]!r}", field="event", row=pos
            )
        if not isinstance(censor_code, int | np.integer):
            raise ValidationError(
                f"censor_code must be an integer code for numeric events, got {censor_code!r}",
                field="censor_code",
            )
        causes = tuple(int(c) for c in np.unique(ev[ok]) if int(c) != int(censor_code))
        return event, int(censor_code), causes, causes
    series = pd.Series(event)
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [lv for lv in series.cat.categories if (series == lv).any()]
    else:
        levels = sorted({str(v) for v in series.dropna()})
    if not isinstance(censor_code, str):
        raise ValidationError(
            f"event holds labels {levels!r}: censor_code must be the censoring label, "
            f"got {censor_code!r}",
            field="censor_code",
        )
    labels = tuple(str(lv) for lv in levels if str(lv) != censor_code)
    mapping = {lab: i + 1 for i, lab in enumerate(labels)}
    mapping[censor_code] = 0
    codes = series.map(lambda v: np.nan if pd.isna(v) else mapping[str(v)]).astype(float)
    return codes.to_numpy(), 0, tuple(range(1, len(labels) + 1)), labels


def validate_competing(
    time: Any, event: Any, group: Any, strata: Any, censor_code: Cause, na_action: str = "raise"
) -> tuple[SurvivalData, tuple[int, ...], tuple[Cause, ...]]:
    """Validate into a SurvivalData whose event codes are (censor code, *cause codes).

    Returns the data, the integer cause codes in ``data.event`` and the causes as the user
    wrote them. Rows with a missing value raise (naming the row) unless ``na_action="drop"``,
    which drops them as cmprsk's ``na.omit`` and records how many in ``n_dropped``."""
    codes_in, cens, causes, labels = _event_codes(event, censor_code)
    if not causes:
        raise ValidationError(
            f"event has no value other than the censoring code {censor_code!r}", field="event"
        )
    data = SurvivalData.from_arrays(
        time,
        codes_in,
        group=group,
        strata=strata,
        event_codes=(cens, *causes),
        na_action=na_action,  # type: ignore[arg-type]
    )
    return data, causes, labels

