"""Every public result is truly immutable: attributes cannot be re-assigned, arrays are
read-only, mappings are read-only views, frames handed out are copies."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pytest

import npctrial.stats as stats
import npctrial.survival as survival
from npctrial.frozen import FrozenResult
from npctrial.survival.plotting import step_curves
from tests.rrefs import read_data


def _results() -> dict[str, Any]:
    lung = read_data("lung").dropna(subset=["ph.ecog"])
    t, e, g = lung["time"], lung["status"], lung["sex"]
    cr = read_data("cr_ties")
    cox = survival.cox_ph(lung, "time", "status", ["age", "sex", "ph.ecog"], cluster="inst")
    km = survival.kaplan_meier(t, e, group=g, status_coding="r")
    out: dict[str, Any] = {
        "kaplan_meier": km,
        "logrank_test": survival.logrank_test(t, e, g, status_coding="r"),
        "pairwise_logrank": survival.pairwise_logrank(t, e, lung["ph.ecog"], status_coding="r"),
        "nelson_aalen": survival.nelson_aalen(t, e, group=g, status_coding="r"),
        "rmst": survival.rmst(t, e, 365.0, group=g, status_coding="r"),
        "cumulative_incidence": survival.cumulative_incidence(cr["time"], cr["event"], group=cr["group"]),
        "gray_test": survival.gray_test(cr["time"], cr["event"], cr["group"]),
        "aalen_johansen": survival.aalen_johansen(cr["time"], cr["event"], group=cr["group"]),
        "fine_gray": survival.fine_gray(read_data("cr_crr"), "time", "status", ["age", "male"]),
        "cox_ph": cox,
        "zph": cox.zph(),
        "baseline": cox.baseline_hazard(),
        "prediction": cox.predict_survival(lung[["age", "sex", "ph.ecog"]].head(2)),
        "concordance": cox.concordance,
        "landmark": survival.landmark(lung, "time", "status", 180),
        "survreg": survival.survreg(lung, "time", "status", ["age", "sex"], dist="loglogistic"),
        "time_varying": survival.time_varying(
            read_data("heart_base"), read_data("heart_transplant").assign(tx=1), id="id", time="futime",
            event="fustat", change_time="txtime", columns=["tx"], initial={"tx": 0}),
        "survival_data": survival.SurvivalData.from_arrays(t, e, status_coding="r"),
        "step_curve": step_curves(km)[0],
        "chi_square_test": stats.chi_square_test([[10, 20], [30, 25]]),
        "fisher_exact": stats.fisher_exact([[3, 7], [8, 2]]),
        "mantel_haenszel": stats.mantel_haenszel(np.array([[[3, 4], [7, 6]], [[8, 5], [2, 5]]])),
        "mcnemar": stats.mcnemar([[10, 5], [3, 12]]),
        "proportion_ci": stats.proportion_ci(3, 10),
        "cochran_armitage_trend": stats.cochran_armitage_trend([[5, 8, 12], [15, 12, 8]]),
    }
    return out


RESULTS = _results()


def _assert_frozen(value: Any, where: str) -> None:
    if isinstance(value, FrozenResult):
        fields = dataclasses.fields(value)  # type: ignore[arg-type]
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, fields[0].name, None)
        for f in fields:
            if f.name in ("_ctx", "_estimable"):  # a fit's internal context / estimable sub-fit
                continue
            _assert_frozen(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, np.ndarray):
        assert not value.flags.writeable, f"{where}: writeable array"
    elif isinstance(value, pd.DataFrame):
        if value.shape[0] and value.shape[1]:
            numeric = [j for j in range(value.shape[1]) if isinstance(value.dtypes.iloc[j], np.dtype)]
            for j in numeric[:1]:
                with pytest.raises(ValueError, match="read-only"):
                    value.iloc[0, j] = value.iloc[0, j]
    elif isinstance(value, Mapping):
        assert isinstance(value, MappingProxyType), f"{where}: mutable mapping {type(value).__name__}"
        for k, v in value.items():
            _assert_frozen(v, f"{where}[{k!r}]")
    elif isinstance(value, tuple):
        for i, v in enumerate(value):
            _assert_frozen(v, f"{where}[{i}]")
    else:
        assert not isinstance(value, list | set | dict), f"{where}: mutable {type(value).__name__}"


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_results_are_read_only_all_the_way_down(name: str) -> None:
    _assert_frozen(RESULTS[name], name)


@pytest.mark.parametrize(("name", "attr"), [("zph", "table"), ("pairwise_logrank", "table"), ("landmark", "data"),
                                            ("time_varying", "data")])
def test_frames_handed_out_are_copies(name: str, attr: str) -> None:
    res = RESULTS[name]
    frame = getattr(res, attr)
    frame["added"] = 1
    frame.iloc[0, 0] = frame.iloc[1, 0]
    assert "added" not in getattr(res, attr).columns
    assert res.to_frame().equals(getattr(res, attr))


def test_arrays_handed_out_cannot_be_written() -> None:
    cox = RESULTS["cox_ph"]
    for arr in (cox.coef, cox.var, cox.se, cox.robust_se, RESULTS["kaplan_meier"].curves[0].surv):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0


def test_every_exported_result_class_is_a_frozen_result() -> None:
    for module in (survival, stats):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and dataclasses.is_dataclass(obj):
                assert issubclass(obj, FrozenResult), f"{module.__name__}.{name} is not a FrozenResult"
                assert obj.__dataclass_params__.frozen, f"{module.__name__}.{name} is not frozen"  # type: ignore[attr-defined]
