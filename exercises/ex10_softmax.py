# GENERATED from solutions/ex10_softmax.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercise for notebook 10 (GPU kernels): a row-softmax CUDA kernel, run on the CPU shim.

The kernel lives next to this file in ex10_softmax.cu (you write its body). `softmax_rows`
compiles that file with the project's CUDA emulation shim (minigpt.kernels.emulate: one
std::thread per CUDA thread, a barrier for __syncthreads) and launches one block per row,
so it runs and is graded on any machine with g++; on a GPU the same source runs under CuPy.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_10_1_softmax_kernel
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

KERNEL = "softmax_rows_kernel"
SENTINEL = "EXERCISE_NOT_IMPLEMENTED"  # left in the .cu by tools/make_exercises.py until the body is written


# -----------------------------------------------------------------------------
class ShimUnavailable(RuntimeError):
    """The CPU emulation shim (minigpt.kernels.emulate + a C++20 compiler) is not available here."""


def read_kernel(path: Path, exercise: str = "10.1") -> str:
    """The kernel source; raises the exercise's NotImplementedError while the stub is still there."""
    text = Path(path).read_text()
    if SENTINEL in text:
        raise NotImplementedError(f"exercise {exercise}: write the body of {KERNEL} in {Path(path).name} (between the markers)")
    return text


def run_on_shim(source: str, x, block_size: int = 64, label: str = "ex10_softmax"):
    """Compile `source` with the CPU shim and launch KERNEL on x (..., C): one block per row."""
    try:
        from minigpt.kernels import emulate
    except ImportError as err:
        raise ShimUnavailable(f"minigpt.kernels.emulate is not importable ({err})") from err
    if emulate.compiler() is None:
        raise ShimUnavailable("the CPU shim needs a C++20 compiler (g++ >= 11, or set CXX)")
    if block_size < 1 or block_size & (block_size - 1) or block_size > 1024:
        raise ValueError(f"block_size must be a power of two in 1..1024, got {block_size}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    C = x.shape[-1]
    rows = x.reshape(-1, C)  # (N, C)
    N = rows.shape[0]
    y = np.empty_like(rows)
    if N > 0 and C > 0:
        module = emulate.build(source, label=label)
        module.launch(KERNEL, N, block_size, block_size * 4, y, rows, N, C)
    return y.reshape(x.shape)


# -----------------------------------------------------------------------------
def softmax_rows(x, block_size=64):
    r"""Exercise 10.1: softmax over the last axis by the CUDA kernel in ex10_softmax.cu (one block per row). Notebook 10, §1–§3.

    The work is in the .cu file: write the body of softmax_rows_kernel there. This wrapper compiles
    it with the CPU shim and launches grid = N rows, block = block_size threads (a power of two),
    shared memory = block_size floats.

    Args:
        x: (..., C) array; computed in float32.
        block_size: threads per block (power of two, 32..1024 typical); the result must not depend on it.
    Returns:
        y: float32 array shaped like x; each row sums to 1.

    Example: x = [[0, ln 3]] -> y = [[0.25, 0.75]];  x + 1000 gives the same y.
    """
    return run_on_shim(read_kernel(Path(__file__).with_suffix(".cu")), x, block_size)
