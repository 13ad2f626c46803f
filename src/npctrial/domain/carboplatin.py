"""Carboplatin dosing: Cockcroft-Gault creatinine clearance and the Calvert formula.

References: Cockcroft DW & Gault MH, Nephron 1976;16:31-41; Calvert AH et al., J Clin Oncol
1989;7:1748-1756; US FDA carboplatin dosing communication (2010) on capping GFR at 125 mL/min.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

from npctrial.domain._inputs import check_positive, check_weight_kg
from npctrial.domain.dosing import round_to_step
from npctrial.errors import ClinicalWarning, ValidationError
from npctrial.messages import message

CREATININE_MG_DL_PER_UMOL_L = 1 / 88.4


CreatinineUnit = Literal["mg/dL", "umol/L"]
_CREAT_UNITS = {"mg/dl": "mg/dL", "umol/l": "umol/L", "µmol/l": "umol/L", "μmol/l": "umol/L"}


@dataclass(frozen=True)
class CreatinineClearance:
    """Cockcroft-Gault creatinine clearance (mL/min)."""

    age_years: float
    weight_kg: float
    sex: str
    creatinine: float
    creatinine_unit: str
    creatinine_mg_dl: float
    ml_min: float

    def summary(self) -> str:
        factor = " x 0.85" if self.sex == "female" else ""
        return (f"CrCl {self.ml_min:.1f} mL/min = (140 - {self.age_years:g}) x {self.weight_kg:g} / "
                f"(72 x {self.creatinine_mg_dl:.3f} mg/dL){factor} (Cockcroft-Gault 1976)")


def cockcroft_gault(age_years: float, weight_kg: float, sex: str, creatinine: float,
                    unit: CreatinineUnit | str = "mg/dL") -> CreatinineClearance:
    """Creatinine clearance = (140 - age) x weight / (72 x SCr[mg/dL]), x 0.85 for women.

    Serum creatinine in umol/L is converted with 1 mg/dL = 88.4 umol/L. A value implausible
    for the stated unit (> 20 mg/dL, or < 20 umol/L) is rejected as a probable unit mix-up.
    """
    age = check_positive(age_years, "age_years")
    if age > 120:
        raise ValidationError(message("dose.age_above_120", "age_years must be <= 120, got %(value)s",
                                      value=repr(age_years)), field="age_years")
    w = check_weight_kg(weight_kg)
    if not isinstance(sex, str) or sex.strip().lower() not in ("female", "male", "f", "m"):
        raise ValidationError(message("dose.sex_invalid", "sex must be 'female' or 'male', got %(value)s",
                                      value=repr(sex)), field="sex")
    sex_key = "female" if sex.strip().lower() in ("female", "f") else "male"
    scr = check_positive(creatinine, "creatinine")
    unit_key = _CREAT_UNITS.get(str(unit).strip().lower())
    if unit_key is None:
        raise ValidationError(message("dose.creatinine_unit_invalid", "unit must be 'mg/dL' or 'umol/L', got %(value)s",
                                      value=repr(unit)), field="unit")
    if unit_key == "mg/dL":
        if scr > 20:
            raise ValidationError(message("dose.creatinine_mg_dl_implausible", "creatinine %(value)s mg/dL is "
                                          "implausible; umol/L by mistake?", value=scr), field="creatinine")
        mg_dl = scr
    else:
        if scr < 20:
            raise ValidationError(message("dose.creatinine_umol_l_implausible", "creatinine %(value)s umol/L is "
                                          "implausible; mg/dL by mistake?", value=scr), field="creatinine")
        mg_dl = scr * CREATININE_MG_DL_PER_UMOL_L
    ml_min = (140.0 - age) * w / (72.0 * mg_dl) * (0.85 if sex_key == "female" else 1.0)
    return CreatinineClearance(age, w, sex_key, scr, unit_key, mg_dl, ml_min)


@dataclass(frozen=True)
class CarboplatinDose:
    """Calvert dose: mg = target AUC x (GFR + 25)."""

    target_auc: float
    gfr_ml_min: float
    gfr_cap_ml_min: float | None
    gfr_used_ml_min: float
    mg_exact: float
    round_to_mg: float | None
    mg: float

    def summary(self) -> str:
        cap = "" if self.gfr_cap_ml_min is None else f" (GFR capped at {self.gfr_cap_ml_min:g})"
        return (f"carboplatin {self.mg:g} mg = AUC {self.target_auc:g} x ({self.gfr_used_ml_min:.1f} + 25)"
                f"{cap} (Calvert 1989)")


def carboplatin_dose(target_auc: float, gfr: CreatinineClearance | float, *,
                     gfr_cap_ml_min: float | None = None,
                     round_to_mg: float | None = 1.0) -> CarboplatinDose:
    """Carboplatin dose by the Calvert formula, GFR estimated e.g. by :func:`cockcroft_gault`.

    ``gfr_cap_ml_min`` (e.g. 125, per the US FDA 2010 carboplatin dosing advice) is a protocol
    setting; None applies no cap. A target AUC above 7 gives a ClinicalWarning.
    """
    auc = check_positive(target_auc, "target_auc")
    if auc > 7:
        warnings.warn(ClinicalWarning(message("dose.carboplatin_auc_above_7", "carboplatin target AUC %(auc)s is above 7",
                                              auc=f"{auc:g}")), stacklevel=2)
    g = gfr.ml_min if isinstance(gfr, CreatinineClearance) else check_positive(gfr, "gfr")
    cap = None if gfr_cap_ml_min is None else check_positive(gfr_cap_ml_min, "gfr_cap_ml_min")
    used = g if cap is None else min(g, cap)
    step = None if round_to_mg is None else check_positive(round_to_mg, "round_to_mg")
    exact = auc * (used + 25.0)
    return CarboplatinDose(auc, g, cap, used, exact, step,
                           exact if step is None else round_to_step(exact, step))


__all__ = [
    "CarboplatinDose",
    "CreatinineClearance",
    "carboplatin_dose",
    "cockcroft_gault",
]
