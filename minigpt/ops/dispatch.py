"""When an op runs a hand-written CUDA kernel instead of its array-module code.

On the GPU (CuPy arrays, float32) the fused ops call the kernels in
`minigpt/kernels/functional.py`; everywhere else they run their NumPy/CuPy
expressions. `kernels_on_cpu()` forces the kernel path for NumPy arrays too,
executing the very same .cu sources through the CPU emulation shim, so the
wiring is tested on machines without a GPU (slowly: keep shapes small).

    MINIGPT_KERNELS=0   never use the kernels (compare against the CuPy expressions)
"""
import contextlib
import os

import numpy as np

from minigpt.backend import is_cuda_array

_force_cpu = False


def use_kernels(*arrays) -> bool:
    """True when the hand-written kernels should handle these (float32) arrays."""
    if not (_force_cpu or is_cuda_array(arrays[0])):   # the CPU path asks nothing else (called per op)
        return False
    if os.environ.get("MINIGPT_KERNELS", "1") == "0":
        return False
    return all(a.dtype == np.float32 for a in arrays)


@contextlib.contextmanager
def kernels_on_cpu():
    """Route float32 NumPy arrays through the CUDA kernels via the CPU shim (for tests)."""
    global _force_cpu
    prev, _force_cpu = _force_cpu, True
    try:
        yield
    finally:
        _force_cpu = prev


def cuda_kernels():
    """The module of hand-written CUDA kernels, `minigpt.kernels.functional` (softmax_fwd, layernorm_bwd, ...).

    Imported on first use: compiling the kernels needs CuPy (GPU) or g++ (the CPU shim)."""
    from minigpt.kernels import functional
    return functional
