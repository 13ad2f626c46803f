"""Pocock-Simon minimisation (Pocock & Simon 1975, Biometrics 31:103-115).

Algorithm (statistics.md section 12):

1. Validate the new patient's level of every factor (missing factor or unknown level ->
   :class:`ValidationError` naming it).
2. For every factor ``i`` and arm ``k`` count ``n_ik``, the patients already on arm ``k`` with
   the new patient's level of factor ``i`` (from ``history``).
3. For each candidate arm ``a``: add 1 to ``n_ia``, divide the counts by the allocation ratio
   ``r_k`` (unequal allocation, Pocock & Simon section 3), and take the imbalance ``d_i(a)``:
   the range (max - min), the variance (population, ddof = 0) or the SD across arms.
4. ``G(a) = sum_i w_i d_i(a)`` (weights default to 1; optionally the overall arm totals count
   as an extra factor, ``overall_weight``).
5. A unique minimiser of ``G`` gets probability ``p_best``, every other arm
   ``(1 - p_best)/(K - 1)``. If several arms tie for the minimum, one of the tied arms is chosen
   with equal probability (so with all arms tied, a fair draw).
6. The draw ``u`` in [0, 1) is SHA-256(seed, sequence number) where the sequence number defaults
   to ``len(history)``: the allocation is reproducible from the seed and the history alone.
   The arm is the first whose cumulative probability (arms in declared order) exceeds ``u``.

The returned :class:`Allocation` logs every ``G(a)``, the probabilities and the draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from npctrial.design._streams import check_seed, compute_uniform
from npctrial.design._validate import (
    check_arms,
    check_count,
    check_factors,
    check_patient_levels,
    check_positive,
    check_probability,
    check_ratio,
)
from npctrial.errors import ValidationError

ImbalanceMeasure = Literal["range", "variance", "sd"]
_MEASURES = ("range", "variance", "sd")


@dataclass(frozen=True)
class Allocation:
    """The arm chosen for one patient and everything that justified it."""

    arm: str
    sequence_number: int
    patient_factors: Mapping[str, str]
    scores: Mapping[str, float]
    probabilities: Mapping[str, float]
    random_draw: float
    minimisers: tuple[str, ...]

    @property
    def deterministic(self) -> bool:
        """True if the chosen arm had probability 1."""
        return self.probabilities[self.arm] >= 1.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable record for an audit log (plain dicts, lists and numbers)."""
        return {
            "arm": self.arm,
            "sequence_number": self.sequence_number,
            "patient_factors": dict(self.patient_factors),
            "scores": dict(self.scores),
            "probabilities": dict(self.probabilities),
            "random_draw": self.random_draw,
            "minimisers": list(self.minimisers),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per arm: imbalance score G(a) and allocation probability."""
        return pd.DataFrame(
            {
                "arm": list(self.scores),
                "score": list(self.scores.values()),
                "probability": [self.probabilities[a] for a in self.scores],
                "chosen": [a == self.arm for a in self.scores],
            }
        )

    def summary(self) -> str:
        levels = ", ".join(f"{k}={v}" for k, v in self.patient_factors.items())
        scores = ", ".join(f"G({a})={g:.4g}" for a, g in self.scores.items())
        probs = ", ".join(f"{a} {p:.3f}" for a, p in self.probabilities.items())
        return (
            f"Patient {self.sequence_number + 1} ({levels}) allocated to {self.arm}. "
            f"Imbalance if allocated to each arm: {scores}; minimiser(s): "
            f"{', '.join(self.minimisers)}. Allocation probabilities: {probs}; "
            f"random draw u = {self.random_draw:.6f}."
        )


def _imbalance(counts: np.ndarray, measure: str) -> np.ndarray:
    """Imbalance over the last axis (arms)."""
    if measure == "range":
        return counts.max(axis=-1) - counts.min(axis=-1)
    var = counts.var(axis=-1)
    return var if measure == "variance" else np.sqrt(var)


@dataclass(frozen=True)
class Minimisation:
    """Pocock-Simon minimisation; :meth:`assign` is a pure function of (seed, history, patient)."""

    arms: tuple[str, ...]
    factors: Mapping[str, Sequence[str]]
    weights: Mapping[str, float] | None = None
    imbalance: ImbalanceMeasure = "range"
    p_best: float = 0.8
    seed: int = 0
    ratio: tuple[int, ...] | None = None
    overall_weight: float = 0.0
    _levels: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _weights: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arms = check_arms(self.arms)
        levels = check_factors(self.factors)
        if not levels:
            raise ValidationError("factors must contain at least one factor", field="factors")
        weights = dict(self.weights or {})
        for name in weights:
            if name not in levels:
                raise ValidationError(
                    f"weights names unknown factor {name!r}; factors are {list(levels)}",
                    field="weights",
                )
        w = np.array(
            [check_positive(weights.get(f, 1.0), f"weights[{f!r}]", allow_zero=True) for f in levels]
        )
        if self.imbalance not in _MEASURES:
            raise ValidationError(
                f"imbalance must be one of {list(_MEASURES)}, got {self.imbalance!r}",
                field="imbalance",
            )
        p_best = check_probability(self.p_best, "p_best", open_high=False)
        if p_best < 1 / len(arms):
            raise ValidationError(
                f"p_best must be >= 1/{len(arms)} (the number of arms), got {p_best}",
                field="p_best",
            )
        object.__setattr__(self, "arms", arms)
        object.__setattr__(self, "ratio", check_ratio(self.ratio, len(arms)))
        object.__setattr__(self, "seed", check_seed(self.seed))
        object.__setattr__(self, "p_best", p_best)
        object.__setattr__(
            self, "overall_weight", check_positive(self.overall_weight, "overall_weight",
                                                   allow_zero=True)
        )
        object.__setattr__(self, "_levels", levels)
        object.__setattr__(self, "_weights", w)

    @property
    def factor_levels(self) -> dict[str, tuple[str, ...]]:
        return dict(self._levels)

    def check_patient(self, patient_factors: Mapping[str, object], *, row: int | None = None
                      ) -> dict[str, str]:
        """The patient's validated levels (raises ValidationError naming the factor)."""
        return check_patient_levels(patient_factors, self._levels, row=row)

    def _history_arrays(self, history: Iterable[object]) -> tuple[list[dict[str, str]], list[int]]:
        patients: list[dict[str, str]] = []
        arms: list[int] = []
        for i, item in enumerate(history):
            if isinstance(item, Allocation):
                factors, arm = item.patient_factors, item.arm
            elif isinstance(item, Mapping) and "arm" in item:
                factors, arm = item, item["arm"]
            elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
                factors, arm = item[0], item[1]
            else:
                raise ValidationError(
                    f"history row {i} must be an Allocation, a (factors, arm) pair or a mapping "
                    f"with an 'arm' key, got {item!r}",
                    field="history",
                    row=i,
                )
            if str(arm) not in self.arms:
                raise ValidationError(
                    f"history row {i} has unknown arm {arm!r}; arms are {list(self.arms)}",
                    field="history.arm",
                    row=i,
                )
            patients.append(check_patient_levels(factors, self._levels, field="history", row=i))
            arms.append(self.arms.index(str(arm)))
        return patients, arms

    def compute_scores(self, level_counts: np.ndarray, totals: np.ndarray | None = None
                       ) -> np.ndarray:
        """G(a) for each candidate arm from ``level_counts`` (factors x arms) (steps 3-4)."""
        k = len(self.arms)
        ratio = np.asarray(self.ratio, dtype=float)
        # trial[a, i, k] = counts with the patient hypothetically on arm a
        trial = np.broadcast_to(level_counts, (k, *level_counts.shape)).astype(float).copy()
        trial[np.arange(k), :, np.arange(k)] += 1.0
        g = (_imbalance(trial / ratio, self.imbalance) * self._weights).sum(axis=1)
        if self.overall_weight > 0 and totals is not None:
            tt = np.broadcast_to(totals, (k, k)).astype(float).copy()
            tt[np.arange(k), np.arange(k)] += 1.0
            g = g + self.overall_weight * _imbalance(tt / ratio, self.imbalance)
        return g

    def _probabilities(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.arms)
        best = np.flatnonzero(np.isclose(g, g.min(), rtol=0.0, atol=1e-12))
        probs = np.zeros(k)
        if len(best) == 1:
            probs[:] = (1.0 - self.p_best) / (k - 1)
            probs[best[0]] = self.p_best
        else:
            probs[best] = 1.0 / len(best)
        return probs, best

    @staticmethod
    def _pick(probs: np.ndarray, u: float) -> int:
        cum = np.cumsum(probs)
        cum[-1] = 1.0
        return int(np.searchsorted(cum, u, side="right"))

    def assign(self, patient_factors: Mapping[str, object], history: Iterable[object] = (), *,
               sequence_number: int | None = None) -> Allocation:
        """Allocate a new patient given every previous allocation (``history``).

        ``history`` items are :class:`Allocation` objects, ``(factors, arm)`` pairs or mappings
        with the factor levels and an ``"arm"`` key. ``sequence_number`` (default
        ``len(history)``) selects the random draw.
        """
        levels = self.check_patient(patient_factors)
        past, past_arms = self._history_arrays(history)
        seq = len(past) if sequence_number is None else check_count(sequence_number,
                                                                     "sequence_number")
        k = len(self.arms)
        counts = np.zeros((len(self._levels), k))
        totals = np.bincount(np.asarray(past_arms, dtype=int), minlength=k).astype(float)
        for i, name in enumerate(self._levels):
            for p, a in zip(past, past_arms, strict=True):
                if p[name] == levels[name]:
                    counts[i, a] += 1
        g = self.compute_scores(counts, totals)
        probs, best = self._probabilities(g)
        u = compute_uniform(self.seed, "minimisation", seq)
        arm = self.arms[self._pick(probs, u)]
        return Allocation(
            arm=arm,
            sequence_number=seq,
            patient_factors=levels,
            scores={a: float(x) for a, x in zip(self.arms, g, strict=True)},
            probabilities={a: float(x) for a, x in zip(self.arms, probs, strict=True)},
            random_draw=u,
            minimisers=tuple(self.arms[i] for i in best),
        )
