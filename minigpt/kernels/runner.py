r"""Run a registry kernel on a back end ("shim" = CPU emulation, "cupy" = real GPU) and check it.

A check passes when every output element satisfies |out - ref| <= atol + rtol |ref|
(atol scaled by the problem's magnitude); otherwise the message lists the first
mismatches. Tests, benchmarks/kernels.py and notebook 10 all go through `check`.

    python -m minigpt.kernels.runner            # check every kernel on the CPU shim
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from minigpt.kernels import registry


# ----------------------------------------------------------------------------
def make_problem(kernel: registry.Kernel, sizes: dict, seed: int = 0) -> dict:
    """Inputs and NaN-filled output buffers for `sizes`, seeded; the sizes are merged in."""
    return {**sizes, **kernel.make(np.random.default_rng(seed), sizes)}


def _args(launch, arrays):
    return [arrays[a] if isinstance(a, str) else a for a in launch.args]


def run(kernel: registry.Kernel, problem: dict, threads: int, backend: str = "shim", **shim_kw) -> dict:
    """Launch the kernel's plan on a copy of the problem; returns {output name: NumPy array}."""
    defines = kernel.defines(problem, threads)
    launches = kernel.plan(problem, threads)
    if backend == "shim":
        from minigpt.kernels import emulate
        arrays = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in problem.items()}
        for L in launches:
            emulate.launch(L.entry, L.grid, L.threads, L.shared_bytes, *_args(L, arrays), defines=defines, **shim_kw)
        return {name: arrays[name] for name in kernel.outputs}
    if backend == "cupy":
        import cupy as cp
        from minigpt.kernels import launch as gpu
        arrays = {k: cp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in problem.items()}
        for L in launches:
            gpu.launch(L.entry, L.grid, L.threads, L.shared_bytes, *_args(L, arrays), defines=defines)
        cp.cuda.get_current_stream().synchronize()
        return {name: cp.asnumpy(arrays[name]) for name in kernel.outputs}
    raise ValueError(f"backend must be 'shim' or 'cupy', got {backend!r}")


def compare(out: np.ndarray, ref: np.ndarray, rtol: float, atol: float, name: str = "out", show: int = 5):
    """(ok, message). NaN where the reference is finite counts as a mismatch."""
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        return False, f"{name}: shape {out.shape}, expected {ref.shape}"
    err = np.abs(out - ref)
    bad = ~(err <= atol + rtol * np.abs(ref))
    bad &= ~(np.isnan(out) & np.isnan(ref))          # both NaN: agreed (e.g. an all -inf row)
    if not bad.any():
        return True, f"{name}: ok (max abs err {np.nanmax(err, initial=0.0):.3g})"
    idx = np.argwhere(bad)[:show]
    lines = [f"{name}: {int(bad.sum())}/{bad.size} mismatches (atol={atol:g}, rtol={rtol:g}); first:"]
    lines += [f"  {tuple(int(i) for i in ix)}: got {out[tuple(ix)]:.7g}, expected {ref[tuple(ix)]:.7g}" for ix in idx]
    return False, "\n".join(lines)


def check(kernel: registry.Kernel, sizes: dict, threads: int, backend: str = "shim", seed: int = 0, **shim_kw):
    """Run once and compare every output with the reference: (ok, message)."""
    problem = make_problem(kernel, sizes, seed)
    out = run(kernel, problem, threads, backend, **shim_kw)
    ref = kernel.reference(problem)
    atol = kernel.atol * sizes.get("mag", 1.0)
    results = [compare(out[k], ref[k], kernel.rtol, atol, k) for k in kernel.outputs]
    ok = all(r[0] for r in results)
    head = f"{kernel.name} sizes={sizes} threads={threads} [{backend}]"
    return ok, head + "\n  " + "\n  ".join(r[1] for r in results)


def check_size(kernel: registry.Kernel) -> dict:
    """The benchmark shape with fewer rows, so the float64 NumPy reference stays quick on a GPU host.

    Long rows (a 50k vocabulary), head_dim 64 and ragged element counts are kept.
    """
    s = dict(kernel.bench_size)
    if "N" in s and ("C" in s or "V" in s):
        s["N"] = min(s["N"], 64)
    if "n" in s:
        s["n"] = 1_000_003
    if "BH" in s:
        s.update(BH=2, T=300)
    if "M" in s:
        s = {"M": 256, "N": 320, "K": 200}
    return s


def prebuild(kernels=registry.KERNELS, jobs: int | None = None) -> int:
    """Compile, in parallel, every shim library the kernels' test sizes and block sizes need."""
    from concurrent.futures import ThreadPoolExecutor

    from minigpt.kernels import emulate, source
    wanted = {}
    for k in kernels:
        for sizes in k.test_sizes:
            problem = make_problem(k, sizes)
            for threads in k.threads_per_block:
                defines = tuple(sorted(k.defines(problem, threads).items()))
                wanted[(k.file, defines)] = None
    def one(item):
        file, defines = item
        path = source.KERNEL_DIR / file
        emulate.build(path.read_text(), dict(defines), label=path.stem)
    with ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool:
        list(pool.map(one, wanted))
    return len(wanted)


# ----------------------------------------------------------------------------
def check_all(backend: str = "shim", quick: bool = False, only: str = "") -> list[dict]:
    """Every kernel (whose name contains `only`) x test size x block size (quick: first of each)."""
    rows = []
    for k in (k for k in registry.KERNELS if only in k.name):
        for sizes in k.test_sizes[:1] if quick else k.test_sizes:
            for threads in k.threads_per_block[:1] if quick else k.threads_per_block:
                t0 = time.perf_counter()
                ok, msg = check(k, sizes, threads, backend)
                rows.append({"kernel": k.name, "sizes": sizes, "block": threads, "ok": ok,
                             "seconds": round(time.perf_counter() - t0, 3), **({} if ok else {"message": msg})})
    return rows


if __name__ == "__main__":
    results = check_all("shim", quick="--quick" in sys.argv)
    print(json.dumps(results, indent=1))
    sys.exit(0 if all(r["ok"] for r in results) else 1)
