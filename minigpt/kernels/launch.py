r"""Launch the .cu kernels on a real GPU through CuPy (`cupy.RawModule`, compiled by NVRTC).

CuPy is imported on the first call, never at import time, so the CPU path never needs it.
Arguments are checked against the kernel's C signature (source.py): pointer
parameters take C-contiguous CuPy arrays of the matching dtype, scalars are converted
to the exact NumPy scalar type (a Python float passed for a `float` must become
np.float32, or the kernel would read half of a double).

    import cupy as cp
    from minigpt.kernels import launch
    x = cp.random.standard_normal((4, 1000), dtype=cp.float32); y = cp.empty_like(x)
    launch.launch("softmax_fwd_v2", 1, 128, 0, y, x, 4, 1000)
"""
from __future__ import annotations

import functools

import numpy as np

from minigpt.kernels import source as src

NVRTC_OPTIONS = ("--std=c++17",)
DEFAULT_SHARED_LIMIT = 48 * 1024   # above this a kernel must opt in (max_dynamic_shared_size_bytes)


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDARuntimeError without a driver
        return False


@functools.lru_cache(maxsize=None)
def module(file: str, defines: tuple = ()):
    """The compiled cupy.RawModule of one .cu file with -D macros `defines` ((name, value) pairs)."""
    import cupy
    path = src.KERNEL_DIR / file
    options = NVRTC_OPTIONS + tuple(f"-D{k}={v}" for k, v in defines)
    return cupy.RawModule(code=src.expand_includes(path.read_text()), options=options)


def _dim3(v):
    t = (int(v),) if isinstance(v, (int, np.integer)) else tuple(int(x) for x in v)
    return t + (1,) * (3 - len(t))


def launch(name, grid, threads, shared_bytes, *args, defines=None):
    """Launch kernel `name` (found in minigpt/kernels/*.cu) asynchronously on CuPy's current stream."""
    import cupy
    entry = src.entry(name)
    if len(args) != len(entry.params):
        raise TypeError(f"{name} takes {len(entry.params)} arguments "
                        f"({', '.join(p.name for p in entry.params)}), got {len(args)}")
    converted = []
    for p, a in zip(entry.params, args):
        if p.pointer:
            if not isinstance(a, cupy.ndarray) or a.dtype != p.dtype or not a.flags.c_contiguous:
                raise TypeError(f"{name}: argument {p.name!r} ({p.ctype}) must be a C-contiguous cupy "
                                f"{p.dtype} array, got {type(a).__name__} {getattr(a, 'dtype', '')}")
            converted.append(a)
        else:
            converted.append(p.dtype.type(a))
    fn = module(entry.file.name, tuple(sorted((defines or {}).items()))).get_function(name)
    if shared_bytes > DEFAULT_SHARED_LIMIT:
        fn.max_dynamic_shared_size_bytes = int(shared_bytes)
    fn(_dim3(grid), _dim3(threads), tuple(converted), shared_mem=int(shared_bytes))
