"""npctrial.survival (public API is listed in __all__ and locked by tests/survival/test_public_api.py)."""

from npctrial.survival.aalen_johansen import (
    AalenJohansenCurve,
    AalenJohansenResult,
    aalen_johansen,
)
from npctrial.survival.competing_risks import (
    CIFCurve,
    CumulativeIncidenceResult,
    GrayTestResult,
    cumulative_incidence,
    gray_test,
)
from npctrial.survival.cox import (
    BaselineHazard,
    Concordance,
    CoxResult,
    CoxSurvivalCurve,
    CoxSurvivalPrediction,
    CoxTest,
    CoxZphResult,
    compute_concordance,
    cox_ph,
    cox_univariate,
)
from npctrial.survival.data import Factor, SurvivalData
from npctrial.survival.fine_gray import FineGrayResult, fine_gray
from npctrial.survival.kaplan_meier import KaplanMeierCurve, KaplanMeierResult, kaplan_meier
from npctrial.survival.landmark import LandmarkData, landmark
from npctrial.survival.logrank import (
    LogRankResult,
    PairwiseLogRankResult,
    logrank_test,
    pairwise_logrank,
)
from npctrial.survival.nelson_aalen import NelsonAalenCurve, NelsonAalenResult, nelson_aalen
from npctrial.survival.plotting import StepCurve, plot_survival
from npctrial.survival.rmst import RMSTResult, rmst
from npctrial.survival.split import split_at
from npctrial.survival.survreg import SurvregResult, survreg
from npctrial.survival.svg_plot import plot_survival_svg
from npctrial.survival.time_varying import TimeVaryingData, time_varying

__all__: list[str] = [
    "BaselineHazard",
    "Concordance",
    "CoxResult",
    "CoxSurvivalCurve",
    "CoxSurvivalPrediction",
    "CoxTest",
    "CoxZphResult",
    "compute_concordance",
    "cox_ph",
    "cox_univariate",
    "AalenJohansenCurve",
    "AalenJohansenResult",
    "CIFCurve",
    "CumulativeIncidenceResult",
    "Factor",
    "FineGrayResult",
    "GrayTestResult",
    "KaplanMeierCurve",
    "KaplanMeierResult",
    "LandmarkData",
    "LogRankResult",
    "NelsonAalenCurve",
    "NelsonAalenResult",
    "PairwiseLogRankResult",
    "RMSTResult",
    "StepCurve",
    "SurvivalData",
    "SurvregResult",
    "TimeVaryingData",
    "aalen_johansen",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "landmark",
    "logrank_test",
    "nelson_aalen",
    "pairwise_logrank",
    "plot_survival",
    "plot_survival_svg",
    "rmst",
    "split_at",
    "survreg",
    "time_varying",
]
