"""When an op runs a fused kernel instead of its array-module code.

Two sets of kernels share one interface (softmax_fwd, gelu_bwd, layernorm_fwd, ...):

- on the GPU (CuPy arrays, float32), the hand-written CUDA kernels of
  `minigpt/kernels/functional.py`;
- on the CPU (NumPy arrays, float32), their numba twins in `minigpt/kernels/cpu.py`,
  one compiled loop per op instead of many NumPy passes over memory.

Everywhere else (float64 gradient checks, no numba installed) the ops run their
NumPy/CuPy expressions, which stay the reference the notebooks teach.
`kernels_on_cpu()` forces the CUDA path for NumPy arrays too, executing the very same
.cu sources through the CPU emulation shim, so the wiring is tested on machines
without a GPU (slowly: keep shapes small).

    MINIGPT_KERNELS=0   never use the CUDA kernels (compare against the CuPy expressions)
    MINIGPT_FUSED=0     never use the numba CPU kernels (compare against the NumPy expressions)
"""
import contextlib
import importlib.util
import os
import warnings

import numpy as np

from minigpt.backend import is_cuda_array

_force_cpu = False
_cpu = None  # minigpt.kernels.cpu once imported


def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


_fused = os.environ.get("MINIGPT_FUSED", "1") != "0" and _numba_installed()


def use_kernels(*arrays) -> bool:
    """True when the hand-written CUDA kernels should handle these (float32) arrays."""
    if not (_force_cpu or is_cuda_array(arrays[0])):   # the CPU path asks nothing else (called per op)
        return False
    if os.environ.get("MINIGPT_KERNELS", "1") == "0":
        return False
    return all(a.dtype == np.float32 for a in arrays)


def kernels(*arrays):
    """The kernel module for these arrays: `functional` (CUDA, or the shim under `kernels_on_cpu()`),
    `cpu` (numba) for float32 NumPy arrays, or None: run the array-module expressions."""
    if use_kernels(*arrays):
        return cuda_kernels()
    return cpu_kernels(*arrays)


def cpu_kernels(*arrays):
    """`minigpt.kernels.cpu` (numba) when every array is a float32 NumPy array and the fused CPU
    kernels are on, else None. Its few CPU-only kernels (attention's causal softmax) are asked for here."""
    if _fused and not _force_cpu and all(type(a) is np.ndarray and a.dtype == np.float32 for a in arrays):
        return _cpu_module()
    return None


def fused_cpu_on() -> bool:
    """Whether float32 NumPy ops run the numba kernels now (what a benchmark records beside its figures)."""
    return cpu_kernels(np.zeros(1, np.float32)) is not None


def _cpu_module():
    """Import kernels/cpu.py (and numba, ~0.3 s) on first use; if numba is there but cannot load (say, built
    for another NumPy), say so once and run the NumPy expressions from then on."""
    global _cpu, _fused
    if _cpu is None:
        try:
            from minigpt.kernels import cpu as _cpu
        except Exception as e:  # noqa: BLE001 - any failure to load means: no fused kernels
            _fused = False
            warnings.warn(f"minigpt: the fused CPU kernels need numba, which failed to load ({type(e).__name__}: "
                          f"{e}); running the NumPy ops instead. MINIGPT_FUSED=0 skips them without this warning.")
    return _cpu


@contextlib.contextmanager
def kernels_on_cpu():
    """Route float32 NumPy arrays through the CUDA kernels via the CPU shim (for tests)."""
    global _force_cpu
    prev, _force_cpu = _force_cpu, True
    try:
        yield
    finally:
        _force_cpu = prev


@contextlib.contextmanager
def fused_cpu(on: bool):
    """Turn the numba CPU kernels on or off inside the block (tests compare the two paths)."""
    global _fused
    prev, _fused = _fused, bool(on) and _numba_installed()
    try:
        yield
    finally:
        _fused = prev


def cuda_kernels():
    """The module of hand-written CUDA kernels, `minigpt.kernels.functional` (softmax_fwd, layernorm_bwd, ...).

    Imported on first use: compiling the kernels needs CuPy (GPU) or g++ (the CPU shim)."""
    from minigpt.kernels import functional
    return functional
