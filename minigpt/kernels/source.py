r"""Find and read the kernels' .cu sources: which file defines an entry, and its signature.

Both back ends need the parameter list of every `extern "C" __global__` function:
the CPU shim (emulate.py) generates a C++ launcher from it, and the CuPy wrapper
(launch.py) converts Python scalars to the right NumPy scalar type with it.

    python -c "from minigpt.kernels import source; print(source.signature('softmax_fwd_v2'))"
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERNEL_DIR = Path(__file__).resolve().parent
SHIM_HEADER = KERNEL_DIR / "shim" / "cuda_shim.h"

# C type of a pointer's target -> NumPy dtype of the array passed for it
POINTER_DTYPES = {
    "float": np.float32, "double": np.float64, "int": np.int32, "unsigned": np.uint32,
    "unsigned int": np.uint32, "long long": np.int64, "unsigned long long": np.uint64,
    "unsigned char": np.uint8, "char": np.int8,
}
# C type of a scalar parameter -> NumPy scalar type it is passed as
SCALAR_DTYPES = {
    "float": np.float32, "double": np.float64, "int": np.int32, "unsigned": np.uint32,
    "unsigned int": np.uint32, "long long": np.int64, "unsigned long long": np.uint64,
    "size_t": np.uint64,
}

_INCLUDE = re.compile(r'^[ \t]*#include\s+"(\w+\.cuh)"[^\n]*$', re.M)

_ENTRY = re.compile(
    r'extern\s+"C"\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+(\w+)\s*\(([^)]*)\)')


# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    ctype: str        # as written, without __restrict__, e.g. "const float*"
    base: str         # the type without const/pointer, e.g. "float"
    pointer: bool

    @property
    def dtype(self):
        table = POINTER_DTYPES if self.pointer else SCALAR_DTYPES
        if self.base not in table:
            raise TypeError(f"parameter {self.name!r}: unsupported C type {self.ctype!r}; "
                            f"expected one of {sorted(table)}")
        return np.dtype(table[self.base])


@dataclass(frozen=True)
class Entry:
    name: str
    file: Path
    params: tuple[Param, ...]


def expand_includes(text: str) -> str:
    """Inline each `#include "NAME.cuh"` (a header of this folder, e.g. warp_reduce.cuh) into the text.

    Every back end then compiles one self-contained source: NVRTC (CuPy, the compile tests)
    with no include path, and g++ (the CPU shim) from a temporary directory.
    """
    def inline(m):
        path = KERNEL_DIR / m.group(1)
        if not path.is_file():
            raise FileNotFoundError(f"kernel source includes {m.group(1)!r}, which is not in {KERNEL_DIR}")
        return f"// ---- {m.group(1)} (inlined by minigpt/kernels/source.py)\n{path.read_text()}"
    return _INCLUDE.sub(inline, text)


def strip_comments(text: str) -> str:
    """Remove // and /* */ comments (the kernels put no comment markers inside strings)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _parse_param(text: str) -> Param:
    text = " ".join(text.replace("__restrict__", " ").split())
    m = re.fullmatch(r"(.*?)(\w+)", text)
    if not m or not m.group(1).strip():
        raise ValueError(f"cannot parse kernel parameter {text!r}; expected 'TYPE name'")
    ctype = m.group(1).strip()
    pointer = "*" in ctype
    base = " ".join(w for w in ctype.replace("*", " ").split() if w != "const")
    return Param(m.group(2), ctype.replace(" *", "*"), base, pointer)


def parse_entries(text: str, file: Path | None = None) -> dict[str, Entry]:
    """All `extern "C" __global__` functions of a source text, by name.

    `extern "C" __global__ void f(float* y, const float* x, int n)` ->
    {"f": Entry("f", file, (Param("y", "float*", "float", True), ..., Param("n", "int", "int", False)))}
    """
    out = {}
    for m in _ENTRY.finditer(strip_comments(text)):
        params = tuple(_parse_param(p) for p in m.group(2).split(",") if p.strip())
        out[m.group(1)] = Entry(m.group(1), file, params)
    return out


# ----------------------------------------------------------------------------
def kernel_files() -> list[Path]:
    return sorted(KERNEL_DIR.glob("*.cu"))


@functools.lru_cache(maxsize=None)
def _index() -> dict[str, Entry]:
    index = {}
    for f in kernel_files():
        for name, entry in parse_entries(f.read_text(), f).items():
            if name in index:
                raise ValueError(f"kernel {name!r} is defined in both {index[name].file.name} and {f.name}")
            index[name] = entry
    return index


def entry(name: str) -> Entry:
    """The entry point `name` from whichever minigpt/kernels/*.cu defines it."""
    index = _index()
    if name not in index:
        raise KeyError(f"no kernel named {name!r} in {KERNEL_DIR}; known: {sorted(index)}")
    return index[name]


def signature(name: str) -> str:
    e = entry(name)
    return f"{e.name}({', '.join(p.ctype + ' ' + p.name for p in e.params)})  [{e.file.name}]"
