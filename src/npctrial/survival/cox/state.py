"""What one evaluation of the Cox partial likelihood at ``beta`` produces (:mod:`.engine`).

Per-row and per-term arrays that only the diagnostics read are not kept as such: they are
rebuilt on first use, bit for bit as the evaluation formed them, from per-group or per-segment
values:

1. the Efron-adjusted cumulative hazard Lambda_i (``lam``) is constant within a layout segment
   without entry times: kept per segment with the rows per segment, repeated on first use;
2. the per-term phi_k = A_g - f_k B_g and h_k = c_k / phi_k (``phi``, ``hazard``) from the group
   sums A_g, B_g and the layout's per-term f_k, c_k (:func:`~.tie_terms.term_values`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from npctrial.survival.cox.tie_terms import term_values

__all__ = ["CoxState"]


@dataclass(frozen=True)
class CoxState:
    """Everything one evaluation at ``beta`` produces (sorted order)."""

    beta: np.ndarray
    risk: np.ndarray  # exp(eta)
    loglik: float
    score: np.ndarray  # U
    info: np.ndarray | None  # I
    a0: np.ndarray  # (groups,) risk-set sums of w e^eta
    b0: np.ndarray  # (groups,) event sums of w e^eta
    a1: np.ndarray  # (groups, p) risk-set sums of w e^eta x
    b1: np.ndarray  # (groups, p) event sums of w e^eta x
    term_frac: np.ndarray  # f_k per tie term (the layout's)
    term_coef: np.ndarray | None  # c_k per tie term (None: every c_k is 1)
    term_d: np.ndarray  # tie terms per group
    lam_by: np.ndarray  # Efron-adjusted cumulative hazard (at unit risk) per segment, or per row
    lam_len: np.ndarray | None  # rows per segment (None: lam_by is per sorted row)
    group_hazard: np.ndarray  # sum of h_k per group
    group_e1: np.ndarray  # sum of f_k h_k per group

    @cached_property
    def lam(self) -> np.ndarray:
        """Efron-adjusted cumulative hazard per sorted row (at unit risk); step 1."""
        return self.lam_by if self.lam_len is None else np.repeat(self.lam_by, self.lam_len)

    @cached_property
    def _terms(self) -> tuple[np.ndarray, np.ndarray]:
        return term_values(self.a0, self.b0, self.term_frac, self.term_coef, self.term_d)

    @property
    def phi(self) -> np.ndarray:
        """phi_k per tie term; step 2."""
        return self._terms[0]

    @property
    def hazard(self) -> np.ndarray:
        """h_k per tie term; step 2."""
        return self._terms[1]
