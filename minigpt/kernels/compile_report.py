r"""Compile every kernel for real GPUs (no GPU needed) and report registers, spills and shared memory.

Two compilers, whichever is installed:
  * NVRTC (the runtime compiler CuPy's RawModule uses; the `nvidia-cuda-nvrtc` wheel
    ships it), called through ctypes with `--gpu-architecture=sm_XX --std=c++17
    --ptxas-options=-v` so the log carries ptxas's resource figures;
  * nvcc: `nvcc -cubin -arch=sm_XX -Xptxas -v`.
Registers per thread and spills decide occupancy: 65536 registers per SM / (regs x
threads per block) blocks fit at once, and a spill is a trip to (slow) local memory.

    python -m minigpt.kernels.compile_report                  # JSON table, sm_80 and sm_90
    python -m minigpt.kernels.compile_report --compiler nvcc --arch sm_90
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from minigpt.kernels import source as src

ARCHS = ("sm_80", "sm_90")
NVRTC_OPTIONS = ("--std=c++17", "--ptxas-options=-v")


# ----------------------------------------------------------------------------
# finding the compilers
def _nvrtc_candidates():
    try:
        import nvidia  # namespace package of the NVIDIA wheels
        for root in nvidia.__path__:
            yield from sorted(glob.glob(os.path.join(root, "*", "lib", "libnvrtc.so*")), reverse=True)
    except ImportError:
        pass
    for env in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(env):
            yield from glob.glob(os.path.join(os.environ[env], "lib64", "libnvrtc.so*"))
    yield from glob.glob("/usr/local/cuda*/lib64/libnvrtc.so*")
    found = ctypes.util.find_library("nvrtc")
    if found:
        yield found


_NVRTC = None


def nvrtc():
    """The loaded libnvrtc (ctypes.CDLL) or None."""
    global _NVRTC
    if _NVRTC is None:
        for path in _nvrtc_candidates():
            if "builtins" in path:
                continue
            try:
                _NVRTC = ctypes.CDLL(path)
                break
            except OSError:
                continue
        else:
            _NVRTC = False
    return _NVRTC or None


def nvcc() -> str | None:
    return shutil.which("nvcc")


# ----------------------------------------------------------------------------
# compiling
def compile_nvrtc(text: str, arch: str, defines: dict | None = None, name: str = "kernel.cu"):
    """Compile with NVRTC to a cubin for `arch`; returns (ok, log)."""
    lib = nvrtc()
    if lib is None:
        raise RuntimeError("NVRTC not found: pip install nvidia-cuda-nvrtc (or install the CUDA toolkit)")
    prog = ctypes.c_void_p()
    text = src.expand_includes(text)
    if lib.nvrtcCreateProgram(ctypes.byref(prog), text.encode(), name.encode(), 0, None, None) != 0:
        raise RuntimeError("nvrtcCreateProgram failed")
    opts = [f"--gpu-architecture={arch}", *NVRTC_OPTIONS, *(f"-D{k}={v}" for k, v in (defines or {}).items())]
    argv = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    rc = lib.nvrtcCompileProgram(prog, len(opts), argv)
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    buf = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, buf)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return rc == 0, buf.value.decode(errors="replace")


def compile_nvcc(path: Path, arch: str, defines: dict | None = None):
    """nvcc -cubin -arch=<arch> -Xptxas -v; returns (ok, log)."""
    exe = nvcc()
    if exe is None:
        raise RuntimeError("nvcc not found on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [exe, "-cubin", f"-arch={arch}", "-Xptxas", "-v", "-o", os.path.join(tmp, "k.cubin"),
               *(f"-D{k}={v}" for k, v in (defines or {}).items()), str(path)]
        res = subprocess.run(cmd, capture_output=True, text=True)
    return res.returncode == 0, res.stdout + res.stderr


# ----------------------------------------------------------------------------
# reading ptxas's figures
_FUNC = re.compile(r"Compiling entry function '(\w+)' for '(\w+)'")
_NUM = {"stack_bytes": r"(\d+) bytes stack frame", "spill_stores": r"(\d+) bytes spill stores",
        "spill_loads": r"(\d+) bytes spill loads", "registers": r"Used (\d+) registers",
        "static_smem": r"(\d+) bytes smem", "barriers": r"used (\d+) barriers"}


def parse_ptxas(log: str) -> dict[str, dict]:
    """{function: {registers, spill_stores, spill_loads, stack_bytes, static_smem, barriers}}."""
    out, current = {}, None
    for line in log.splitlines():
        m = _FUNC.search(line)
        if m:
            current = out.setdefault(m.group(1), {k: 0 for k in _NUM})
            continue
        if current is not None:
            for key, pat in _NUM.items():
                hit = re.search(pat, line)
                if hit:
                    current[key] = int(hit.group(1))
    return out


def report(archs=ARCHS, compiler: str = "auto") -> list[dict]:
    """One row per (file, arch, kernel) with ptxas's figures, at the files' default macro values."""
    if compiler == "auto":
        compiler = "nvrtc" if nvrtc() else "nvcc" if nvcc() else None
    if compiler is None:
        raise RuntimeError("neither NVRTC nor nvcc is available")
    rows = []
    for path in src.kernel_files():
        for arch in archs:
            if compiler == "nvrtc":
                ok, log = compile_nvrtc(path.read_text(), arch, name=path.name)
            else:
                ok, log = compile_nvcc(path, arch)
            if not ok:
                rows.append({"file": path.name, "arch": arch, "compiler": compiler, "error": log[-2000:]})
                continue
            for fn, figures in sorted(parse_ptxas(log).items()):
                rows.append({"file": path.name, "arch": arch, "compiler": compiler, "kernel": fn, **figures})
    return rows


# ----------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", nargs="+", default=list(ARCHS))
    ap.add_argument("--compiler", choices=("auto", "nvrtc", "nvcc"), default="auto")
    args = ap.parse_args(argv)
    rows = report(args.arch, args.compiler)
    print(json.dumps(rows, indent=1))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
