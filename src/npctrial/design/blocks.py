"""Stratified permuted-block randomisation with random block sizes.

Algorithm (ICH E9 section 2.3.1; Matts & Lachin 1988, "Properties of permuted-block
randomization in clinical trials", Control Clin Trials 9:327-344; statistics.md section 12):

1. Validate the arms, the allocation ratio and the block sizes: every block size must be a
   multiple of the ratio total (1:1 -> 2, 4, 6; 2:1 -> 3, 6, ...).
2. Strata are the cross-classification of the stratification factors' levels; each stratum has
   an independent sequence drawn from a numpy PCG64 generator seeded with SHA-256(seed, stratum),
   so a stratum's sequence depends only on the seed and its own label (no hidden state, and
   adding a stratum never changes another one).
3. Per block: draw its size uniformly from ``block_sizes``; fill it with ``size * r_k / sum(r)``
   copies of arm ``k``; permute at random.
4. The schedule is exported as CSV and fingerprinted with SHA-256 of the exact CSV bytes, so
   a stored copy can be verified with ``sha256sum``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from npctrial.design._streams import check_seed, seeded_generator
from npctrial.design._validate import (
    check_arms,
    check_count,
    check_factors,
    check_patient_levels,
    check_ratio,
)
from npctrial.errors import ValidationError

UNSTRATIFIED = "all"
_SCHEDULE_COLUMNS = ("stratum", "sequence", "block", "block_size", "position_in_block", "arm")


@dataclass(frozen=True)
class ScheduleEntry:
    """One slot of an allocation schedule (``sequence`` and ``block`` count from 1)."""

    stratum: str
    sequence: int
    block: int
    block_size: int
    position_in_block: int
    arm: str


@dataclass(frozen=True)
class AllocationSchedule:
    """A pre-generated allocation list for one or more strata, exportable and verifiable."""

    arms: tuple[str, ...]
    ratio: tuple[int, ...]
    block_sizes: tuple[int, ...]
    seed: int
    entries: tuple[ScheduleEntry, ...]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def strata(self) -> tuple[str, ...]:
        """Stratum labels in order of first appearance."""
        return tuple(dict.fromkeys(e.stratum for e in self.entries))

    def to_frame(self, *, conceal_blocks: bool = False) -> pd.DataFrame:
        """One row per slot; ``conceal_blocks`` drops block and block-size columns (for sites)."""
        frame = pd.DataFrame(
            [[getattr(e, c) for c in _SCHEDULE_COLUMNS] for e in self.entries],
            columns=list(_SCHEDULE_COLUMNS),
        )
        if conceal_blocks:
            frame = frame.drop(columns=["block", "block_size", "position_in_block"])
        return frame

    def to_csv(self, path: str | Path | None = None, *, conceal_blocks: bool = False) -> str:
        """The schedule as CSV text (``\\n`` line ends, UTF-8); also written to ``path`` if given."""
        text = self.to_frame(conceal_blocks=conceal_blocks).to_csv(index=False, lineterminator="\n")
        if path is not None:
            Path(path).write_bytes(text.encode("utf-8"))
        return text

    def sha256(self, *, conceal_blocks: bool = False) -> str:
        """Hex SHA-256 of the CSV bytes (equals ``sha256sum`` of the exported file)."""
        return hashlib.sha256(self.to_csv(conceal_blocks=conceal_blocks).encode("utf-8")).hexdigest()

    def verify(self, expected_sha256: str, *, conceal_blocks: bool = False) -> bool:
        """True if the schedule's hash equals ``expected_sha256`` (case-insensitive)."""
        return self.sha256(conceal_blocks=conceal_blocks) == expected_sha256.strip().lower()

    def counts(self) -> pd.DataFrame:
        """Number of slots per stratum and arm."""
        frame = self.to_frame()
        table = pd.crosstab(frame["stratum"], frame["arm"]).reindex(columns=list(self.arms))
        return table.fillna(0).astype(int)

    def summary(self) -> str:
        ratio = ":".join(str(r) for r in self.ratio)
        lines = [
            f"Permuted-block allocation schedule: arms {', '.join(self.arms)} in ratio {ratio}, "
            f"block sizes drawn at random from {list(self.block_sizes)}, seed {self.seed}.",
            f"{len(self.entries)} slots in {len(self.strata)} stratum/strata; "
            f"SHA-256 of the CSV export: {self.sha256()}.",
        ]
        counts = self.counts()
        for stratum, row in counts.iterrows():
            parts = ", ".join(f"{arm} {int(row[arm])}" for arm in self.arms)
            lines.append(f"  {stratum}: {parts}")
        return "\n".join(lines)


