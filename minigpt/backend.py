"""Array backend: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every array in minigpt lives in one "array module", called `xp` after the CuPy
convention: `xp.exp`, `xp.matmul`, ... work the same on both.

    MINIGPT_DEVICE=cpu   (default) NumPy
    MINIGPT_DEVICE=cuda  CuPy, error if it is missing
    MINIGPT_DEVICE=auto  CuPy when a GPU is usable, else NumPy

CuPy is imported lazily, only when the GPU is asked for, so the CPU path never
pays for (or depends on) it.

    python -c "from minigpt.backend import xp, device; print(xp.__name__, device())"
"""
import functools
import os

import numpy as np

_cupy = None  # the cupy module once imported


def _import_cupy():
    global _cupy
    if _cupy is None:
        import cupy  # noqa: lazily, GPU path only
        _cupy = cupy
    return _cupy


def is_cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU (never raises)."""
    try:
        return _import_cupy().cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _select():
    want = os.environ.get("MINIGPT_DEVICE", "cpu").lower()
    if want == "cpu":
        return np
    if want == "cuda":
        try:
            return _import_cupy()
        except ImportError as e:
            raise RuntimeError("MINIGPT_DEVICE=cuda but CuPy is not installed; "
                               "install the GPU extra: pip install -e '.[gpu]'") from e
    if want == "auto":
        return _import_cupy() if is_cuda_available() else np
    raise ValueError(f"MINIGPT_DEVICE must be cpu, cuda or auto, got {want!r}")


xp = _select()  # the default array module for new arrays


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse instead of returning them to the OS.

    subtle: a training step allocates and frees many arrays of a few MB. By default glibc
    hands such blocks back to the kernel (munmap / heap trim), and the next step pays a page
    fault for every 4 KB it touches again: about a quarter of the CPU time of a small CPU
    training step. Raising the mmap and trim thresholds (as MALLOC_MMAP_THRESHOLD_ and
    MALLOC_TRIM_THRESHOLD_ would) keeps the memory in the process. Returns True if applied;
    a no-op off glibc, or with MINIGPT_KEEP_FREED_MEMORY=0.
    """
    if os.environ.get("MINIGPT_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
        # both, or neither: a fixed trim threshold alone turns off glibc's adaptive mmap threshold
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):
        return False


if xp is np:
    keep_freed_memory()


def device() -> str:
    """'cuda' if the default array module is CuPy, else 'cpu'."""
    return "cpu" if xp is np else "cuda"


def get_xp(a):
    """The array module (numpy or cupy) that owns array `a`."""
    if isinstance(a, np.ndarray) or _cupy is None:
        return np
    return _cupy.get_array_module(a)


def is_cuda_array(a) -> bool:
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def to_numpy(a) -> np.ndarray:
    """Copy an array (NumPy or CuPy) to a NumPy array on the host."""
    return a.get() if is_cuda_array(a) else np.asarray(a)


def to_device(a, dev: str):
    """Move array `a` to 'cpu' (NumPy) or 'cuda' (CuPy)."""
    if dev == "cpu":
        return to_numpy(a)
    if dev == "cuda":
        return _import_cupy().asarray(a)
    raise ValueError(f"device must be 'cpu' or 'cuda', got {dev!r}")


def array_module(dev: str):
    """The array module for a device name."""
    return np if dev == "cpu" else _import_cupy()


# -----------------------------------------------------------------------------
# fast sums (a NumPy speed trap, measured on a (768, 128) float32 array)
#
# NumPy reduces a short last axis one row at a time: x.sum(-1) on 768 rows of 128
# costs ~25 µs, x.max(-1) more, while the same sums as a matrix-vector product
# x @ 1 run in BLAS in ~5 µs. Summing over the rows (x.sum(0)) is ~4x slower than
# 1ᵀ @ x for the same reason. The hot paths (layernorm, attention, bias grads)
# use these two helpers; both work unchanged on CuPy.

@functools.lru_cache(maxsize=64)
def _ones(n, dtype, xp):
    """A read-only vector of n ones, kept: the sums below run thousands of times per training step."""
    one = xp.ones(n, dtype=dtype)
    if xp is np:
        one.flags.writeable = False
    return one


def rowsum(x):
    """Σ over the last axis of a float array, computed as x @ 1: shape (..., C) → (...)."""
    return x @ _ones(x.shape[-1], x.dtype, get_xp(x))


def colsum(x):
    """Σ over every axis but the last of a float array, computed as 1ᵀ @ x: shape (..., C) → (C,)."""
    x2 = x.reshape(-1, x.shape[-1])
    return _ones(x2.shape[0], x.dtype, get_xp(x)) @ x2
