"""What each implementation runs in a cold-call benchmark (see ``benchmarks/cold.py``).

Every case is timed on :func:`synthetic.make_cox_data` (the Weibull 10-covariate tied data). An
implementation is three steps, run in a fresh process:

1. ``load()``: import the library (timed separately as ``import``);
2. ``prepare(lib, df)``: untimed set-up a user has already done (the Cox fit before its
   concordance, the arrays a peer's API wants);
3. ``call(lib, state)``: the timed cold call; it returns the estimate that is checked against
   ours (coefficients, C, survival at fixed times, chi-square), so every peer is shown to reach the
   same answer.

Peers: ``lifelines``, ``statsmodels`` and ``survival`` (2.0.0 on PyPI, a Rust port of R's
survival package with R's API).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from synthetic import COVS

FORMULA = "Surv(time, event) ~ " + " + ".join(COVS)
PROBE_TIMES = np.array([30.0, 90.0, 180.0, 365.0, 730.0, 1095.0])  # days: KM estimates compared here


@dataclass(frozen=True)
class Impl:
    load: Callable[[], Any]
    prepare: Callable[[Any, pd.DataFrame], Any]
    call: Callable[[Any, Any], Sequence[float]]


def _module(name: str) -> Callable[[], Any]:
    return lambda: importlib.import_module(name)


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    return wrapped


def _step_at(times: np.ndarray, surv: np.ndarray, at: np.ndarray = PROBE_TIMES) -> list[float]:
    """Right-continuous step function (1 before the first time) evaluated at ``at``."""
    idx = np.searchsorted(np.asarray(times, float), at, side="right") - 1
    s = np.asarray(surv, float)
    return [1.0 if i < 0 else float(s[i]) for i in idx]


def _pass_df(lib: Any, df: pd.DataFrame) -> pd.DataFrame:
    return df


# ----------------------------------------------------------------------------- Cox (Efron)
def _lifelines_cox(lib: Any, df: pd.DataFrame) -> list[float]:
    # precision 1e-9: lifelines' default (1e-7 on the Newton step norm) stops ~2e-6 short of the MLE
    cph = lib.CoxPHFitter().fit(df[[*COVS, "time", "event"]], "time", "event",
                                fit_options={"precision": 1e-9})
    return cph.params_[COVS].tolist()


def _statsmodels_prepare(lib: Any, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return df["time"].to_numpy(), df[COVS].to_numpy(), df["event"].to_numpy()


def _statsmodels_cox(lib: Any, data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[float]:
    t, x, e = data
    return lib.PHReg(t, x, status=e, ties="efron").fit(gtol=1e-9).params.tolist()


COX = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df,
                     lambda lib, df: lib.cox_ph(df, "time", "event", COVS).coef.tolist()),
    "lifelines": Impl(_module("lifelines"), _pass_df, _quiet(_lifelines_cox)),
    "statsmodels": Impl(_module("statsmodels.duration.hazard_regression"), _statsmodels_prepare,
                        _quiet(_statsmodels_cox)),
    "survival": Impl(_module("survival"), _pass_df,
                     lambda lib, df: list(lib.coxph(FORMULA, data=df).coefficients)),
}


# ------------------------------------------------------------------- concordance of that fit
def _lifelines_fit(lib: Any, df: pd.DataFrame) -> Any:
    return _quiet(lambda: lib.CoxPHFitter().fit(df[[*COVS, "time", "event"]], "time", "event",
                                                 fit_options={"precision": 1e-9}))()


def _ours_concordance(lib: Any, fit: Any) -> list[float]:
    c = fit.concordance
    return [c.c_index, c.std_err]


def _rust_concordance(lib: Any, fit: Any) -> list[float]:
    c = lib.concordance(fit)
    return [float(c.concordance), float(np.sqrt(c.var))]


CONCORDANCE = {
    "npctrial": Impl(_module("npctrial.survival"),
                     lambda lib, df: lib.cox_ph(df, "time", "event", COVS), _ours_concordance),
    "lifelines": Impl(_module("lifelines"), _lifelines_fit,
                      lambda lib, fit: [float(fit.concordance_index_)]),
    "survival": Impl(_module("survival"), lambda lib, df: lib.coxph(FORMULA, data=df), _rust_concordance),
}


# ----------------------------------------------------------------------------- Kaplan-Meier
def _ours_km(lib: Any, df: pd.DataFrame) -> list[float]:
    curve = lib.kaplan_meier(df["time"], df["event"]).curves[0]
    return _step_at(curve.time, curve.surv)


def _statsmodels_km(lib: Any, df: pd.DataFrame) -> list[float]:
    sf = lib.SurvfuncRight(df["time"].to_numpy(), df["event"].to_numpy())
    return _step_at(sf.surv_times, sf.surv_prob)


def _lifelines_km(lib: Any, df: pd.DataFrame) -> list[float]:
    sf = lib.KaplanMeierFitter().fit(df["time"], df["event"]).survival_function_
    return _step_at(sf.index.to_numpy(), sf.iloc[:, 0].to_numpy())


def _rust_km(lib: Any, df: pd.DataFrame) -> list[float]:
    fit = lib.survfit("Surv(time, event) ~ 1", data=df)
    return _step_at(np.asarray(fit.time), np.asarray(fit.surv))


KM = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, _ours_km),
    "lifelines": Impl(_module("lifelines"), _pass_df, _quiet(_lifelines_km)),
    "statsmodels": Impl(_module("statsmodels.duration.survfunc"), _pass_df, _quiet(_statsmodels_km)),
    "survival": Impl(_module("survival"), _pass_df, _rust_km),
}


# -------------------------------------------------------------------------------- log-rank
def _lifelines_logrank(lib: Any, df: pd.DataFrame) -> list[float]:
    g = df["x1"].to_numpy() == 1
    t, e = df["time"].to_numpy(), df["event"].to_numpy()
    return [float(lib.logrank_test(t[~g], t[g], e[~g], e[g]).test_statistic)]


LOGRANK = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df,
                     lambda lib, df: [lib.logrank_test(df["time"], df["event"], df["x1"]).chisq]),
    "lifelines": Impl(_module("lifelines.statistics"), _pass_df, _quiet(_lifelines_logrank)),
    "statsmodels": Impl(_module("statsmodels.duration.survfunc"), _pass_df, _quiet(
        lambda lib, df: [float(lib.survdiff(df["time"].to_numpy(), df["event"].to_numpy(),
                                            df["x1"].to_numpy())[0])])),
    "survival": Impl(_module("survival"), _pass_df,
                     lambda lib, df: [float(lib.survdiff("Surv(time, event) ~ x1", data=df).chisq)]),
}


# ------------------------------------------------------------------- Weibull AFT (survreg)
def _lifelines_weibull(lib: Any, df: pd.DataFrame) -> list[float]:
    fit = lib.WeibullAFTFitter().fit(df[[*COVS, "time", "event"]], "time", "event")
    lam = fit.params_["lambda_"]
    # lifelines: log(lambda) = X beta (survreg's coefficients), rho = exp(rho_) = 1 / scale
    return [float(lam["Intercept"]), *lam[COVS].tolist(), -float(fit.params_["rho_"]["Intercept"])]


def _rust_weibull(lib: Any, df: pd.DataFrame) -> list[float]:
    fit = lib.survreg(FORMULA, data=df, dist="weibull")
    return [*map(float, fit.coefficients), float(np.log(fit.scale[0]))]


def _ours_weibull(lib: Any, df: pd.DataFrame) -> list[float]:
    fit = lib.survreg(df, "time", "event", COVS, dist="weibull")
    return [*map(float, fit.coef), float(np.log(fit.scale))]


SURVREG = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, _ours_weibull),
    "lifelines": Impl(_module("lifelines"), _pass_df, _quiet(_lifelines_weibull)),
    "survival": Impl(_module("survival"), _pass_df, _rust_weibull),
}

CASES: dict[str, dict[str, Impl]] = {
    "cox_efron": COX,
    "concordance": CONCORDANCE,
    "km": KM,
    "logrank": LOGRANK,
    "survreg_weibull": SURVREG,
}
