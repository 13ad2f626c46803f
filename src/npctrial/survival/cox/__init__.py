"""Cox proportional hazards regression as R's ``survival::coxph`` (fit, tests, concordance,
cox.zph, residuals, baseline hazard and predicted survival, univariate screening)."""

from npctrial.survival.cox.baseline import BaselineHazard, CoxSurvivalCurve, CoxSurvivalPrediction
from npctrial.survival.cox.concordance import Concordance, compute_concordance
from npctrial.survival.cox.fit import cox_ph
from npctrial.survival.cox.result import CoxResult, CoxTest
from npctrial.survival.cox.univariate import cox_univariate
from npctrial.survival.cox.zph import CoxZphResult

__all__ = [
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
]
