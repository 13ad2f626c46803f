"""Exact (discrete conditional) partial likelihood for tied event times, as R's ``ties="exact"``."""

from __future__ import annotations

import numpy as np

from npctrial.survival.cox.engine import RiskSetLayout

__all__ = ["ExactLayout"]


class ExactLayout:
    def __init__(self, layout: RiskSetLayout) -> None:
        self.layout = layout

    def evaluate(self, x: np.ndarray, beta: np.ndarray, offset: np.ndarray | None
                 ) -> tuple[float, np.ndarray, np.ndarray]:
        raise NotImplementedError
