"""single_blas_thread: BLAS runs on one thread inside, and every library gets its own count back."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from npctrial.survival.cox import products


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_thread_inside_and_the_counts_restored() -> None:
    np.ones((2, 2)) @ np.ones((2, 2))  # NumPy's BLAS is loaded
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert before and all(n == 2 for n in before)
        with products.single_blas_thread():
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == before


def test_restored_after_an_error() -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with pytest.raises(RuntimeError), products.single_blas_thread():
            raise RuntimeError("inside")
        assert _blas_threads() == before


def test_openblas_found_directly_on_linux() -> None:
    """The fast path sees the same OpenBLAS libraries threadpoolctl does (here: NumPy's wheel)."""
    libraries = products._loaded_openblas()
    openblas = [lib for lib in threadpool_info() if lib["internal_api"] == "openblas"]
    others = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and lib["internal_api"] != "openblas"]
    if others:
        assert libraries is None
    else:
        assert libraries is not None and len(libraries) == len(openblas)
