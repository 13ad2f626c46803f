"""What a fitted Cox model keeps for its diagnostics (residuals, cox.zph, baseline hazard,
predictions): the design, the sorted risk-set layout and the centred covariates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from npctrial.survival.cox.design_matrix import CoxDesign
from npctrial.survival.cox.engine import CoxState, RiskSetLayout

__all__ = ["CoxFitContext"]


@dataclass(frozen=True)
class CoxFitContext:
    """What a fitted model keeps to compute diagnostics later (sorted order = ``layout.order``)."""

    design: CoxDesign
    layout: RiskSetLayout
    x_centred: np.ndarray  # sorted, centred at ``means`` (column-major)
    scale: np.ndarray  # the fit's parametrisation: beta_scaled = beta / scale
    offset: np.ndarray | None  # sorted
    means: np.ndarray
    ties: str

    def state(self, beta: np.ndarray, *, info: bool = False, offset: bool = True) -> CoxState:
        """Breslow/Efron state at ``beta`` on the centred covariates (exact fits use Efron terms)."""
        return self.layout.evaluate(self.x_centred, beta, self.offset if offset else None, info=info)
