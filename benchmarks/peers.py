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
    max_n: int | None = None  # larger data are not run (the peer would exhaust memory or time)
    note: str = ""  # what the peer runs when it is not the same algorithm as ours


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


# ------------------------------------------------------------------------- Cox (Breslow)
def _statsmodels_breslow(lib: Any, data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[float]:
    t, x, e = data
    return lib.PHReg(t, x, status=e, ties="breslow").fit(gtol=1e-9).params.tolist()


COX_BRESLOW = {  # lifelines fits Efron ties only
    "npctrial": Impl(_module("npctrial.survival"), _pass_df,
                     lambda lib, df: lib.cox_ph(df, "time", "event", COVS, ties="breslow").coef.tolist()),
    "statsmodels": Impl(_module("statsmodels.duration.hazard_regression"), _statsmodels_prepare,
                        _quiet(_statsmodels_breslow)),
    "survival": Impl(_module("survival"), _pass_df,
                     lambda lib, df: list(lib.coxph(FORMULA, data=df, ties="breslow").coefficients)),
}


# ------------------------------------- Cox (Efron) with 4 strata / with delayed entry (counting process)
def _lifelines_with(column: str, **fit_kw: Any) -> Callable[[Any, pd.DataFrame], list[float]]:
    """lifelines' Efron fit on the covariates plus ``column`` (the strata or the entry time)."""
    def fit(lib: Any, df: pd.DataFrame) -> list[float]:
        cph = lib.CoxPHFitter(**({"strata": [column]} if column == "stratum" else {})).fit(
            df[[*COVS, "time", "event", column]], "time", "event", fit_options={"precision": 1e-9}, **fit_kw)
        return cph.params_[COVS].tolist()
    return _quiet(fit)


def _statsmodels_with(**columns: str) -> Callable[[Any, pd.DataFrame], list[float]]:
    """statsmodels' ``PHReg`` (Efron) with ``strata=`` or ``entry=`` taken from the named column."""
    def fit(lib: Any, df: pd.DataFrame) -> list[float]:
        extra = {k: df[v].to_numpy() for k, v in columns.items()}
        return lib.PHReg(df["time"].to_numpy(), df[COVS].to_numpy(), status=df["event"].to_numpy(),
                         ties="efron", **extra).fit(gtol=1e-9).params.tolist()
    return _quiet(fit)


COX_STRATA = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, lambda lib, df: lib.cox_ph(
        df, "time", "event", COVS, strata="stratum").coef.tolist()),
    "lifelines": Impl(_module("lifelines"), _pass_df, _lifelines_with("stratum")),
    "statsmodels": Impl(_module("statsmodels.duration.hazard_regression"), _pass_df, _statsmodels_with(strata="stratum")),
    "survival": Impl(_module("survival"), _pass_df,
                     lambda lib, df: list(lib.coxph(FORMULA + " + strata(stratum)", data=df).coefficients)),
}


COX_ENTRY = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, lambda lib, df: lib.cox_ph(
        df, "time", "event", COVS, entry="entry").coef.tolist()),
    # lifelines' counting-process fitter: 300 s at 1e5 rows on the shared benchmark machine
    "lifelines": Impl(_module("lifelines"), _pass_df, _lifelines_with("entry", entry_col="entry"), max_n=10_000),
    "statsmodels": Impl(_module("statsmodels.duration.hazard_regression"), _pass_df, _statsmodels_with(entry="entry")),
    "survival": Impl(_module("survival"), _pass_df, lambda lib, df: list(lib.coxph(
        "Surv(entry, time, event) ~ " + " + ".join(COVS), data=df).coefficients)),
}


# ------------------------------------- cumulative incidence (cmprsk::cuminc; Aalen-Johansen with SE)
def _ours_cuminc(lib: Any, df: pd.DataFrame) -> list[float]:
    res = lib.cumulative_incidence(df["time"], df["status"])
    curve = next(c for c in res.curves if c.cause == 1)
    return _step_at(curve.time, curve.est)


def _lifelines_cuminc(lib: Any, df: pd.DataFrame) -> list[float]:
    out: list[float] = []
    for cause in (1, 2):  # one fit per cause, with its variance (cuminc returns both causes)
        aj = lib.AalenJohansenFitter(calculate_variance=True, seed=0).fit(
            df["time"], df["status"], event_of_interest=cause)
        if cause == 1:
            cif = aj.cumulative_density_
            out = _step_at(cif.index.to_numpy(), cif.iloc[:, 0].to_numpy())
    return out


def _statsmodels_cuminc(lib: Any, df: pd.DataFrame) -> list[float]:
    ci = lib.CumIncidenceRight(df["time"].to_numpy(), df["status"].to_numpy())
    return _step_at(ci.times, ci.cinc[0])


def _rust_cuminc(lib: Any, df: pd.DataFrame) -> list[float]:
    fit = lib.survfit("Surv(time, factor(status)) ~ 1", data=df)
    col = list(fit.states).index("1")
    return _step_at(np.asarray(fit.time), np.asarray(fit.pstate)[:, col])


