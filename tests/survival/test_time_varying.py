"""time_varying (R tmerge) and split_at (R survSplit) against R, row by row, and the Cox fits
on their output against R (tests/data/refs/timedep.json, timedep_build.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import cox_ph, split_at, time_varying
from tests.rrefs import ITERATIVE, analysis, assert_r_close, num, read_data

PBC_COLUMNS = ["ascites", "bili", "albumin", "protime", "alk.phos"]


def _assert_rows(frame: pd.DataFrame, ref: dict, names: dict[str, str]) -> None:
    for r_name, ours in names.items():
        assert_r_close(frame[ours].to_numpy(dtype=float), num(ref[r_name]), 0.0, f"rows {r_name}")


def _assert_cox(fit, ref: dict) -> None:
    names = [n.replace("log(bili)", "log_bili") for n in ref["coef"]]
    assert list(fit.names) == names
    assert_r_close(fit.coef, list(ref["coef"].values()), ITERATIVE, "timedep coef")
    assert_r_close(fit.se, list(ref["se"].values()), ITERATIVE, "timedep se")
    assert_r_close([fit.loglik_null, fit.loglik], ref["loglik"], ITERATIVE, "timedep loglik")


def _pbc() -> tuple[pd.DataFrame, pd.DataFrame]:
    pbc = read_data("pbc")
    return pbc.loc[pbc["id"] <= 312, ["id", "time", "status", "trt", "age", "sex", "stage"]], read_data("pbcseq")


def test_pbc_lab_values_match_tmerge() -> None:
    a = analysis("timedep_build", "pbc_tmerge")
    assert "subset(pbc, id <= 312" in a["base"] and "tdc(day, bili)" in a["call"]
    base, seq = _pbc()
    tv = time_varying(base, seq, id="id", time="time", event="status", change_time="day", columns=PBC_COLUMNS)
    data = tv.data
    assert len(data) == a["n_rows"]
    _assert_rows(data, a["rows"], {"id": "id", "tstart": "tstart", "tstop": "tstop", "endpt": "status",
                                   **{c: c for c in PBC_COLUMNS}})
    # R's tcount: 138 bili values after follow-up; 60 missing alk.phos / ascites carried forward
    assert tv.counts["bili"]["late"] == 138 and tv.counts["alk.phos"]["missing_value"] == 60
    assert "alk.phos: 1754 change(s) used; not used: 131 late, 60 missing_value" in tv.summary()
    fit = cox_ph(data.assign(dead=(data["status"] == 2).astype(int), log_bili=np.log(data["bili"])),
                 "tstop", "dead", ["protime", "log_bili"], entry="tstart")
    _assert_cox(fit, a["cox"])


def test_heart_transplants_rebuild_the_stanford_data() -> None:
    a = analysis("timedep_build", "heart_tmerge")
    base, tx = read_data("heart_base"), read_data("heart_transplant")
    tv = time_varying(base, tx.assign(transplant=1), id="id", time="futime", event="fustat",
                      change_time="txtime", columns=["transplant"], initial={"transplant": 0},
                      start_name="tstart", stop_name="tstop")
    _assert_rows(tv.data, a["rows"], {"id": "id", "tstart": "tstart", "tstop": "tstop", "death": "fustat",
                                      "transplant": "transplant"})
    fit = cox_ph(tv.data, "tstop", "fustat", ["age", "year", "surgery", "transplant"], entry="tstart")
    _assert_cox(fit, a["cox"])
    # and the published heart data (start, stop] give R's counting-process fit
    ref = analysis("timedep", "heart_cox")
    heart = cox_ph(read_data("heart"), "stop", "event", ["age", "year", "surgery", "transplant"],
                   entry="start", categorical=["transplant"])
    assert list(heart.names) == list(ref["coef"])
    assert_r_close(heart.coef, list(ref["coef"].values()), ITERATIVE, "timedep coef")
    assert_r_close(heart.se, list(ref["se"].values()), ITERATIVE, "timedep se")
    assert_r_close([heart.loglik_null, heart.loglik], ref["loglik"], ITERATIVE, "timedep loglik")


def test_veteran_split_at_90_and_180_days_matches_survsplit() -> None:
    a = analysis("timedep_build", "veteran_survsplit")
    ref = analysis("timedep", "veteran_survsplit")
    vet = split_at(read_data("veteran"), [180, 90, 90], duration="time", event="status", episode="tgroup", id="id")
    assert len(vet) == a["n_rows"] == ref["n_rows_split"]
    assert vet["tgroup"].value_counts().sort_index().to_dict() == {int(k): v for k, v in ref["rows_per_tgroup"].items()}
    _assert_rows(vet, a["rows"], {k: k for k in ("id", "tstart", "time", "status", "tgroup")})
    fit = cox_ph(vet, "time", "status", ["trt", "karno"], entry="tstart", strata="tgroup")
    _assert_cox(fit, ref)


def test_counting_process_input_is_split_like_survsplit() -> None:
    a = analysis("timedep_build", "heart_survsplit")
    hs = split_at(read_data("heart"), [30, 100, 365], duration="stop", event="event", entry="start",
                  episode="period")
    assert len(hs) == a["n_rows"]
    _assert_rows(hs, a["rows"], {k: k for k in ("id", "start", "stop", "event", "period")})
    fit = cox_ph(hs, "stop", "event", ["age", "surgery", "transplant"], entry="start", strata="period",
                 categorical=["transplant"])
    _assert_cox(fit, a["cox"])


# ---- the documented tmerge rules, case by case -----------------------------------------------

BASE = pd.DataFrame({"id": [1, 2, 3], "time": [10.0, 8.0, 5.0], "status": [1, 0, 1], "age": [50, 60, 70]})


def test_changes_split_carry_forward_and_are_classified() -> None:
    changes = pd.DataFrame({
        "id": [1, 1, 1, 2, 2, 2, 3, 9, 1],
        "day": [-2.0, 4.0, 10.0, 0.0, 3.0, 3.0, 7.0, 1.0, 6.0],
        "ebv": [100.0, 50.0, 5.0, 80.0, 20.0, 10.0, 3.0, 1.0, np.nan],
    })
    tv = time_varying(BASE, changes, id="id", time="time", event="status", change_time="day", columns=["ebv"])
    d = tv.data
    assert d[["id", "tstart", "tstop", "status"]].values.tolist() == [
        [1, 0, 4, 0], [1, 4, 10, 1], [2, 0, 3, 0], [2, 3, 8, 0], [3, 0, 5, 1]]
    # early value from the start (id 1), leading edge (id 2 at 0), last of tied rows (id 2 at 3)
    assert d["ebv"].tolist()[:4] == [100.0, 50.0, 80.0, 10.0]
    assert np.isnan(d["ebv"].iloc[4])  # id 3's only change is after follow-up: NA, as R
    assert dict(tv.counts["ebv"]) == {"within": 3, "leading": 1, "early": 1, "trailing": 1, "late": 1,
                                      "tied": 1, "missing_id": 1, "missing_value": 1}
    assert tv.counts_frame().loc["ebv", "late"] == 1
    assert list(d.columns) == ["id", "age", "tstart", "tstop", "status", "ebv"]


def test_initial_values_and_several_covariates() -> None:
    changes = pd.DataFrame({"id": [1, 2], "day": [6.0, 2.0], "relapse": [1, 1], "chemo": [np.nan, 1]})
    tv = time_varying(BASE, changes, id="id", time="time", event="status", change_time="day",
                      columns=["relapse", "chemo"], initial={"relapse": 0, "chemo": 0})
    d = tv.data
    assert d[["id", "tstart", "tstop", "relapse", "chemo"]].values.tolist() == [
        [1, 0, 6, 0, 0], [1, 6, 10, 1, 0], [2, 0, 2, 0, 0], [2, 2, 8, 1, 1], [3, 0, 5, 0, 0]]


@pytest.mark.parametrize(("base", "changes", "kwargs", "match"), [
    (BASE.assign(id=[1, 1, 2]), None, {}, "one row per subject; id 1 repeats"),
    (BASE.assign(time=[10.0, 0.0, 5.0]), None, {}, r"follow-up must end after it starts; row 1 has \(0, 0\]"),
    (BASE.assign(ebv=1.0), None, {}, "'ebv' is already a column of base"),
    (BASE, None, {"columns": ["nope"]}, "changes: column 'nope' not found"),
    (BASE, None, {"initial": {"age": 1}}, "not in columns"),
    (BASE, pd.DataFrame({"id": [1], "day": [np.nan], "ebv": [1.0]}), {}, "day must be a finite number"),
])
def test_invalid_inputs_name_the_problem(base, changes, kwargs, match) -> None:
    changes = pd.DataFrame({"id": [1], "day": [2.0], "ebv": [1.0]}) if changes is None else changes
    args = {"id": "id", "time": "time", "event": "status", "change_time": "day", "columns": ["ebv"], **kwargs}
    with pytest.raises(ValidationError, match=match):
        time_varying(base, changes, **args)


# ---- the documented survSplit rules -------------------------------------------------------------

def test_cuts_at_the_edges_do_not_split_and_episodes_count_earlier_cuts() -> None:
    d = pd.DataFrame({"t": [5.0, 12.0, 30.0], "e": [1, 0, 1], "entry": [0.0, 10.0, 21.0]})
    out = split_at(d, [10, 20], duration="t", event="e", entry="entry")
    assert out[["entry", "t", "e", "episode"]].values.tolist() == [
        [0, 5, 1, 1], [10, 12, 0, 2], [21, 30, 1, 3]]
    plain = split_at(d.drop(columns="entry"), [5, 20], duration="t", event="e")
    assert plain[["tstart", "t", "e", "episode"]].values.tolist() == [
        [0, 5, 1, 1], [0, 5, 0, 1], [5, 12, 0, 2], [0, 5, 0, 1], [5, 20, 0, 2], [20, 30, 1, 3]]


@pytest.mark.parametrize(("cuts", "kwargs", "match"), [
    ("90", {}, "cuts must be a sequence"), ([], {}, "at least one"), ([1, "x"], {}, "cuts must be a number"),
    ([5], {"duration": "nope"}, "'nope' not found"), ([5], {"episode": "e"}, "'e' already exists"),
])
def test_split_at_validates(cuts, kwargs, match) -> None:
    args = {"duration": "t", "event": "e", **kwargs}
    with pytest.raises(ValidationError, match=match):
        split_at(pd.DataFrame({"t": [5.0], "e": [1]}), cuts, **args)
    with pytest.raises(ValidationError, match="row 0 has"):
        split_at(pd.DataFrame({"t": [0.0], "e": [1]}), [5], duration="t", event="e")