@dataclass(frozen=True)
class PermutedBlockRandomiser:
    """Stratified permuted-block randomisation; every output is a pure function of the seed.

    ``strata`` is either a mapping ``factor -> levels`` (strata are all combinations, labelled
    ``"stage=III|centre=A"``), an explicit sequence of stratum labels, or ``None`` (one stratum
    labelled ``"all"``). Use :meth:`schedule` to generate a list in advance, or
    :meth:`next_assignment` from an EDC that stores how many patients each stratum has.
    """

    arms: tuple[str, ...]
    ratio: tuple[int, ...] = (1, 1)
    block_sizes: tuple[int, ...] = (4, 6)
    strata: Mapping[str, Sequence[str]] | Sequence[str] | None = None
    seed: int = 0
    _factors: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _labels: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arms = check_arms(self.arms)
        ratio = check_ratio(self.ratio, len(arms))
        total = sum(ratio)
        if isinstance(self.block_sizes, str) or not isinstance(self.block_sizes, Sequence):
            raise ValidationError(
                f"block_sizes must be a sequence of integers, got {self.block_sizes!r}",
                field="block_sizes",
            )
        if len(self.block_sizes) == 0:
            raise ValidationError("block_sizes must not be empty", field="block_sizes")
        sizes = tuple(check_count(b, "block_sizes", minimum=1) for b in self.block_sizes)
        for b in sizes:
            if b % total:
                raise ValidationError(
                    f"block size {b} is not a multiple of the ratio total {total} "
                    f"(ratio {':'.join(map(str, ratio))})",
                    field="block_sizes",
                )
        if len(set(sizes)) != len(sizes):
            raise ValidationError(f"block_sizes contains duplicates: {sizes}", field="block_sizes")
        seed = check_seed(self.seed)
        factors: dict[str, tuple[str, ...]] = {}
        if self.strata is None:
            labels: tuple[str, ...] = (UNSTRATIFIED,)
        elif isinstance(self.strata, Mapping):
            factors = check_factors(self.strata, field="strata")
            if not factors:
                raise ValidationError("strata must contain at least one factor", field="strata")
            labels = tuple(
                "|".join(f"{f}={lv}" for f, lv in zip(factors, combo, strict=True))
                for combo in itertools.product(*factors.values())
            )
        elif isinstance(self.strata, Sequence) and not isinstance(self.strata, str):
            labels = tuple(str(s) for s in self.strata)
            if not labels or len(set(labels)) != len(labels) or any(not s for s in labels):
                raise ValidationError(
                    f"strata must be distinct non-empty labels, got {self.strata!r}", field="strata"
                )
        else:
            raise ValidationError(
                f"strata must be a mapping factor -> levels or a list of labels, got {self.strata!r}",
                field="strata",
            )
        object.__setattr__(self, "arms", arms)
        object.__setattr__(self, "ratio", ratio)
        object.__setattr__(self, "block_sizes", sizes)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "_factors", factors)
        object.__setattr__(self, "_labels", labels)

    @property
    def stratum_labels(self) -> tuple[str, ...]:
        """Every stratum label, in the order of the factor levels."""
        return self._labels

    @property
    def factors(self) -> dict[str, tuple[str, ...]]:
        """The stratification factors and their levels (empty if strata are plain labels)."""
        return dict(self._factors)

    def stratum_label(self, stratum: Mapping[str, object] | str | None = None) -> str:
        """Canonical label of ``stratum`` (a label, or a mapping factor -> level)."""
        if stratum is None:
            if self._labels == (UNSTRATIFIED,):
                return UNSTRATIFIED
            raise ValidationError("stratum is required for a stratified schedule", field="stratum")
        if isinstance(stratum, Mapping):
            if not self._factors:
                raise ValidationError(
                    "this randomiser's strata are plain labels: pass the label", field="stratum"
                )
            levels = check_patient_levels(stratum, self._factors, field="stratum")
            return "|".join(f"{f}={levels[f]}" for f in self._factors)
        label = str(stratum)
        if label not in self._labels:
            raise ValidationError(
                f"unknown stratum {label!r}; expected one of {list(self._labels)}", field="stratum"
            )
        return label

    def _blocks(self, label: str) -> Iterator[tuple[int, np.ndarray]]:
        rng = seeded_generator(self.seed, "permuted-blocks", label)
        total = sum(self.ratio)
        while True:
            size = self.block_sizes[int(rng.integers(len(self.block_sizes)))]
            content = np.repeat(np.arange(len(self.arms)), [r * size // total for r in self.ratio])
            yield size, rng.permutation(content)

    def _entries(self, label: str, n: int) -> list[ScheduleEntry]:
        out: list[ScheduleEntry] = []
        if n == 0:
            return out
        for block_no, (size, block) in enumerate(self._blocks(label), start=1):
            for pos, arm_index in enumerate(block, start=1):
                out.append(
                    ScheduleEntry(label, len(out) + 1, block_no, size, pos, self.arms[arm_index])
                )
                if len(out) == n:
                    return out
        raise AssertionError("unreachable")  # pragma: no cover

    def schedule(self, stratum: Mapping[str, object] | str | None = None, n: int = 100
                 ) -> AllocationSchedule:
        """The first ``n`` slots of one stratum's sequence (complete blocks are not forced)."""
        label = self.stratum_label(stratum)
        n = check_count(n, "n")
        return AllocationSchedule(
            self.arms, self.ratio, self.block_sizes, self.seed, tuple(self._entries(label, n))
        )

    def schedule_all(self, n_per_stratum: int) -> AllocationSchedule:
        """The first ``n_per_stratum`` slots of every stratum, strata in label order."""
        n = check_count(n_per_stratum, "n_per_stratum")
        entries = [e for label in self._labels for e in self._entries(label, n)]
        return AllocationSchedule(self.arms, self.ratio, self.block_sizes, self.seed, tuple(entries))

    def next_assignment(self, stratum: Mapping[str, object] | str | None, position: int
                        ) -> ScheduleEntry:
        """The slot for the patient after ``position`` already randomised in ``stratum``.

        Deterministic from (seed, stratum, position): the EDC stores only the count.
        """
        label = self.stratum_label(stratum)
        position = check_count(position, "position")
        return self._entries(label, position + 1)[-1]
