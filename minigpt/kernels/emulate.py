r"""Run the CUDA kernels on the CPU: compile a .cu with the shim header and g++, call it on NumPy arrays.

The shim (shim/cuda_shim.h) turns every CUDA thread of a block into a std::thread,
`__syncthreads()` into a std::barrier and warp shuffles into an exchange through
memory. This module glues one .cu file, the shim and a generated launcher into a
shared library (g++ -std=c++20 -O1 -pthread, cached by a hash of the source in a private
directory, `cache_dir()`, whose owner and mode are checked before anything is loaded) and
loads it with ctypes:

    import numpy as np
    from minigpt.kernels import emulate
    x = np.random.default_rng(0).standard_normal((5, 100), dtype=np.float32)
    y = np.empty_like(x)
    emulate.launch("softmax_fwd_v2", grid=2, threads=128, shared_bytes=0, y, x, 5, 100)

The .cu text is compiled as written except for one rewrite: a dynamic shared memory
declaration `extern __shared__ T name[];` becomes a pointer to the shim's per-block
buffer (C++ cannot spell "static" and "extern" on one declaration).

Arrays are checked against the kernel's parameter types (float* takes float32, int*
int32, ...) and, with guard=True, copied into a buffer with 4 KiB of 0xFF bytes on
each side: reading past an array gives NaN, writing past it raises an error.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from minigpt.kernels import source as src

GUARD_BYTES = 4096
_DYN_SHARED = re.compile(
    r"extern\s+__shared__\s+(?:alignas\s*\(\s*\d+\s*\)\s*|__align__\s*\(\s*\d+\s*\)\s*)?"
    r"(?P<type>[A-Za-z_][\w ]*?)\s+(?P<name>\w+)\s*\[\s*\]\s*;")
_LOCK = threading.Lock()
_MODULES: dict[str, "Module"] = {}
CXX_FLAGS = ["-std=c++20", "-O1", "-pthread", "-fPIC", "-w", "-DMINIGPT_SHIM=1"]  # every kernel; a library adds -shared
PCH_ENV = "MINIGPT_SHIM_PCH"  # a folder holding cuda_shim.h and its precompiled cuda_shim.h.gch (see precompiled_header)


# ----------------------------------------------------------------------------
# building
def cache_dir() -> Path:
    """The directory of compiled shim libraries, created 0700 and checked before every use.

    `$MINIGPT_SHIM_CACHE` if set, else `$XDG_CACHE_HOME/minigpt/shim` (default
    `~/.cache/minigpt/shim`; the data folder `~/.cache/minigpt` may be 0755, this one is not).
    subtle: a `.so` found here is loaded and runs inside this process, so the directory must be
    one that nobody else can write to: not a symlink, owned by this user, no group/other access,
    inside a folder that others cannot write either (they could swap the directory after our check).
    A shared, predictable name such as /tmp/minigpt-shim-<uid> let another user plant a library.
    """
    d = os.environ.get("MINIGPT_SHIM_CACHE")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "minigpt", "shim")
    path = Path(d)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_private(path)
    return path


def check_private(path: Path) -> None:
    """Raise PermissionError unless `path` is a real directory owned by us with mode 0700 or stricter,
    in a parent folder that only its owner (us or root) can write to, or that has the sticky bit (/tmp)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise PermissionError(f"shim cache {path} is not a plain directory (a symlink?); refusing to load "
                              "libraries from it: remove it or set MINIGPT_SHIM_CACHE to a private directory")
    if st.st_uid != os.getuid():
        raise PermissionError(f"shim cache {path} is owned by uid {st.st_uid}, not by you (uid {os.getuid()}); "
                              "refusing to load libraries from it: set MINIGPT_SHIM_CACHE to a directory you own")
    if st.st_mode & 0o077:
        raise PermissionError(f"shim cache {path} has mode {stat.S_IMODE(st.st_mode):o}; others could plant a "
                              f"library there, so it must be 0700: run `chmod 700 {path}`")
    parent = os.stat(path.resolve().parent)
    if (parent.st_uid not in (0, os.getuid()) or parent.st_mode & 0o022) and not parent.st_mode & stat.S_ISVTX:
        raise PermissionError(f"shim cache {path} sits in {path.resolve().parent}, which others can write to "
                              "(they could replace the cache); set MINIGPT_SHIM_CACHE to a directory in a private folder")


