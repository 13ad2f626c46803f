"""Monte Carlo operating characteristics of designs and balance of randomisation schemes.

``simulate_operating_characteristics`` (vectorised over trials, in chunks):

1. Simon two-stage: ``X1 ~ Bin(n1, p)``, ``X2 ~ Bin(n - n1, p)``; stop if ``X1 <= r1``;
   reject H0 if not stopped and ``X1 + X2 > r``. Single stage: reject if ``X >= r``.
2. Two-arm survival (log-rank): ``N`` patients, ``round(N * allocation)`` experimental; entry
   uniform on (0, R); event times exponential (control hazard, experimental = HR x control);
   exponential dropout (hazard eta); analysis at T = R + F. Two-group log-rank Z
   (:mod:`npctrial.design._logrank`); reject if ``|Z| > z_{1-alpha/2}`` (two-sided) or
   ``Z`` beyond ``z_{1-alpha}`` in the design's direction (one-sided).
3. One-arm exponential: ``lambda_hat = D / total time``; reject if
   ``(ln lambda_hat - ln lambda0) sqrt(D)`` is beyond the critical value toward the alternative.
4. Monte Carlo SE: ``sqrt(p(1 - p)/n_sims)`` for rates, ``sd/sqrt(n_sims)`` for means.

``simulate_balance``: the same simulated patients (factor levels drawn independently from
``factor_distributions``) are allocated by each randomiser; reported per scheme: final
imbalance of arm totals, worst and total within-stratum imbalance (strata = all factor
combinations), worst factor-level imbalance (all ratio-adjusted ranges), and the rate of
correct guesses of the next allocation by an observer who knows the history and guesses
the arm that restores balance (Blackwell & Hodges 1957 convergence strategy; for
minimisation, the arm(s) minimising G) -- 1/K means unpredictable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from npctrial.design._logrank import compute_logrank_batch
from npctrial.design._streams import check_seed, compute_digest, compute_uniform, seeded_generator
from npctrial.design._validate import check_count, check_positive, check_probability
from npctrial.design.blocks import UNSTRATIFIED, PermutedBlockRandomiser
from npctrial.design.minimisation import Minimisation
from npctrial.design.simon import SimonDesign
from npctrial.design.single_stage import SingleStageDesign
from npctrial.design.survival_size import SurvivalDesign
from npctrial.errors import ValidationError

Progress = Callable[[int, int], None]
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class OperatingRow:
    """Simulated (and, where available, exact) characteristics at one true parameter value."""

    true_value: float
    rejection_rate: float
    rejection_se: float
    exact_rejection: float | None = None
    pet: float | None = None
    pet_se: float | None = None
    expected_n: float | None = None
    expected_n_se: float | None = None
    mean_events: float | None = None
    mean_events_se: float | None = None


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Monte Carlo operating characteristics of a design at several true values."""

    design_type: str
    parameter: str
    null_value: float
    alternative_value: float
    n_sims: int
    seed: int
    rows: tuple[OperatingRow, ...]

    def _row(self, value: float) -> OperatingRow | None:
        for row in self.rows:
            if math.isclose(row.true_value, value, rel_tol=1e-12, abs_tol=1e-12):
                return row
        return None

    @property
    def type_i_error(self) -> float | None:
        row = self._row(self.null_value)
        return None if row is None else row.rejection_rate

    @property
    def power(self) -> float | None:
        row = self._row(self.alternative_value)
        return None if row is None else row.rejection_rate

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame([r.__dict__ for r in self.rows]).rename(
            columns={"true_value": self.parameter}
        )
        return frame.dropna(axis=1, how="all")

    def summary(self) -> str:
        lines = [
            f"Simulated operating characteristics of a {self.design_type} design "
            f"({self.n_sims} simulated trials per scenario, seed {self.seed}); "
            f"H0: {self.parameter} = {self.null_value:g}, H1: {self.parameter} = "
            f"{self.alternative_value:g}."
        ]
        for r in self.rows:
            label = "type I error" if math.isclose(r.true_value, self.null_value) else (
                "power" if math.isclose(r.true_value, self.alternative_value) else
                "P(reject H0)")
            text = (f"  {self.parameter} = {r.true_value:g}: {label} {r.rejection_rate:.4f} "
                    f"(MC SE {r.rejection_se:.4f})")
            if r.exact_rejection is not None:
                text += f", exact {r.exact_rejection:.4f}"
            if r.pet is not None:
                text += f"; early stopping {r.pet:.4f} (SE {r.pet_se:.4f})"
            if r.expected_n is not None:
                text += f"; expected N {r.expected_n:.2f} (SE {r.expected_n_se:.2f})"
            if r.mean_events is not None:
                text += f"; mean events {r.mean_events:.1f}"
            lines.append(text + ".")
        return "\n".join(lines)


