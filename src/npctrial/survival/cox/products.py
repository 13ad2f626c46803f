"""Dense products over the rows of the Cox design, written for speed and reproducibility.

* :func:`weighted_cross`: x' diag(v) x accumulated over cache-sized blocks of rows (one buffer,
  no n x p temporary); :func:`weighted_cross_runs` the same with a factor constant on runs of rows;
* :func:`centred_cross`: (x - m)' diag(w) (x - m), centring each block of rows in cache;
* :func:`outer_sums`: the per-group outer-product sum of the Efron information term;
* :func:`row_dot`: x @ v with identical rows giving bit-identical results;
* :func:`group_sum`: sums of rows by an integer index;
* :func:`single_blas_thread`: a context limiting BLAS to one thread. Every BLAS product in the
  fit is p x p or a thin block of rows, for which waking a thread pool (and, on a loaded machine,
  waiting for its threads) costs more than it gains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["centred_cross", "group_sum", "outer_sums", "row_dot", "single_blas_thread", "weighted_cross",
           "weighted_cross_runs"]

_BLAS: dict[str, Any] = {}

#: Thread-count functions of OpenBLAS builds (plain, 64-bit interface, and the scipy-openblas wheels
#: NumPy and SciPy bundle, whose symbols carry a prefix).
_OPENBLAS_NAMES = (("openblas_get_num_threads", "openblas_set_num_threads"),
                   ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                   ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                   ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"))
_OTHER_BLAS = ("mkl", "blis", "flexiblas", "accelerate", "armpl")


def _loaded_openblas() -> list[tuple[Any, Any]] | None:
    """(get, set) thread functions of every OpenBLAS the process has loaded, read off
    ``/proc/self/maps``; None where that cannot be known (not Linux, or another BLAS is loaded)."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(maxsplit=5)[-1].strip() for line in maps if ".so" in line}
    except OSError:
        return None
    if any(other in p.rsplit("/", 1)[-1].lower() for p in paths for other in _OTHER_BLAS):
        return None
    found = []
    for path in sorted(p for p in paths if "openblas" in p.rsplit("/", 1)[-1].lower()):
        lib = _BLAS.get(path) or _BLAS.setdefault(path, ctypes.CDLL(path))
        names = next(((g, s) for g, s in _OPENBLAS_NAMES if hasattr(lib, g) and hasattr(lib, s)), None)
        if names is None:
            return None
        found.append((getattr(lib, names[0]), getattr(lib, names[1])))
    return found


class _OpenBlasOneThread:
    """Set every loaded OpenBLAS to one thread, and back to its own count on exit."""

    def __init__(self, libraries: list[tuple[Any, Any]]) -> None:
        self.libraries = libraries
        self.saved: list[tuple[Any, int]] = []

    def __enter__(self) -> _OpenBlasOneThread:
        for get, put in self.libraries:
            count = int(get())
            if count != 1:
                put(1)
                self.saved.append((put, count))
        return self

    def __exit__(self, *exc: object) -> None:
        for put, count in self.saved:
            put(count)


def single_blas_thread() -> Any:
    """A context in which BLAS uses one thread.

    On Linux with OpenBLAS (NumPy's and SciPy's wheels), the loaded libraries are found in
    ``/proc/self/maps`` and set directly: a fraction of a millisecond, where threadpoolctl's
    controller resolves every loaded library's path (about 10 ms on a first call). Elsewhere, or
    with another BLAS loaded, threadpoolctl (its controller built once)."""
    libraries = _loaded_openblas()
    if libraries is not None:
        return _OpenBlasOneThread(libraries)
    if "controller" not in _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS["controller"] = ThreadpoolController()
    return _BLAS["controller"].limit(limits=1, user_api="blas")


