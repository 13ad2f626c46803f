"""What a fitted Cox model keeps for its diagnostics (residuals, cox.zph, baseline hazard,
predictions): the design, the sorted risk-set layout and the centred, scaled covariates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from npctrial.survival.cox.design_matrix import CoxDesign
from npctrial.survival.cox.engine import CoxState, RiskSetLayout

__all__ = ["CoxFitContext"]


@dataclass(frozen=True)
class CoxFitContext:
    """What a fitted model keeps to compute diagnostics later (sorted order = ``layout.order``)."""

    design: CoxDesign
    layout: RiskSetLayout
    x_scaled: np.ndarray  # sorted, centred at ``means`` and multiplied by ``scale`` (column-major)
    scale: np.ndarray
    offset: np.ndarray | None  # sorted
    means: np.ndarray
    ties: str

    @cached_property
    def x_centred(self) -> np.ndarray:
        """Sorted covariates centred at ``means`` (built on first use by the diagnostics)."""
        return self.x_scaled / self.scale

    def state(self, beta: np.ndarray, *, info: bool = False, offset: bool = True) -> CoxState:
        """Breslow/Efron state at ``beta`` on the centred covariates (exact fits use Efron terms)."""
        return self.layout.evaluate(self.x_centred, beta, self.offset if offset else None, info=info)