def _rate(hits: int, n: int) -> tuple[float, float]:
    p = hits / n
    return p, math.sqrt(p * (1 - p) / n)


def _mean(total: float, total_sq: float, n: int) -> tuple[float, float]:
    m = total / n
    var = max(total_sq / n - m * m, 0.0) * n / max(n - 1, 1)
    return m, math.sqrt(var / n)


def _chunks(n_sims: int, cells_per_sim: int) -> list[int]:
    size = max(1, min(n_sims, _CHUNK_CELLS // max(cells_per_sim, 1)))
    out = [size] * (n_sims // size)
    if n_sims % size:
        out.append(n_sims % size)
    return out


def _simulate_binary(design: SimonDesign | SingleStageDesign, p: float, n_sims: int,
                     rng: np.random.Generator) -> OperatingRow:
    if isinstance(design, SimonDesign):
        x1 = rng.binomial(design.n1, p, n_sims)
        x2 = rng.binomial(design.n - design.n1, p, n_sims)
        stop = x1 <= design.r1
        reject = ~stop & (x1 + x2 > design.r)
        size = np.where(stop, design.n1, design.n).astype(float)
        rate, se = _rate(int(reject.sum()), n_sims)
        pet, pet_se = _rate(int(stop.sum()), n_sims)
        en, en_se = _mean(float(size.sum()), float((size**2).sum()), n_sims)
        return OperatingRow(p, rate, se, design.rejection_probability(p), pet, pet_se, en, en_se)
    x = rng.binomial(design.n, p, n_sims)
    rate, se = _rate(int((x >= design.r).sum()), n_sims)
    return OperatingRow(p, rate, se, design.rejection_probability(p), expected_n=float(design.n),
                        expected_n_se=0.0)


def _survival_times(rng: np.random.Generator, hazards: np.ndarray, m: int, d: SurvivalDesign
                    ) -> tuple[np.ndarray, np.ndarray]:
    n = hazards.size
    entry = rng.uniform(0.0, d.accrual_time or 0.0, (m, n))
    t_event = rng.exponential(1.0, (m, n)) / hazards
    window = (d.accrual_time or 0.0) + (d.follow_up or 0.0) - entry
    cens = window
    if d.dropout > 0:
        cens = np.minimum(window, rng.exponential(1.0 / d.dropout, (m, n)))
    event = t_event <= cens
    return np.where(event, t_event, cens), event


def _simulate_survival(design: SurvivalDesign, hr: float, n_sims: int, rng: np.random.Generator,
                       progress: Progress | None, done: int, total: int) -> OperatingRow:
    n = int(design.patients or 0)
    lam0 = float(design.hazard_control or 0.0)
    one_arm = design.method == "one-arm exponential"
    direction = -1.0 if design.hazard_ratio < 1 else 1.0
    crit = stats.norm.isf(design.alpha / design.sided)
    hits = 0
    ev_sum = ev_sq = 0.0
    for m in _chunks(n_sims, n):
        if one_arm:
            time, event = _survival_times(rng, np.full(n, lam0 * hr), m, design)
            d = event.sum(axis=1).astype(float)
            lam_hat = np.divide(d, time.sum(axis=1), out=np.zeros_like(d), where=d > 0)
            z = np.where(d > 0, (np.log(np.where(d > 0, lam_hat, 1.0)) - math.log(lam0))
                         * np.sqrt(d), 0.0)
        else:
            n_exp = int(round(n * design.allocation))
            group = np.zeros(n, dtype=bool)
            group[:n_exp] = True
            hazards = np.where(group, lam0 * hr, lam0)
            time, event = _survival_times(rng, hazards, m, design)
            _, _, z = compute_logrank_batch(time, event, np.broadcast_to(group, (m, n)))
            d = event.sum(axis=1).astype(float)
        reject = np.abs(z) > crit if design.sided == 2 else direction * z > crit
        hits += int(reject.sum())
        ev_sum += float(d.sum())
        ev_sq += float((d**2).sum())
        done += m
        if progress is not None:
            progress(done, total)
    rate, se = _rate(hits, n_sims)
    mean_ev, mean_ev_se = _mean(ev_sum, ev_sq, n_sims)
    return OperatingRow(hr, rate, se, expected_n=float(n), expected_n_se=0.0,
                        mean_events=mean_ev, mean_events_se=mean_ev_se)


def simulate_operating_characteristics(
    design: SimonDesign | SingleStageDesign | SurvivalDesign,
    true_rates: Sequence[float] | None = None,
    n_sims: int = 10_000,
    seed: int = 0,
    *,
    progress: Progress | None = None,
) -> OperatingCharacteristics:
    """Simulate ``n_sims`` trials per true value.

    ``true_rates`` are response rates for binary designs (default ``(p0, p1)``) and hazard
    ratios for survival designs (default ``(1, design HR)``; the control or historical hazard
    is the design's). ``progress(done, total)`` is called after each chunk of trials.
    """
    n_sims = check_count(n_sims, "n_sims", minimum=1)
    seed = check_seed(seed)
    if isinstance(design, SimonDesign | SingleStageDesign):
        values = (design.p0, design.p1) if true_rates is None else tuple(
            check_probability(p, "true_rates", open_low=False, open_high=False)
            for p in true_rates)
        rows = []
        for i, p in enumerate(values):
            rows.append(_simulate_binary(design, p, n_sims, seeded_generator(seed, "oc", i)))
            if progress is not None:
                progress((i + 1) * n_sims, len(values) * n_sims)
        kind = "Simon two-stage" if isinstance(design, SimonDesign) else "single-stage"
        return OperatingCharacteristics(kind, "response_rate", design.p0, design.p1, n_sims, seed,
                                        tuple(rows))
    if isinstance(design, SurvivalDesign):
        if design.patients is None or design.hazard_control is None or \
                design.accrual_time is None or design.follow_up is None:
            raise ValidationError(
                "simulating a survival design needs patients, a control hazard, accrual_time "
                "and follow_up (give accrual and the control median when sizing it)",
                field="design",
            )
        values = (1.0, design.hazard_ratio) if true_rates is None else tuple(
            check_positive(v, "true_rates") for v in true_rates)
        rows = [
            _simulate_survival(design, hr, n_sims, seeded_generator(seed, "oc", i), progress,
                               i * n_sims, len(values) * n_sims)
            for i, hr in enumerate(values)
        ]
        kind = "one-arm exponential" if design.method == "one-arm exponential" else \
            f"two-arm log-rank ({design.method}-sized)"
        return OperatingCharacteristics(kind, "hazard_ratio", 1.0, design.hazard_ratio, n_sims,
                                        seed, tuple(rows))
    raise ValidationError(
        f"design must be a SimonDesign, SingleStageDesign or SurvivalDesign, got "
        f"{type(design).__name__}", field="design")


# --------------------------------------------------------------------------- balance


@dataclass(frozen=True)
class BalanceResult:
    """Balance and predictability of one or more randomisation schemes (one row each)."""

    n_patients: int
    n_sims: int
    seed: int
    methods: tuple[str, ...]
    metrics: tuple[Mapping[str, float], ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.metrics), index=pd.Index(self.methods, name="method"))

    def summary(self) -> str:
        lines = [f"Balance of {len(self.methods)} randomisation scheme(s): {self.n_sims} "
                 f"simulated trials of {self.n_patients} patients (seed {self.seed}); means "
                 f"over simulations, imbalance = max - min of ratio-adjusted arm counts."]
        for method, m in zip(self.methods, self.metrics, strict=True):
            lines.append(
                f"  {method}: overall imbalance {m['overall_imbalance_mean']:.2f} "
                f"(95th centile {m['overall_imbalance_p95']:.1f}); worst stratum "
                f"{m['max_stratum_imbalance_mean']:.2f}; total within strata "
                f"{m['total_stratum_imbalance_mean']:.2f}; worst factor level "
                f"{m['max_level_imbalance_mean']:.2f}; correct guesses of the next "
                f"allocation {m['correct_guess_rate']:.3f} (chance {m['chance_guess_rate']:.3f})."
            )
        return "\n".join(lines)


def _check_distributions(factor_distributions: Mapping[str, object]
                         ) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    if not isinstance(factor_distributions, Mapping) or not factor_distributions:
        raise ValidationError("factor_distributions must map factors to level probabilities",
                              field="factor_distributions")
    out = {}
    for name, dist in factor_distributions.items():
        if isinstance(dist, Mapping):
            levels = tuple(str(k) for k in dist)
            probs = np.array([check_positive(v, f"factor_distributions[{name!r}]",
                                             allow_zero=True) for v in dist.values()])
        elif isinstance(dist, Sequence) and not isinstance(dist, str) and dist:
            levels = tuple(str(k) for k in dist)
            probs = np.ones(len(levels))
        else:
            raise ValidationError(f"factor_distributions[{name!r}] must be levels or a mapping "
                                  f"level -> probability", field=f"factor_distributions.{name}")
        if probs.sum() <= 0:
            raise ValidationError(f"factor_distributions[{name!r}] has zero total probability",
                                  field=f"factor_distributions.{name}")
        out[str(name)] = (levels, probs / probs.sum())
    return out


def _method_name(r: PermutedBlockRandomiser | Minimisation) -> str:
    if isinstance(r, PermutedBlockRandomiser):
        strat = "stratified" if r.stratum_labels != (UNSTRATIFIED,) else "unstratified"
        return f"permuted blocks {list(r.block_sizes)} ({strat})"
    return f"minimisation ({r.imbalance}, p_best={r.p_best:g})"


def _check_covered(r: PermutedBlockRandomiser | Minimisation,
                   dists: Mapping[str, tuple[tuple[str, ...], np.ndarray]]) -> None:
    if isinstance(r, PermutedBlockRandomiser):
        if r.stratum_labels != (UNSTRATIFIED,) and not r.factors:
            raise ValidationError("simulate_balance needs strata given as factor -> levels",
                                  field="randomiser")
        needed = r.factors
    elif isinstance(r, Minimisation):
        needed = r.factor_levels
    else:
        raise ValidationError(f"randomiser must be a PermutedBlockRandomiser or Minimisation, "
                              f"got {type(r).__name__}", field="randomiser")
    for name, levels in needed.items():
        if name not in dists:
            raise ValidationError(f"factor_distributions is missing factor {name!r}",
                                  field=f"factor_distributions.{name}")
        extra = set(dists[name][0]) - set(levels)
        if extra:
            raise ValidationError(
                f"factor_distributions[{name!r}] has levels {sorted(extra)} unknown to the "
                f"randomiser", field=f"factor_distributions.{name}")


def _allocate(r: PermutedBlockRandomiser | Minimisation, patients: list[dict[str, str]],
              sim_seed: int) -> tuple[np.ndarray, float]:
    """Arm indices and the expected number of correct guesses."""
    k = len(r.arms)
    ratio = np.asarray(r.ratio, dtype=float)
    arms = np.empty(len(patients), dtype=int)
    correct = 0.0
    if isinstance(r, PermutedBlockRandomiser):
        rr = replace(r, seed=sim_seed)
        labels = [rr.stratum_label({f: p[f] for f in rr.factors} if rr.factors else None)
                  for p in patients]
        needed: dict[str, int] = {}
        for lab in labels:
            needed[lab] = needed.get(lab, 0) + 1
        seqs = {lab: [rr.arms.index(e.arm) for e in rr.schedule(lab, n).entries]
                for lab, n in needed.items()}
        used = dict.fromkeys(needed, 0)
        counts = {lab: np.zeros(k) for lab in needed}
        for i, lab in enumerate(labels):
            arm = seqs[lab][used[lab]]
            used[lab] += 1
            adj = counts[lab] / ratio
            guess = np.flatnonzero(adj == adj.min())
            correct += (arm in guess) / len(guess)
            counts[lab][arm] += 1
            arms[i] = arm
        return arms, correct
    m = replace(r, seed=sim_seed)
    names = list(m.factor_levels)
    level_index = {f: {lv: j for j, lv in enumerate(m.factor_levels[f])} for f in names}
    tallies = [np.zeros((len(m.factor_levels[f]), k)) for f in names]
    totals = np.zeros(k)
    for i, p in enumerate(patients):
        idx = [level_index[f][p[f]] for f in names]
        level_counts = np.array([tallies[j][idx[j]] for j in range(len(names))])
        g = m.compute_scores(level_counts, totals)
        probs, best = m._probabilities(g)
        arm = m._pick(probs, compute_uniform(m.seed, "minimisation", i))
        correct += (arm in best) / len(best)
        for j in range(len(names)):
            tallies[j][idx[j], arm] += 1
        totals[arm] += 1
        arms[i] = arm
    return arms, correct


def simulate_balance(
    randomiser: PermutedBlockRandomiser | Minimisation
    | Sequence[PermutedBlockRandomiser | Minimisation],
    n_patients: int,
    factor_distributions: Mapping[str, Mapping[str, float] | Sequence[str]],
    n_sims: int = 200,
    seed: int = 0,
    *,
    progress: Progress | None = None,
) -> BalanceResult:
    """Compare balance and predictability of randomisation schemes on the same patients.

    ``factor_distributions`` maps each factor to ``{level: probability}`` (or a list of
    equally likely levels) and must cover every factor the schemes use; strata for the
    within-stratum imbalance are all combinations of its factors.
    """
    schemes = list(randomiser) if isinstance(randomiser, Sequence) else [randomiser]
    if not schemes:
        raise ValidationError("randomiser must not be empty", field="randomiser")
    n_patients = check_count(n_patients, "n_patients", minimum=1)
    n_sims = check_count(n_sims, "n_sims", minimum=1)
    seed = check_seed(seed)
    dists = _check_distributions(factor_distributions)
    for r in schemes:
        _check_covered(r, dists)
    factor_names = list(dists)
    strata = list(itertools.product(*(range(len(dists[f][0])) for f in factor_names)))
    stratum_of = {s: j for j, s in enumerate(strata)}
    results: list[dict[str, list[float]]] = [
        {key: [] for key in ("overall", "max_stratum", "total_stratum", "max_level", "guess")}
        for _ in schemes
    ]
    for sim in range(n_sims):
        rng = seeded_generator(seed, "balance-patients", sim)
        codes = np.column_stack([rng.choice(len(dists[f][0]), n_patients, p=dists[f][1])
                                 for f in factor_names])
        patients = [{f: dists[f][0][c] for f, c in zip(factor_names, row, strict=True)}
                    for row in codes]
        stratum = np.array([stratum_of[tuple(row)] for row in codes])
        sim_seed = int.from_bytes(compute_digest(seed, "balance-scheme", sim)[:7], "big")
        for r, res in zip(schemes, results, strict=True):
            arms, correct = _allocate(r, patients, sim_seed)
            k, ratio = len(r.arms), np.asarray(r.ratio, dtype=float)
            onehot = np.eye(k)[arms]

            def spread(c: np.ndarray, ratio: np.ndarray = ratio) -> np.ndarray:
                adj = c / ratio
                return adj.max(axis=-1) - adj.min(axis=-1)

            res["overall"].append(float(spread(onehot.sum(axis=0))))
            by_stratum = np.zeros((len(strata), k))
            np.add.at(by_stratum, stratum, onehot)
            occupied = by_stratum.sum(axis=1) > 0
            sp = spread(by_stratum)[occupied]
            res["max_stratum"].append(float(sp.max()))
            res["total_stratum"].append(float(sp.sum()))
            worst = 0.0
            for j, f in enumerate(factor_names):
                lv = np.zeros((len(dists[f][0]), k))
                np.add.at(lv, codes[:, j], onehot)
                worst = max(worst, float(spread(lv)[lv.sum(axis=1) > 0].max()))
            res["max_level"].append(worst)
            res["guess"].append(correct / n_patients)
        if progress is not None:
            progress(sim + 1, n_sims)
    metrics = []
    for r, res in zip(schemes, results, strict=True):
        row: dict[str, float] = {}
        for key, name in (("overall", "overall_imbalance"), ("max_stratum", "max_stratum_imbalance"),
                          ("total_stratum", "total_stratum_imbalance"),
                          ("max_level", "max_level_imbalance")):
            v = np.asarray(res[key])
            row[f"{name}_mean"] = float(v.mean())
            row[f"{name}_p95"] = float(np.quantile(v, 0.95))
            row[f"{name}_max"] = float(v.max())
        g = np.asarray(res["guess"])
        row["correct_guess_rate"] = float(g.mean())
        row["correct_guess_se"] = float(g.std(ddof=1) / math.sqrt(n_sims)) if n_sims > 1 else 0.0
        row["chance_guess_rate"] = 1.0 / len(r.arms)
        metrics.append(row)
    return BalanceResult(n_patients, n_sims, seed, tuple(_method_name(r) for r in schemes),
                         tuple(metrics))
