"""Cox proportional hazards regression as R's ``survival::coxph``."""

from npctrial.survival.cox.fit import cox_ph
from npctrial.survival.cox.result import ChiSquareTest, CoxResult

__all__ = ["ChiSquareTest", "CoxResult", "cox_ph"]