def _check_library(lib: Path) -> None:
    """The same check for one cached `.so`: a plain file we own that nobody else can write."""
    st = os.lstat(lib)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise PermissionError(f"cached shim library {lib} is not a plain file owned by you and writable only "
                              "by you; refusing to load it: delete it to have it rebuilt")


def compiler() -> str | None:
    """Path of the C++ compiler used (env CXX, else g++), or None when there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


def rewrite_dynamic_shared(text: str) -> str:
    r"""`extern __shared__ float smem[];` -> `float* smem = (float*)cuda_shim::dynamic_shared_memory();`"""
    return _DYN_SHARED.sub(
        lambda m: f"{m['type']}* {m['name']} = reinterpret_cast<{m['type']}*>("
                  f"::cuda_shim::dynamic_shared_memory());", text)


def _launcher(entry: src.Entry) -> str:
    lines = [f'extern "C" int minigpt_shim_launch_{entry.name}(const unsigned* g, const unsigned* b, '
             f'unsigned long long smem, void** args, int chaos_us, unsigned long long seed) {{']
    for i, p in enumerate(entry.params):
        lines.append(f"    using T{i} = {p.ctype};  T{i} a{i} = *static_cast<T{i}*>(args[{i}]);")
    call = ", ".join(f"a{i}" for i in range(len(entry.params)))
    lines.append("    return ::cuda_shim::launch(dim3(g[0], g[1], g[2]), dim3(b[0], b[1], b[2]), smem, "
                 f"chaos_us, seed, [=]() {{ {entry.name}({call}); }});")
    lines.append("}")
    return "\n".join(lines)


def generate(text: str, header: str | None = None) -> str:
    """The C++ translation unit for one kernel source: shim + rewritten source + launchers.

    header: how to include the shim (default: its absolute path; "cuda_shim.h" to find it, and its
    precompiled .gch, on the -I path)."""
    entries = src.parse_entries(text)
    if not entries:
        raise ValueError('no `extern "C" __global__ void name(...)` kernel found in the source')
    parts = [f'#include "{header or src.SHIM_HEADER}"', "// ---- kernel source", rewrite_dynamic_shared(text),
             "// ---- launchers generated by minigpt/kernels/emulate.py"]
    parts += [_launcher(e) for e in entries.values()]
    return "\n".join(parts) + "\n"


def build(text: str, defines: dict | None = None, label: str = "kernel") -> "Module":
    """Compile a kernel source (cached on disk by hash) and load it."""
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("the CPU shim needs a C++20 compiler: install g++ >= 11 or set CXX")
    flags = [*CXX_FLAGS, "-shared"]
    flags += [f"-D{k}={v}" for k, v in sorted((defines or {}).items())]
    pch = _pch_from_env()
    if pch is not None:  # the shim header precompiled by the grader: only the kernel itself is parsed here
        flags += ["-I", str(pch)]
    code = generate(src.expand_includes(text), header="cuda_shim.h" if pch is not None else None)
    key = hashlib.sha256("\0".join([code, src.SHIM_HEADER.read_text(), cxx, *flags]).encode()).hexdigest()[:20]
    with _LOCK:
        if key in _MODULES:
            return _MODULES[key]
    cache = cache_dir()                         # checked: ours, 0700, not a symlink
    lib_path = cache / f"shim-{key}.so"  # same code, same library, whatever the label
    if not lib_path.exists():  # compile outside the lock, so several builds can run at once
        tmp_base = f"{label}-{key}-tmp{os.getpid()}-{threading.get_ident()}"
        cpp, tmp = cache / f"{tmp_base}.cpp", cache / f"{tmp_base}.so"
        cpp.write_text(code)
        res = subprocess.run([cxx, *flags, "-o", str(tmp), str(cpp)], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"g++ failed on {label} ({cpp}):\n{res.stderr[-4000:]}")
        os.replace(tmp, lib_path)  # atomic: parallel test runs never see half a library
        cpp.unlink()
    _check_library(lib_path)
    with _LOCK:
        if key not in _MODULES:
            _MODULES[key] = Module(ctypes.CDLL(str(lib_path)), src.parse_entries(text), label)
        return _MODULES[key]


def precompiled_header() -> Path | None:
    """The shim header precompiled by g++ (cuda_shim.h + cuda_shim.h.gch) in a folder of the private cache.

    Parsing the header (<thread>, <barrier>, <random>, ...) is about 3/4 of every kernel's compile
    time. The folder is built once per header text, compiler and flags (atomically: a temporary
    folder renamed into place) and reused; kernels compiled with `MINIGPT_SHIM_PCH=<folder>` include
    it from there. Only the project's own header is compiled here, never a kernel source, so the
    grader builds it on its trusted side and gives the sandboxed worker read-only access to it.
    Returns None without a compiler or if the build fails (kernels then compile the header themselves).
    """
    cxx = compiler()
    if cxx is None:
        return None
    header = src.SHIM_HEADER.read_bytes()
    version = subprocess.run([cxx, "--version"], capture_output=True, check=False).stdout
    key = hashlib.sha256(b"\0".join([header, cxx.encode(), version, *(f.encode() for f in CXX_FLAGS)])).hexdigest()[:20]
    cache = cache_dir()  # checked: ours, 0700, not a symlink
    final = cache / f"pch-{key}"
    if not (final / "cuda_shim.h.gch").is_file():
        tmp = Path(tempfile.mkdtemp(dir=cache, prefix=f".pch-{key}-"))
        try:
            shutil.copyfile(src.SHIM_HEADER, tmp / "cuda_shim.h")
            res = subprocess.run([cxx, *CXX_FLAGS, "-x", "c++-header", "-o", str(tmp / "cuda_shim.h.gch"), str(tmp / "cuda_shim.h")],
                                 capture_output=True, check=False)
            if res.returncode != 0:
                return None
            for f in ("cuda_shim.h", "cuda_shim.h.gch"):
                os.chmod(tmp / f, 0o644)  # whatever the umask: writable by us only
            try:
                os.rename(tmp, final)  # atomic; a parallel build that got there first wins
            except OSError:
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    _check_pch(final)
    return final


def _check_pch(folder: Path) -> None:
    """A precompiled header folder must be a real folder whose files nobody but their owner can change."""
    for p in (folder, folder / "cuda_shim.h", folder / "cuda_shim.h.gch"):
        st = os.lstat(p)
        kind = stat.S_ISDIR if p == folder else stat.S_ISREG
        if not kind(st.st_mode) or st.st_mode & 0o022:
            raise PermissionError(f"precompiled shim header {p} is a symlink or writable by others; refusing to use it")


def _pch_from_env() -> Path | None:
    """The folder named by MINIGPT_SHIM_PCH, if set and complete (checked as in _check_pch)."""
    d = os.environ.get(PCH_ENV)
    if not d or not (Path(d) / "cuda_shim.h.gch").is_file():
        return None
    _check_pch(Path(d))
    return Path(d)


# ----------------------------------------------------------------------------
# launching
def _dim3(v, what: str) -> tuple[int, int, int]:
    t = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    if not 1 <= len(t) <= 3 or any(int(x) < 1 for x in t):
        raise ValueError(f"{what} must be a positive int or a tuple of 1-3 positive ints, got {v!r}")
    return tuple(int(x) for x in t) + (1,) * (3 - len(t))


class _Guarded:
    """An array copied into the middle of a buffer of 0xFF bytes, to catch out-of-bounds writes."""

    def __init__(self, arr: np.ndarray):
        self.arr = arr
        self.buf = np.full(arr.nbytes + 2 * GUARD_BYTES + 64, 0xFF, dtype=np.uint8)
        start = GUARD_BYTES + (-self.buf.ctypes.data - GUARD_BYTES) % 64
        self.start, self.stop = start, start + arr.nbytes
        self.inner = self.buf[start:start + arr.nbytes].view(arr.dtype).reshape(arr.shape)
        self.inner[...] = arr

    def finish(self, kernel: str, name: str):
        before, after = self.buf[:self.start], self.buf[self.stop:]
        if (before != 0xFF).any() or (after != 0xFF).any():
            raise RuntimeError(f"kernel {kernel} wrote outside argument {name!r} "
                               f"({np.count_nonzero(before != 0xFF)} bytes before its start, "
                               f"{np.count_nonzero(after != 0xFF)} bytes after its end)")
        self.arr[...] = self.inner


class Module:
    """A compiled kernel source: `module.launch(name, grid, block, shared_bytes, *args)`."""

    def __init__(self, lib: ctypes.CDLL, entries: dict, label: str):
        self.lib, self.entries, self.label = lib, entries, label
        self.lock = threading.Lock()  # `__shared__` arrays are statics: one launch at a time

    def launch(self, name, grid, threads, shared_bytes, *args, chaos_us=0, seed=0, guard=True):
        if name not in self.entries:
            raise KeyError(f"{self.label} has no kernel {name!r}; it defines {sorted(self.entries)}")
        params = self.entries[name].params
        if len(args) != len(params):
            raise TypeError(f"{name} takes {len(params)} arguments ({', '.join(p.name for p in params)}), "
                            f"got {len(args)}")
        g, b = _dim3(grid, "grid"), _dim3(threads, "block")
        keep, guarded, slots = [], [], []
        for p, a in zip(params, args):
            if p.pointer:
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"{name}: argument {p.name!r} ({p.ctype}) must be a NumPy array, got {type(a).__name__}")
                if a.dtype != p.dtype or not a.flags.c_contiguous:
                    raise TypeError(f"{name}: argument {p.name!r} ({p.ctype}) must be a C-contiguous {p.dtype} "
                                    f"array, got {a.dtype} (contiguous={a.flags.c_contiguous})")
                if guard:
                    guarded.append((p.name, _Guarded(a)))
                    a = guarded[-1][1].inner
                cell = np.array([a.ctypes.data], dtype=np.uint64)
            else:
                if p.dtype.kind in "iu" and not isinstance(a, (int, np.integer)):
                    raise TypeError(f"{name}: argument {p.name!r} ({p.ctype}) must be an integer, got {a!r}")
                cell = np.array([a], dtype=p.dtype)
            keep.append(cell)
            slots.append(cell.ctypes.data)
        argv = (ctypes.c_void_p * max(1, len(slots)))(*slots)
        fn = getattr(self.lib, f"minigpt_shim_launch_{name}")
        fn.restype = ctypes.c_int
        with self.lock:
            rc = fn((ctypes.c_uint * 3)(*g), (ctypes.c_uint * 3)(*b), ctypes.c_ulonglong(int(shared_bytes)),
                    argv, ctypes.c_int(int(chaos_us)), ctypes.c_ulonglong(int(seed)))
        if rc != 0:
            raise ValueError(f"{name}: bad launch configuration grid={g} block={b} shared_bytes={shared_bytes}; "
                             "expected 1..1024 threads per block (z <= 64), grid y,z <= 65535, "
                             "dynamic shared memory <= 48 KiB")
        for pname, gd in guarded:
            gd.finish(name, pname)


def load(name: str, defines: dict | None = None, text: str | None = None) -> Module:
    """The compiled module holding kernel `name` (from its .cu file unless `text` is given)."""
    if text is None:
        f = src.entry(name).file
        return build(f.read_text(), defines, label=f.stem)
    return build(text, defines, label="custom")


def launch(kernel_name, grid, threads, shared_bytes, *args, defines=None, source=None,
           chaos_us=0, seed=0, guard=True):
    """Run `kernel_name` on the CPU shim; arrays are modified in place, like on a GPU.

    grid/threads (CUDA's gridDim/blockDim): int or tuple of up to 3 ints. shared_bytes: dynamic shared memory.
    defines: -D macros for the compile. source: kernel text to use instead of the .cu file.
    chaos_us > 0: random sleeps after barriers (to make races show); seed picks them.
    """
    module = load(kernel_name, defines, source)
    module.launch(kernel_name, grid, threads, shared_bytes, *args, chaos_us=chaos_us, seed=seed, guard=guard)
