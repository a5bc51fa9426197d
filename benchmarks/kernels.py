"""Benchmark the hand-written CUDA kernels: achieved GB/s (GFLOP/s for matmul/attention) vs the device peak.

For every kernel in minigpt/kernels/registry.py: validate against the NumPy reference
first (at runner.check_size, every block size), then time the benchmark shape with CUDA
events (warmup, then repeats) for each block size, and, when torch with CUDA is
installed, time torch's equivalent. Bytes are the minimum traffic the op must move
(read inputs once, write outputs once), so a slow version shows up as a low fraction
of peak. Prints JSON. Without a GPU it says so and validates every kernel on the CPU
shim instead, so the script always runs:

    python benchmarks/kernels.py                    # all kernels
    python benchmarks/kernels.py --only softmax     # names containing "softmax"
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from minigpt.kernels import launch, registry, runner

# ----------------------------------------------------------------------------
# device facts


def device_info():
    import cupy as cp
    dev = cp.cuda.Device()
    props = cp.cuda.runtime.getDeviceProperties(dev.id)
    attrs = dev.attributes
    clock_khz = attrs.get("MemoryClockRate") or props.get("memoryClockRate")
    bus_bits = attrs.get("GlobalMemoryBusWidth") or props.get("memoryBusWidth")
    peak = 2 * clock_khz * 1e3 * bus_bits / 8 if clock_khz and bus_bits else None   # DDR: 2 transfers/clock
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return {"name": name, "sm_count": attrs.get("MultiProcessorCount"),
            "compute_capability": dev.compute_capability, "peak_GBps": peak / 1e9 if peak else None}


def time_gpu(fn, warmup: int, repeats: int) -> float:
    """Milliseconds per call of fn (which launches work on the current stream), by CUDA events."""
    import cupy as cp
    for _ in range(warmup):
        fn()
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    for _ in range(repeats):
        fn()
    stop.record()
    stop.synchronize()
    return cp.cuda.get_elapsed_time(start, stop) / repeats


# ----------------------------------------------------------------------------
# torch equivalents (optional): name -> (problem on GPU as torch tensors) -> callable


def torch_equivalents():
    try:
        import torch
        if not torch.cuda.is_available():
            return None, {}
    except ImportError:
        return None, {}
    F = torch.nn.functional
    aten = torch.ops.aten
    eq = {
        "softmax_fwd": lambda t: lambda: torch.softmax(t["x"], -1),
        "softmax_bwd": lambda t: lambda: aten._softmax_backward_data(t["dy"], t["y"], -1, torch.float32),
        "layernorm_fwd": lambda t: lambda: F.layer_norm(t["x"], t["w"].shape, t["w"], t["b"], 1e-5),
        "cross_entropy_fwd": lambda t: lambda: F.cross_entropy(t["logits"], t["targets"].long(), reduction="none"),
        "gelu_fwd": lambda t: lambda: F.gelu(t["x"], approximate="tanh"),
        "gelu_bwd": lambda t: lambda: aten.gelu_backward(t["dy"], t["x"], approximate="tanh"),
        "matmul": lambda t: lambda: t["A"] @ t["B"],
        "attention_fwd": lambda t: lambda: F.scaled_dot_product_attention(
            t["q"][None], t["k"][None], t["v"][None], is_causal=True),
    }
    return torch, eq


def torch_key(name: str) -> str:
    return name.rsplit("_v", 1)[0] if name.rsplit("_v", 1)[-1].isdigit() else name


def time_torch(torch, fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        fn()
    stop.record()
    torch.cuda.synchronize()
    return start.elapsed_time(stop) / repeats


# ----------------------------------------------------------------------------
def bench_kernel(kernel, info, torch, eq, warmup, repeats):
    import cupy as cp
    row = {"kernel": kernel.name, "summary": kernel.summary, "sizes": kernel.bench_size}
    for threads in kernel.threads_per_block:                     # validate before timing
        ok, msg = runner.check(kernel, runner.check_size(kernel), threads, backend="cupy")
        if not ok:
            row["error"] = msg
            return row
    problem = runner.make_problem(kernel, kernel.bench_size)
    arrays = {k: cp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in problem.items()}
    nbytes, flops = kernel.traffic(kernel.bench_size)
    row["bytes"], row["flops"], row["blocks"] = nbytes, flops, []
    for threads in kernel.threads_per_block:
        launches = kernel.plan(problem, threads)
        defines = kernel.defines(problem, threads)

        def go():
            for L in launches:
                launch.launch(L.entry, L.grid, L.threads, L.shared_bytes,
                              *[arrays[a] if isinstance(a, str) else a for a in L.args], defines=defines)
        ms = time_gpu(go, warmup, repeats)
        r = {"block": threads, "ms": round(ms, 4), "GBps": round(nbytes / ms / 1e6, 1)}
        if info["peak_GBps"]:
            r["frac_peak_bw"] = round(r["GBps"] / info["peak_GBps"], 3)
        if flops:
            r["GFLOPs"] = round(flops / ms / 1e6, 1)
        row["blocks"].append(r)
    if torch is not None and torch_key(kernel.name) in eq:
        tensors = {k: torch.as_tensor(v, device="cuda") for k, v in arrays.items() if isinstance(v, cp.ndarray)}
        ms = time_torch(torch, eq[torch_key(kernel.name)](tensors), warmup, repeats)
        row["torch"] = {"ms": round(ms, 4), "GBps": round(nbytes / ms / 1e6, 1),
                        **({"GFLOPs": round(flops / ms / 1e6, 1)} if flops else {})}
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run kernels whose name contains this")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    kernels = [k for k in registry.KERNELS if args.only in k.name]
    if not launch.is_available():
        rows = runner.check_all("shim", quick=True, only=args.only)
        print(json.dumps({"gpu": False, "reason": "CuPy or a CUDA GPU is not available; validated on the CPU shim "
                          "instead (no timings: the shim measures correctness, not speed)",
                          "shim_validation": rows}, indent=1))
        return 0 if all(r["ok"] for r in rows) else 1
    info = device_info()
    torch, eq = torch_equivalents()
    rows = [bench_kernel(k, info, torch, eq, args.warmup, args.repeats) for k in kernels]
    print(json.dumps({"gpu": True, "device": info, "torch": torch.__version__ if torch else None,
                      "results": rows}, indent=1))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