def row_dot(x: np.ndarray, v: np.ndarray, rows: int = 4096) -> np.ndarray:
    """x @ v with every row through the same floating-point operations (column by column within
    blocks of rows), so identical rows give bit-identical results (a BLAS product may round a row
    differently depending on its position)."""
    n, p = x.shape
    out = np.empty(n)
    tmp = np.empty(min(rows, n))
    for a in range(0, n, rows):
        xa, oa = x[a:a + rows], out[a:a + rows]
        np.multiply(xa[:, 0], v[0], out=oa)
        for j in range(1, p):
            oa += np.multiply(xa[:, j], v[j], out=tmp[: len(oa)])
    return out


def outer_sums(a1: np.ndarray, b1: np.ndarray, s0: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """sum_g [A1 A1' S0 - (A1 B1' + B1 A1') S1 + B1 B1' S2] (p x p)."""
    cross = (a1 * s1[:, None]).T @ b1
    return (a1 * s0[:, None]).T @ a1 - cross - cross.T + (b1 * s2[:, None]).T @ b1


def group_sum(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` rows by ``index`` (0..size-1); 2-D values are summed column by column."""
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=size)
    out = np.empty((size, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(index, weights=values[:, j], minlength=size)
    return out


def weighted_cross(x: np.ndarray, v: np.ndarray, v2: np.ndarray | None = None, chunk: int = 1 << 12) -> np.ndarray:
    """x' diag(v) x (x' diag(v * v2) x with ``v2``), accumulated over blocks of rows small enough for
    the cache (one buffer; the product v * v2 is formed a block at a time, never as an n-vector)."""
    n, p = x.shape
    out = np.zeros((p, p))
    buf = np.empty((min(chunk, n), p), order="F")
    vbuf = np.empty(min(chunk, n)) if v2 is not None else None
    for a in range(0, n, chunk):
        xc = x[a:a + chunk]
        va = v[a:a + chunk] if vbuf is None or v2 is None else \
            np.multiply(v[a:a + chunk], v2[a:a + chunk], out=vbuf[: xc.shape[0]])
        y = np.multiply(xc, va[:, None], out=buf[: xc.shape[0]])
        out += y.T @ xc
    return out


def weighted_cross_runs(x: np.ndarray, v: np.ndarray, run_v: np.ndarray, run_len: np.ndarray,
                        chunks: Sequence[tuple[int, int, int, int, Any]]) -> np.ndarray:
    """x' diag(v * v2) x where v2 is ``run_v[k]`` repeated ``run_len[k]`` times (a value per run
    of rows), accumulated over ``chunks`` (r0, r1, k0, k1, ...): rows [r0, r1) are runs
    [k0, k1). v2 is expanded one chunk at a time, never as an n-vector."""
    p = x.shape[1]
    out = np.zeros((p, p))
    size = max((r1 - r0 for r0, r1, *_ in chunks), default=0)
    buf = np.empty((size, p), order="F")
    vbuf = np.empty(size)
    for r0, r1, k0, k1, *_ in chunks:
        xc = x[r0:r1]
        va = np.multiply(v[r0:r1], np.repeat(run_v[k0:k1], run_len[k0:k1]), out=vbuf[: r1 - r0])
        y = np.multiply(xc, va[:, None], out=buf[: r1 - r0])
        out += y.T @ xc
    return out


def centred_cross(x: np.ndarray, mean: np.ndarray, w: np.ndarray | None = None, rows: int = 4096) -> np.ndarray:
    """(x - mean)' diag(w) (x - mean) (w = 1 when None) by blocks of rows, each centred in cache:
    no n x p temporary."""
    n, p = x.shape
    out = np.zeros((p, p))
    buf, wbuf = np.empty((min(rows, n), p)), np.empty((min(rows, n), p))
    for a in range(0, n, rows):
        xb = np.subtract(x[a:a + rows], mean, out=buf[: min(rows, n - a)])
        yb = xb if w is None else np.multiply(xb, w[a:a + rows, None], out=wbuf[: len(xb)])
        out += yb.T @ xb
    return out
