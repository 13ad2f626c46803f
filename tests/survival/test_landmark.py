"""landmark(): the cohort event-free and observed at L, time from L, nothing removed silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import kaplan_meier, landmark, logrank_test
from tests.rrefs import read_data


def _one_row() -> pd.DataFrame:
    return pd.DataFrame({
        "id": list("abcdefg"),
        "time": [3.0, 5.0, 5.0, 8.0, 12.0, 20.0, 2.0],
        "status": [1, 1, 0, 1, 0, 1, 0],
        "resp": [1, 0, 1, 1, 0, 1, 0],
        "resp_day": [2.0, 1.0, 4.0, 6.0, 3.0, np.nan, 1.0],
    })


def test_one_row_per_subject_keeps_those_followed_beyond_the_landmark() -> None:
    lm = landmark(_one_row(), "time", "status", 5)
    assert list(lm.data["id"]) == ["d", "e", "f"]
    assert list(lm.data["time"]) == [3.0, 7.0, 15.0]
    assert dict(lm.excluded) == {
        "event at or before the landmark": 2,  # a (3), b (5: an event exactly at L is not after L)
        "follow-up ended at or before the landmark": 2,  # c censored at 5, g at 2
        "not under observation at the landmark (entered later, or a gap)": 0,
    }
    assert lm.n_subjects == 3 and lm.n_subjects_before == 7
    assert "3 of 7 subjects" in lm.summary() and "event at or before the landmark: 2" in lm.summary()


def test_covariates_measured_after_the_landmark_are_masked_or_dropped() -> None:
    lm = landmark(_one_row(), "time", "status", 5, measured_at={"resp": "resp_day"})
    # d's response was seen at day 6 and f's has no date: neither is known at the landmark
    assert lm.data.set_index("id")["resp"].isna().to_dict() == {"d": True, "e": False, "f": True}
    assert dict(lm.masked) == {"resp": 2}
    assert "resp: 2 value(s) measured after the landmark set to missing" in lm.summary()
    dropped = landmark(_one_row(), "time", "status", 5, measured_at={"resp": "resp_day"}, after="drop")
    assert "resp" not in dropped.data.columns and dropped.dropped_columns == ("resp",)


def test_entry_and_several_rows_per_subject() -> None:
    heart = read_data("heart")
    lm = landmark(heart, "stop", "event", 30, entry="start", id="id")
    ids = heart.groupby("id")
    early = {i for i, g in ids if ((g.event == 1) & (g.stop <= 30)).any()}
    followed = {i for i, g in ids if ((g.start <= 30) & (g.stop > 30)).any()} - early
    assert set(lm.data["id"]) == followed and lm.n_subjects == len(followed)
    assert lm.excluded["event at or before the landmark"] == len(early)
    assert (lm.data["start"] >= 0).all() and (lm.data["stop"] > lm.data["start"]).all()
    # the row holding day 30 now starts at the landmark
    row = lm.data[lm.data["id"] == lm.data["id"].iloc[0]].iloc[0]
    orig = heart[(heart["id"] == row["id"]) & (heart["stop"] > 30)].iloc[0]
    assert row["start"] == max(orig["start"], 30) - 30 and row["stop"] == orig["stop"] - 30


def test_landmark_data_feed_the_estimators() -> None:
    lung = read_data("lung")
    lm = landmark(lung, "time", "status", 180)
    manual = lung[lung["time"] > 180]
    km = kaplan_meier(lm.data["time"], lm.data["status"], group=lm.data["sex"], status_coding="r")
    ref = kaplan_meier(manual["time"] - 180, manual["status"], group=manual["sex"], status_coding="r")
    np.testing.assert_array_equal(km.curves[0].surv, ref.curves[0].surv)
    lr = logrank_test(lm.data["time"], lm.data["status"], lm.data["sex"], status_coding="r")
    assert lr.chisq == logrank_test(manual["time"] - 180, manual["status"], manual["sex"], status_coding="r").chisq
    assert lm.excluded["event at or before the landmark"] == int(((lung.time <= 180) & (lung.status == 2)).sum())


def test_results_are_read_only() -> None:
    lm = landmark(_one_row(), "time", "status", 5)
    with pytest.raises(TypeError):
        lm.excluded["event at or before the landmark"] = 0  # type: ignore[index]
    with pytest.raises(AttributeError):
        lm.at = 3.0  # type: ignore[misc]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"at": -1}, "at"), ({"at": "5"}, "at"), ({"after": "keep"}, "after"),
    ({"duration": "nope"}, "nope"), ({"event": "nope"}, "nope"), ({"id": "nope"}, "id"),
    ({"measured_at": {"resp": "nope"}}, "measured_at"),
])
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:
    args = {"duration": "time", "event": "status", "at": 5, **kwargs}
    with pytest.raises(ValidationError) as err:
        landmark(_one_row(), **args)
    assert err.value.field == field
    with pytest.raises(ValidationError, match="time must be a finite number; row 1"):
        landmark(_one_row().assign(time=[3.0, np.nan, 5, 8, 12, 20, 2]), "time", "status", 5)
