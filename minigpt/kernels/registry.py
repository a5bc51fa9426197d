r"""The registry of CUDA kernels and their versions: one table that tests, benchmarks and notebook 10 iterate.

Each `Kernel` says which .cu file and entry points it uses, how to launch them for a
problem (grid, block, shared memory), how to build a random problem (inputs plus output
buffers filled with NaN, so an element nobody writes shows up), its NumPy reference,
which outputs to compare, and how many bytes/flops one run must move (for GB/s).

    python -c "from minigpt.kernels import registry; [print(k.name, k.entries) for k in registry.KERNELS]"
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minigpt.kernels import reference as R

F32 = 4  # bytes per float32


# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Launch:
    entry: str                    # extern "C" function name
    grid: tuple                   # blocks, (x, y, z)
    threads: tuple                # threads per block, (x, y, z): CUDA's blockDim
    shared_bytes: int             # dynamic shared memory
    args: tuple                   # problem keys (str) or literal scalars, in parameter order


@dataclass(frozen=True)
class Kernel:
    name: str                                     # e.g. "softmax_fwd_v2"
    file: str                                     # .cu file in minigpt/kernels/
    entries: tuple                                # entry points launched, in order
    summary: str                                  # one line: what this version does
    make: Callable[[np.random.Generator, dict], dict]   # sizes -> problem (arrays + scalars);
                                                        # the runner merges the sizes into it
    plan: Callable[[dict, int], list]             # (problem, block size) -> [Launch, ...]
    reference: Callable[[dict], dict]             # problem -> {output name: float64 array}
    outputs: tuple                                # problem keys the kernel writes
    test_sizes: tuple                             # size dicts for the tests (ragged, large logits, ...)
    threads_per_block: tuple                            # block sizes the tests sweep
    bench_size: dict                              # size dict for benchmarks/kernels.py
    traffic: Callable[[dict], tuple]              # sizes -> (bytes that must move, flops); flops of
                                                  # elementwise math are rough (exp, tanh count as 1)
    defines: Callable[[dict, int], dict] = field(default=lambda p, threads: {})  # -D macros
    rtol: float = 1e-5
    atol: float = 1e-6                            # multiplied by sizes.get("mag", 1)


def _cdiv(a, b):
    return (a + b - 1) // b


def _nan(*shape):
    return np.full(shape, np.nan, dtype=np.float32)


def _randn(rng, *shape, scale=1.0, offset=0.0):
    return (offset + scale * rng.standard_normal(shape)).astype(np.float32)


# ----------------------------------------------------------------------------
# softmax
def _softmax_make(rng, s):
    x = _randn(rng, s["N"], s["C"], scale=s.get("mag", 1.0))
    if s.get("masked"):                       # some -inf entries, never a whole row
        mask = rng.random(x.shape) < 0.3
        mask[:, 0] = False
        x[mask] = -np.inf
    return {"x": x, "y": _nan(s["N"], s["C"]), "N": s["N"], "C": s["C"]}


def _softmax_plan(version):
    def plan(p, threads):
        N = p["N"]
        if version == "v1":
            grid = _cdiv(N, threads)                  # one thread per row
        elif version == "v2":
            grid = _cdiv(N, threads // 32)            # one warp per row
        else:
            grid = N                                # one block per row
        return [Launch(f"softmax_fwd_{version}", (grid,), (threads,), 0, ("y", "x", "N", "C"))]
    return plan


_SOFTMAX_SIZES = ({"N": 13, "C": 301}, {"N": 6, "C": 7, "mag": 1e4}, {"N": 5, "C": 1000, "mag": 1e4},
                  {"N": 4, "C": 77, "masked": True})
_SOFTMAX_SUMMARY = {"v1": "naive: one thread per row, 3 passes, uncoalesced",
                    "v2": "one warp per row, online max/sum, shuffles, coalesced",
                    "v3": "one block per row, online max/sum, warps merge via shared memory"}


def _softmax_kernel(version, threads_per_block, bench):
    return Kernel(
        f"softmax_fwd_{version}", "softmax.cu", (f"softmax_fwd_{version}",), _SOFTMAX_SUMMARY[version],
        _softmax_make, _softmax_plan(version), lambda p: {"y": R.softmax_fwd(p["x"])}, ("y",),
        _SOFTMAX_SIZES, threads_per_block, bench, lambda s: (2 * F32 * s["N"] * s["C"], 5 * s["N"] * s["C"]))


def _softmax_bwd_make(rng, s):
    y = R.softmax_fwd(_randn(rng, s["N"], s["C"], scale=s.get("mag", 1.0))).astype(np.float32)
    return {"y": y, "dy": _randn(rng, s["N"], s["C"]), "dx": _nan(s["N"], s["C"]), "N": s["N"], "C": s["C"]}


# ----------------------------------------------------------------------------
# layernorm
def _ln_make(rng, s):
    N, C = s["N"], s["C"]
    return {"x": _randn(rng, N, C, scale=2.0, offset=s.get("offset", 0.0)), "w": _randn(rng, C, offset=1.0),
            "b": _randn(rng, C), "y": _nan(N, C), "mean": _nan(N), "rstd": _nan(N), "N": N, "C": C,
            "eps": 1e-5}


def _ln_bwd_make(rng, s):
    p = _ln_make(rng, s)
    _, mean, rstd = R.layernorm_fwd(p["x"], p["w"], p["b"])
    N, C = s["N"], s["C"]
    return {"dy": _randn(rng, N, C), "x": p["x"], "w": p["w"], "mean": mean.astype(np.float32),
            "rstd": rstd.astype(np.float32), "dx": _nan(N, C), "dw": np.zeros(C, np.float32),
            "db": np.zeros(C, np.float32), "N": N, "C": C}


def _ln_bwd_plan(p, threads):
    # few blocks so the grid-stride loop and the per-block atomics both get exercised
    grid = min(_cdiv(p["N"], threads // 32), p.get("max_blocks", 3))
    return [Launch("layernorm_bwd", (grid,), (threads,), 2 * p["C"] * F32,
                   ("dx", "dw", "db", "dy", "x", "w", "mean", "rstd", "N", "C"))]


_LN_SIZES = ({"N": 11, "C": 100}, {"N": 4, "C": 13}, {"N": 7, "C": 770, "offset": 50.0})


# ----------------------------------------------------------------------------
# cross-entropy
def _ce_make(rng, s):
    N, V = s["N"], s["V"]
    t = rng.integers(0, V, size=N).astype(np.int32)
    t[rng.random(N) < 0.25] = R.IGNORE_INDEX
    return {"logits": _randn(rng, N, V, scale=s.get("mag", 1.0)), "targets": t, "losses": _nan(N),
            "lse": _nan(N), "N": N, "V": V, "ignore_index": R.IGNORE_INDEX}


def _ce_bwd_make(rng, s):
    p = _ce_make(rng, s)
    _, lse = R.cross_entropy_fwd(p["logits"], p["targets"])
    n_valid = max(1, int((p["targets"] != R.IGNORE_INDEX).sum()))
    return {"logits": p["logits"], "targets": p["targets"], "lse": lse.astype(np.float32),
            "grad_scale": 1.0 / n_valid, "dlogits": _nan(s["N"], s["V"]), "N": s["N"], "V": s["V"],
            "ignore_index": R.IGNORE_INDEX}


_CE_SIZES = ({"N": 9, "V": 300}, {"N": 6, "V": 1000, "mag": 1e4}, {"N": 4, "V": 40})


# ----------------------------------------------------------------------------
# elementwise: gelu, adamw
def _gelu_make(rng, s):
    x = _randn(rng, s["n"], scale=3.0)
    x[:4] = [-10.0, 10.0, 0.0, -0.5][: len(x[:4])]
    return {"x": x, "dy": _randn(rng, s["n"]), "y": _nan(s["n"]), "dx": _nan(s["n"]), "n": s["n"]}


def _grid_stride(p, threads, key="n"):
    return (min(_cdiv(p[key], threads), p.get("max_blocks", 3)),)   # few blocks: exercise the loop


_ADAMW_HYPER = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "step": 3,
                "grad_scale": 0.5}


def _adamw_make(rng, s):
    n, h = s["n"], _ADAMW_HYPER
    return {"p": _randn(rng, n), "g": _randn(rng, n), "m": _randn(rng, n, scale=0.1),
            "v": (0.01 * rng.random(n)).astype(np.float32), "n": n, **h,
            "bc1": 1.0 - h["beta1"] ** h["step"], "bc2": 1.0 - h["beta2"] ** h["step"]}


def _adamw_ref(p):
    hyper = {k: p[k] for k in _ADAMW_HYPER}
    new_p, m, v = R.adamw_step(p["p"], p["g"], p["m"], p["v"], **hyper)
    return {"p": new_p, "m": m, "v": v}


# ----------------------------------------------------------------------------
# matmul
def _mm_make(rng, s):
    M, N, K = s["M"], s["N"], s["K"]
    return {"A": _randn(rng, M, K), "B": _randn(rng, K, N), "C": _nan(M, N), "M": M, "N": N, "K": K}


def _mm_plan(version):
    def plan(p, threads):
        grid = (_cdiv(p["N"], threads), _cdiv(p["M"], threads))
        return [Launch(f"matmul_{version}", grid, (threads, threads), 0, ("C", "A", "B", "M", "N", "K"))]
    return plan


_MM_SIZES = ({"M": 37, "N": 29, "K": 45}, {"M": 16, "N": 16, "K": 16}, {"M": 5, "N": 70, "K": 3})


# ----------------------------------------------------------------------------
# causal flash attention
ATT_BC = ATT_BQ = 16   # the .cu defaults for the key / query tile


def _att_make(rng, s):
    BH, T, hs = s["BH"], s["T"], s["hs"]
    q, k, v = (_randn(rng, BH, T, hs) for _ in range(3))
    return {"q": q, "k": k, "v": v, "o": _nan(BH, T, hs), "lse": _nan(BH, T), "T": T, "BH": BH, "hs": hs,
            "scale": 1.0 / math.sqrt(hs)}


def _att_fwd_plan(p, threads):
    shared = (2 * ATT_BC * p["hs"] + threads * (p["hs"] + 1)) * F32
    return [Launch("attention_fwd", (_cdiv(p["T"], threads), p["BH"]), (threads,), shared,
                   ("o", "lse", "q", "k", "v", "T", "scale"))]


def _att_fwd_ref(p):
    o, lse = R.attention_fwd(p["q"], p["k"], p["v"])
    return {"o": o, "lse": lse}


def _att_bwd_make(rng, s):
    p = _att_make(rng, s)
    o, lse = R.attention_fwd(p["q"], p["k"], p["v"])
    shape = p["q"].shape
    p.update(o=o.astype(np.float32), lse=lse.astype(np.float32), do=_randn(rng, *shape),
             delta=_nan(*shape[:2]), dq=_nan(*shape), dk=_nan(*shape), dv=_nan(*shape))
    return p


def _att_bwd_plan(p, threads):
    BH, T, hs = p["BH"], p["T"], p["hs"]
    grid = (_cdiv(T, threads), BH)
    args = ("q", "k", "v", "do", "lse", "delta", "T", "scale")
    return [Launch("attention_bwd_preprocess", (_cdiv(BH * T, threads),), (threads,), 0, ("delta", "o", "do", BH * T)),
            Launch("attention_bwd_dq", grid, (threads,), (2 * ATT_BC * hs + 2 * threads * (hs + 1)) * F32, ("dq",) + args),
            Launch("attention_bwd_dkdv", grid, (threads,), (2 * ATT_BQ * hs + 2 * ATT_BQ + 2 * threads * (hs + 1)) * F32,
                   ("dk", "dv") + args)]


def _att_bwd_ref(p):
    dq, dk, dv = R.attention_bwd(p["q"], p["k"], p["v"], p["do"])
    return {"dq": dq, "dk": dk, "dv": dv}


_ATT_SIZES = ({"BH": 3, "T": 37, "hs": 16}, {"BH": 2, "T": 5, "hs": 16}, {"BH": 1, "T": 64, "hs": 16})


def _att_flops(s, factor):
    return factor * s["BH"] * s["T"] * s["T"] * s["hs"]   # causal: half of the 2 T^2 hs per matmul


# ----------------------------------------------------------------------------
KERNELS = (
    _softmax_kernel("v1", (32, 64), {"N": 4096, "C": 4096}),
    _softmax_kernel("v2", (32, 128), {"N": 4096, "C": 4096}),
    _softmax_kernel("v3", (32, 128, 256), {"N": 1024, "C": 50304}),
    Kernel("softmax_bwd", "softmax.cu", ("softmax_bwd",), "one warp per row: dot by shuffles, then dx",
           _softmax_bwd_make,
           lambda p, b: [Launch("softmax_bwd", (_cdiv(p["N"], b // 32),), (b,), 0, ("dx", "dy", "y", "N", "C"))],
           lambda p: {"dx": R.softmax_bwd(p["y"], p["dy"])}, ("dx",), _SOFTMAX_SIZES[:3], (32, 128),
           {"N": 4096, "C": 4096}, lambda s: (3 * F32 * s["N"] * s["C"], 4 * s["N"] * s["C"])),
    Kernel("layernorm_fwd", "layernorm.cu", ("layernorm_fwd",), "one warp per row, Welford + shuffle merge",
           _ln_make,
           lambda p, b: [Launch("layernorm_fwd", (_cdiv(p["N"], b // 32),), (b,), 0,
                                ("y", "mean", "rstd", "x", "w", "b", "N", "C", "eps"))],
           lambda p: dict(zip(("y", "mean", "rstd"), R.layernorm_fwd(p["x"], p["w"], p["b"], p["eps"]))),
           ("y", "mean", "rstd"), _LN_SIZES, (32, 128), {"N": 8192, "C": 768},
           lambda s: (2 * F32 * s["N"] * s["C"], 9 * s["N"] * s["C"]), rtol=1e-4, atol=1e-5),
    Kernel("layernorm_bwd", "layernorm.cu", ("layernorm_bwd",),
           "warps per row, dw/db partials in shared memory, one atomicAdd per column per block",
           _ln_bwd_make, _ln_bwd_plan,
           lambda p: dict(zip(("dx", "dw", "db"), R.layernorm_bwd(p["dy"], p["x"], p["w"], p["mean"], p["rstd"]))),
           ("dx", "dw", "db"), _LN_SIZES, (32, 128), {"N": 8192, "C": 768, "max_blocks": 264},
           lambda s: (3 * F32 * s["N"] * s["C"], 14 * s["N"] * s["C"]), rtol=1e-4, atol=1e-4),
    Kernel("cross_entropy_fwd", "crossentropy.cu", ("cross_entropy_fwd",),
           "one block per row, online logsumexp, ignore_index", _ce_make,
           lambda p, b: [Launch("cross_entropy_fwd", (p["N"],), (b,), 0,
                                ("losses", "lse", "logits", "targets", "N", "V", "ignore_index"))],
           lambda p: dict(zip(("losses", "lse"), R.cross_entropy_fwd(p["logits"], p["targets"]))),
           ("losses", "lse"), _CE_SIZES, (32, 128), {"N": 8192, "V": 50304},
           lambda s: (F32 * s["N"] * s["V"], 5 * s["N"] * s["V"]), atol=2e-5),
    Kernel("cross_entropy_bwd", "crossentropy.cu", ("cross_entropy_bwd",),
           "one block per row, softmax - onehot from the saved lse", _ce_bwd_make,
           lambda p, b: [Launch("cross_entropy_bwd", (p["N"],), (b,), 0,
                                ("dlogits", "logits", "lse", "targets", "grad_scale", "N", "V", "ignore_index"))],
           lambda p: {"dlogits": R.cross_entropy_bwd(p["logits"], p["targets"], p["lse"], p["grad_scale"])},
           ("dlogits",), _CE_SIZES, (32, 128), {"N": 8192, "V": 50304},
           lambda s: (2 * F32 * s["N"] * s["V"], 4 * s["N"] * s["V"]), rtol=1e-4, atol=1e-7),
    Kernel("gelu_fwd", "gelu.cu", ("gelu_fwd",), "grid-stride elementwise", _gelu_make,
           lambda p, b: [Launch("gelu_fwd", _grid_stride(p, b), (b,), 0, ("y", "x", "n"))],
           lambda p: {"y": R.gelu_fwd(p["x"])}, ("y",), ({"n": 1000}, {"n": 37}),
           (32, 128, 256), {"n": 1 << 26, "max_blocks": 1 << 16}, lambda s: (2 * F32 * s["n"], 10 * s["n"]), atol=1e-6),
    Kernel("gelu_bwd", "gelu.cu", ("gelu_bwd",), "grid-stride elementwise", _gelu_make,
           lambda p, b: [Launch("gelu_bwd", _grid_stride(p, b), (b,), 0, ("dx", "dy", "x", "n"))],
           lambda p: {"dx": R.gelu_bwd(p["x"], p["dy"])}, ("dx",), ({"n": 1000}, {"n": 37}),
           (32, 128, 256), {"n": 1 << 26, "max_blocks": 1 << 16}, lambda s: (3 * F32 * s["n"], 18 * s["n"]), atol=1e-6),
    Kernel("adamw", "adamw.cu", ("adamw_step",), "one fused pass over a flat parameter buffer", _adamw_make,
           lambda p, b: [Launch("adamw_step", _grid_stride(p, b), (b,), 0,
                                ("p", "g", "m", "v", "n", "lr", "beta1", "beta2", "eps", "weight_decay",
                                 "bc1", "bc2", "grad_scale"))],
           _adamw_ref, ("p", "m", "v"), ({"n": 1000}, {"n": 37}), (64, 256),
           {"n": 1 << 26, "max_blocks": 1 << 16}, lambda s: (7 * F32 * s["n"], 16 * s["n"]), rtol=1e-4, atol=1e-6),
    Kernel("matmul_v1", "matmul.cu", ("matmul_v1",), "naive: one thread per output, global loads only",
           _mm_make, _mm_plan("v1"), lambda p: {"C": R.matmul(p["A"], p["B"])}, ("C",), _MM_SIZES, (8, 16),
           {"M": 2048, "N": 2048, "K": 2048}, lambda s: (F32 * (s["M"] * s["K"] + s["K"] * s["N"] + s["M"] * s["N"]),
                                                          2 * s["M"] * s["N"] * s["K"]), rtol=1e-4, atol=1e-4,
           defines=lambda p, b: {"MM_TILE": b}),   # v1 ignores it; same build as v2
    Kernel("matmul_v2", "matmul.cu", ("matmul_v2",), "shared-memory tiles of MM_TILE x MM_TILE",
           _mm_make, _mm_plan("v2"), lambda p: {"C": R.matmul(p["A"], p["B"])}, ("C",), _MM_SIZES, (8, 16),
           {"M": 2048, "N": 2048, "K": 2048}, lambda s: (F32 * (s["M"] * s["K"] + s["K"] * s["N"] + s["M"] * s["N"]),
                                                          2 * s["M"] * s["N"] * s["K"]), rtol=1e-4, atol=1e-4,
           defines=lambda p, b: {"MM_TILE": b}),
    Kernel("attention_fwd", "attention.cu", ("attention_fwd",),
           "flash attention forward: thread per query row, K/V tiles in shared memory, online softmax",
           _att_make, _att_fwd_plan, _att_fwd_ref, ("o", "lse"), _ATT_SIZES, (16, 32),
           {"BH": 48, "T": 1024, "hs": 64}, lambda s: (4 * F32 * s["BH"] * s["T"] * s["hs"], _att_flops(s, 2)),
           defines=lambda p, b: {"HEAD_DIM": p["hs"]}, rtol=1e-4, atol=1e-5),
    Kernel("attention_bwd", "attention.cu", ("attention_bwd_preprocess", "attention_bwd_dq", "attention_bwd_dkdv"),
           "flash attention backward: D = rowsum(dO*O), then dq by query tiles and dk/dv by key tiles (no atomics)",
           _att_bwd_make, _att_bwd_plan, _att_bwd_ref, ("dq", "dk", "dv"), _ATT_SIZES, (16, 32),
           {"BH": 48, "T": 1024, "hs": 64}, lambda s: (8 * F32 * s["BH"] * s["T"] * s["hs"], _att_flops(s, 5)),
           defines=lambda p, b: {"HEAD_DIM": p["hs"]}, rtol=1e-4, atol=1e-4),
)
BY_NAME = {k.name: k for k in KERNELS}


def get(name: str) -> Kernel:
    if name not in BY_NAME:
        raise KeyError(f"unknown kernel {name!r}; the registry has {sorted(BY_NAME)}")
    return BY_NAME[name]
