"""Linear-quadratic radiobiology: biologically effective dose (BED) and EQD2.

Reference: Fowler JF, "The linear-quadratic formula and progress in fractionated
radiotherapy", Br J Radiol 1989;62:679-694. No time/repopulation factor is applied.
"""

from __future__ import annotations

import warnings
from typing import Any

from npctrial.domain._inputs import check_positive
from npctrial.errors import ClinicalWarning, ValidationError
from npctrial.messages import message

#: Customary alpha/beta (Gy): tumour and early-responding tissue, late-responding normal tissue.
ALPHA_BETA_TUMOUR_GY = 10.0
ALPHA_BETA_LATE_GY = 3.0
#: Dose per fraction above which the LQ model is commonly considered unreliable.
LQ_WARN_ABOVE_GY_PER_FRACTION = 8.0


def _fractions(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(message("rt.fractions_invalid", "fractions must be a positive integer, got %(value)s",
                                      value=repr(value)), field="fractions")
    return value


def dose_per_fraction(total_dose_gy: float, fractions: int) -> float:
    """d = D / n (Gy)."""
    return check_positive(total_dose_gy, "total_dose_gy") / _fractions(fractions)


def bed(total_dose_gy: float, fractions: int, alpha_beta: float) -> float:
    """Biologically effective dose (Gy).

    Steps: 1. d = D / n; 2. BED = D * (1 + d / (alpha/beta)).
    A ClinicalWarning is given when d exceeds 8 Gy (outside the usual range of the LQ model).
    """
    d = dose_per_fraction(total_dose_gy, fractions)
    ab = check_positive(alpha_beta, "alpha_beta")
    if d > LQ_WARN_ABOVE_GY_PER_FRACTION:
        warnings.warn(ClinicalWarning(message("rt.lq_dose_per_fraction_high", "dose per fraction %(dose)s Gy is above "
                                              "%(limit)s Gy; the linear-quadratic model may not apply", dose=d,
                                              limit=LQ_WARN_ABOVE_GY_PER_FRACTION)), stacklevel=2)
    return float(total_dose_gy) * (1.0 + d / ab)


def eqd2(total_dose_gy: float, fractions: int, alpha_beta: float) -> float:
    """Equivalent dose in 2-Gy fractions (Gy): EQD2 = BED / (1 + 2 / (alpha/beta))."""
    ab = check_positive(alpha_beta, "alpha_beta")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClinicalWarning)
        value = bed(total_dose_gy, fractions, ab)
    if dose_per_fraction(total_dose_gy, fractions) > LQ_WARN_ABOVE_GY_PER_FRACTION:
        warnings.warn(ClinicalWarning(message("rt.lq_dose_per_fraction_above_8", "dose per fraction above 8 Gy; the "
                                              "linear-quadratic model may not apply")), stacklevel=2)
    return value / (1.0 + 2.0 / ab)


__all__ = [
    "ALPHA_BETA_LATE_GY",
    "ALPHA_BETA_TUMOUR_GY",
    "bed",
    "dose_per_fraction",
    "eqd2",
]