CUMINC = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, _ours_cuminc),
    "lifelines": Impl(_module("lifelines"), _pass_df, _quiet(_lifelines_cuminc), max_n=10_000),  # 74 s at 1e5
    "statsmodels": Impl(_module("statsmodels.duration.survfunc"), _pass_df, _quiet(_statsmodels_cuminc)),
    "survival": Impl(_module("survival"), _pass_df, _rust_cuminc),
}

# Gray's test (cmprsk::cuminc's test across groups): no Python peer has it; our time alone
GRAY = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, lambda lib, df: [
        float(lib.gray_test(df["time"], df["status"], df["x1"]).statistic[0])]),
}


# ---------------------------------------------------------------- Fine-Gray (cmprsk::crr)
def _rust_finegray(lib: Any, df: pd.DataFrame) -> list[float]:
    fg = lib.finegray("Surv(time, factor(status)) ~ " + " + ".join(COVS), data=df, etype="1")
    fit = lib.coxph("Surv(fgstart, fgstop, fgstatus) ~ " + " + ".join(COVS), data=fg, weights="fgwt")
    return list(fit.coefficients)


CRR = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df,
                     lambda lib, df: lib.fine_gray(df, "time", "status", COVS, cause=1).coef.tolist()),
    # R's route without cmprsk: finegray() expands every competing-event row over the later
    # censoring times (~70 rows each here), then a weighted counting-process coxph
    "survival": Impl(_module("survival"), _pass_df, _rust_finegray, max_n=20_000,
                     note="finegray() + weighted coxph"),
}


# ------------------------------------------------------------- survSplit at 4 cut points
CUTS = [90.0, 180.0, 365.0, 730.0]


def _ours_split(lib: Any, df: pd.DataFrame) -> list[float]:
    out = lib.split_at(df, CUTS, duration="time", event="event")
    return [float(len(out)), float((out["time"] - out["tstart"]).sum()), float(out["event"].sum())]


def _rust_split(lib: Any, df: pd.DataFrame) -> list[float]:
    out = lib.survSplit("Surv(time, event) ~ .", data=df, cut=CUTS, episode="episode")
    stop, start = np.asarray(out["time"], float), np.asarray(out["tstart"], float)
    return [float(len(stop)), float((stop - start).sum()), float(np.sum(out["event"]))]


SPLIT = {
    "npctrial": Impl(_module("npctrial.survival"), _pass_df, _ours_split),
    "survival": Impl(_module("survival"), _pass_df, _rust_split),
}


# ------------------------------------- time-varying covariate (tmerge event + tdc; lifelines timeline)
def _changes(df: pd.DataFrame) -> pd.DataFrame:
    """One change of ``z`` (0 -> 1) during follow-up for the rows with ``change_time`` set."""
    ch = df.loc[df["change_time"].notna(), ["id", "change_time"]].copy()
    ch["z"] = 1.0
    return ch


def _tv_prepare(lib: Any, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return df[["id", "time", "event", "x0", "x1"]].copy(), _changes(df)


def _ours_tv(lib: Any, data: tuple[pd.DataFrame, pd.DataFrame]) -> list[float]:
    base, ch = data
    out = lib.time_varying(base, ch, id="id", time="time", event="event", change_time="change_time",
                           columns=["z"], initial={"z": 0.0}).data
    return [float(len(out)), float((out["tstop"] - out["tstart"]).sum()), float(out["z"].sum())]


def _rust_tv(lib: Any, data: tuple[pd.DataFrame, pd.DataFrame]) -> list[float]:
    base, ch = data
    t1 = lib.tmerge(base[["id", "x0", "x1"]], base, id="id", death=lib.event("time", "event"))
    out = lib.tmerge(t1, ch, id="id", z=lib.tdc("change_time", "z", init=0.0))
    start, stop = np.asarray(out["tstart"], float), np.asarray(out["tstop"], float)
    return [float(len(stop)), float((stop - start).sum()), float(np.sum(np.asarray(out["z"], float)))]


def _lifelines_tv(lib: Any, data: tuple[pd.DataFrame, pd.DataFrame]) -> list[float]:
    base, ch = data
    long = lib.to_long_format(base, duration_col="time")
    out = lib.add_covariate_to_timeline(long, ch, id_col="id", duration_col="change_time", event_col="event")
    out["z"] = out["z"].fillna(0.0)
    return [float(len(out)), float((out["stop"] - out["start"]).sum()), float(out["z"].sum())]


TIME_VARYING = {
    "npctrial": Impl(_module("npctrial.survival"), _tv_prepare, _ours_tv),
    # add_covariate_to_timeline: 7 s of CPU at 2,000 subjects already
    "lifelines": Impl(_module("lifelines.utils"), _tv_prepare, _quiet(_lifelines_tv), max_n=2_000),
    "survival": Impl(_module("survival"), _tv_prepare, _rust_tv),
}

CASES: dict[str, dict[str, Impl]] = {
    "km": KM,
    "logrank": LOGRANK,
    "cox_efron": COX,
    "cox_breslow": COX_BRESLOW,
    "cox_strata": COX_STRATA,
    "cox_entry": COX_ENTRY,
    "concordance": CONCORDANCE,
    "cuminc": CUMINC,
    "gray_test": GRAY,
    "crr": CRR,
    "survreg_weibull": SURVREG,
    "split": SPLIT,
    "time_varying": TIME_VARYING,
}
