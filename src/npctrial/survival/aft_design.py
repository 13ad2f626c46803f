"""The design of an accelerated failure time fit, X = [1 | (x - center) / sd], and its products.

R's ``survreg.fit`` iterates on centred and scaled covariates (0/1 columns left as they are). The
fit needs X theta, X' a for a few per-observation vectors a, and X' diag(v) X at every Newton
evaluation. With a million rows the n x p temporaries of ``X * v[:, None]`` and of the score
matrix would each stream a hundred megabytes through memory, so:

1. the scaled covariates are built once, column-major (each column contiguous: the centring,
   scaling and every later per-row weighting run along whole columns), without the intercept
   column, which enters every product as a plain sum;
2. every evaluation walks the rows by blocks (:meth:`AftDesign.blocks`) and the caller forms the
   block's per-observation vectors while it is in cache; :class:`Products` adds the block's
   X' a = [sum a, x_b' a] and X' diag(v) X = [[sum v, (x_b' v)'], [x_b' v, x_b' diag(v) x_b]].

Centres are column means, scales the standard deviations (two passes, ``ddof=1``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["AftDesign", "Products"]

_ROWS = 4096


class AftDesign:
    """X = [1 | xs] with ``xs`` the centred and scaled covariates (None: intercept only)."""

    def __init__(self, xs: np.ndarray | None, center: np.ndarray, sd: np.ndarray, n: int) -> None:
        self.xs = None if xs is None or xs.shape[1] == 0 else xs
        self.center, self.sd, self.n = center, sd, n
        self.p = 1 + (0 if self.xs is None else self.xs.shape[1])

    @classmethod
    def of(cls, x: np.ndarray | None, n: int) -> AftDesign:
        """Step 1 (R's rescaling: the non-0/1 columns are centred and scaled, unless every column of
        [1 | x] is 0/1; then centres 0 and scales 1)."""
        k = 0 if x is None else x.shape[1]
        center, sd = np.zeros(k), np.ones(k)
        if x is None or k == 0:
            return cls(None, center, sd, n)
        xs = np.asfortranarray(x, dtype=np.float64)
        if xs is x:
            xs = xs.copy(order="F")
        cols = [xs[:, j] for j in range(k)]
        binary = np.array([bool(np.all((c == 0.0) | (c == 1.0))) for c in cols])
        if not binary.all():
            for j in np.flatnonzero(~binary):
                c = cols[j]
                center[j] = c.sum() / n
                c -= center[j]
                sd[j] = np.sqrt(float(c @ c) / (n - 1))
                c /= sd[j]
        return cls(xs, center, sd, n)

    @property
    def full_center(self) -> np.ndarray:
        return np.r_[0.0, self.center]

    @property
    def full_sd(self) -> np.ndarray:
        return np.r_[1.0, self.sd]

    def eta(self, theta: np.ndarray) -> np.ndarray:
        """X theta on every row."""
        if self.xs is None:
            return np.full(self.n, float(theta[0]))
        return self.xs @ theta[1:self.p] + float(theta[0])

    def blocks(self) -> Iterator[tuple[int, int, np.ndarray | None]]:
        """(first row, end row, those rows of xs) by blocks of rows (None without covariates)."""
        for a in range(0, self.n, _ROWS):
            b = min(a + _ROWS, self.n)
            yield a, b, None if self.xs is None else self.xs[a:b]

    @staticmethod
    def block_eta(xb: np.ndarray | None, theta: np.ndarray, m: int) -> np.ndarray:
        """X theta on one block of rows."""
        return np.full(m, float(theta[0])) if xb is None else xb @ theta[1:] + float(theta[0])

    def products(self, vectors: list[np.ndarray], v: np.ndarray | None = None
                 ) -> tuple[list[np.ndarray], np.ndarray | None]:
        """X' a for each a of ``vectors``, and X' diag(v) X when ``v`` is given."""
        acc = Products(self.p, len(vectors), v is not None)
        for a, b, xb in self.blocks():
            acc.add(xb, [u[a:b] for u in vectors], None if v is None else v[a:b])
        return acc.result()


class Products:
    """Running sums of X' a (for ``n_vectors`` vectors a) and X' diag(v) X over blocks of rows
    (step 2)."""

    def __init__(self, p: int, n_vectors: int, cross: bool) -> None:
        self.vec = [np.zeros(p) for _ in range(n_vectors)]
        self.cross = np.zeros((p, p)) if cross else None
        self._buf = np.empty((_ROWS, p - 1), order="F")

    def add(self, xb: np.ndarray | None, vectors: list[np.ndarray], v: np.ndarray | None) -> None:
        for o, a in zip(self.vec, vectors, strict=True):
            o[0] += a.sum()
            if xb is not None:
                o[1:] += a @ xb
        if self.cross is None or v is None:
            return
        self.cross[0, 0] += v.sum()
        if xb is not None:
            self.cross[0, 1:] += v @ xb
            self.cross[1:, 1:] += np.multiply(xb, v[:, None], out=self._buf[: len(v)]).T @ xb

    def result(self) -> tuple[list[np.ndarray], np.ndarray | None]:
        if self.cross is not None:
            self.cross[1:, 0] = self.cross[0, 1:]
        return self.vec, self.cross
