"""Reproducible random streams derived from a seed and a label, with no global state.

Every random quantity in :mod:`npctrial.design` is a pure function of the user's ``seed`` and
a label naming what the draw is for (a stratum, a patient's sequence number, a simulation run).
The label and the seed are hashed with SHA-256, so two labels never share a stream and the
stream does not depend on the order in which other strata or patients were processed.
"""

from __future__ import annotations

import hashlib

import numpy as np

from npctrial.errors import ValidationError


def check_seed(seed: object, *, field: str = "seed") -> int:
    """Return ``seed`` as a non-negative ``int`` or raise :class:`ValidationError`."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValidationError(f"{field} must be a non-negative integer, got {seed!r}", field=field)
    if seed < 0:
        raise ValidationError(f"{field} must be a non-negative integer, got {seed}", field=field)
    return int(seed)


def compute_digest(seed: int, *labels: object) -> bytes:
    """SHA-256 digest of ``seed`` and ``labels`` (joined unambiguously)."""
    text = "\x1f".join([f"npctrial-design-v1:{seed}", *(repr(label) for label in labels)])
    return hashlib.sha256(text.encode("utf-8")).digest()


def seeded_generator(seed: int, *labels: object) -> np.random.Generator:
    """A numpy PCG64 generator seeded from SHA-256(seed, labels)."""
    entropy = int.from_bytes(compute_digest(seed, *labels), "big")
    return np.random.Generator(np.random.PCG64(entropy))


def compute_uniform(seed: int, *labels: object) -> float:
    """A uniform draw in [0, 1) from SHA-256(seed, labels), independent of numpy versions.

    Uses the first 53 bits of the digest, so the value is an exact double.
    """
    value = int.from_bytes(compute_digest(seed, *labels)[:8], "big") >> 11
    return value / float(1 << 53)
