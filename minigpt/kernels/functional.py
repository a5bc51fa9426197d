r"""The kernels as plain functions on arrays: what the ops call on the GPU path.

Each function takes and returns arrays of one kind: CuPy arrays run on the GPU (launch.py),
NumPy arrays run on the CPU emulation shim (emulate.py, slow: for tests and teaching).
Launch plans come from the registry (the production version of each kernel at a fixed
block size), so these functions, the tests and the benchmarks launch kernels the same way.
Leading dimensions are flattened: softmax over (B, T, C) is softmax over (B*T, C) rows.

    import numpy as np
    from minigpt.kernels import functional as KF
    y = KF.softmax_fwd(np.random.default_rng(0).standard_normal((2, 3, 50), dtype=np.float32))
"""
from __future__ import annotations

import math

import numpy as np

from minigpt.kernels import registry
from minigpt.kernels.reference import IGNORE_INDEX

GPU_MAX_BLOCKS = 1024   # grid-stride kernels: enough blocks to fill any current GPU
SHIM_MAX_BLOCKS = 4     # the shim runs blocks one after another: few, fat blocks are faster


# ----------------------------------------------------------------------------
def _is_cupy(a) -> bool:
    return type(a).__module__.split(".")[0] == "cupy"


def _xp(a):
    if _is_cupy(a):
        import cupy
        return cupy
    return np


def _f32(a):
    """C-contiguous float32 of the same array kind."""
    return _xp(a).ascontiguousarray(a, dtype=np.float32)


def _run(name: str, threads: int, problem: dict) -> dict:
    """Launch registry kernel `name` on the arrays in `problem`; returns `problem`."""
    kernel = registry.get(name)
    defines = kernel.defines(problem, threads)
    gpu = any(_is_cupy(v) for v in problem.values())
    for L in kernel.plan(problem, threads):
        args = [problem[a] if isinstance(a, str) else a for a in L.args]
        if gpu:
            from minigpt.kernels import launch
            launch.launch(L.entry, L.grid, L.threads, L.shared_bytes, *args, defines=defines)
        else:
            from minigpt.kernels import emulate
            emulate.launch(L.entry, L.grid, L.threads, L.shared_bytes, *args, defines=defines)
    return problem


def _max_blocks(a) -> int:
    return GPU_MAX_BLOCKS if _is_cupy(a) else SHIM_MAX_BLOCKS


def as_rows(x):
    """(..., C) -> contiguous float32 (N, C) and the original shape."""
    x = _f32(x)
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"expected an array of shape (..., C) with C >= 1, got {x.shape}")
    return x.reshape(-1, x.shape[-1]), x.shape


# ----------------------------------------------------------------------------
# softmax
def softmax_fwd(x):
    r"""softmax over the last axis. Rows up to 4096 use a warp per row (v2), longer ones a block (v3)."""
    x2, shape = as_rows(x)
    N, C = x2.shape
    p = {"x": x2, "y": _xp(x).empty_like(x2), "N": N, "C": C}
    if C <= 4096:
        _run("softmax_fwd_v2", 128, p)
    else:
        _run("softmax_fwd_v3", 256, p)
    return p["y"].reshape(shape)


def softmax_bwd(y, dy):
    r"""dx = y (dy - sum(dy y)) over the last axis."""
    y2, shape = as_rows(y)
    p = {"y": y2, "dy": _f32(dy).reshape(y2.shape), "dx": _xp(y).empty_like(y2), "N": y2.shape[0], "C": y2.shape[1]}
    return _run("softmax_bwd", 128, p)["dx"].reshape(shape)


# ----------------------------------------------------------------------------
# layernorm
def layernorm_fwd(x, w, b, eps=1e-5):
    r"""Returns y (shape of x), mean and rstd (shape of x without its last axis)."""
    x2, shape = as_rows(x)
    N, C = x2.shape
    xp = _xp(x)
    p = {"x": x2, "w": _f32(w), "b": _f32(b), "y": xp.empty_like(x2), "mean": xp.empty(N, np.float32),
         "rstd": xp.empty(N, np.float32), "N": N, "C": C, "eps": float(eps)}
    _run("layernorm_fwd", 128, p)
    return p["y"].reshape(shape), p["mean"].reshape(shape[:-1]), p["rstd"].reshape(shape[:-1])


def layernorm_bwd(dy, x, w, mean, rstd):
    r"""Returns dx, dw, db. C is at most 6144 (dw/db partials live in 48 KiB of shared memory)."""
    x2, shape = as_rows(x)
    N, C = x2.shape
    if 2 * C * 4 > 48 * 1024:
        raise ValueError(f"layernorm_bwd supports C <= 6144, got C={C}")
    xp = _xp(x)
    p = {"dy": _f32(dy).reshape(N, C), "x": x2, "w": _f32(w), "mean": _f32(mean).reshape(N),
         "rstd": _f32(rstd).reshape(N), "dx": xp.empty_like(x2), "dw": xp.zeros(C, np.float32),
         "db": xp.zeros(C, np.float32), "N": N, "C": C, "max_blocks": _max_blocks(x)}
    _run("layernorm_bwd", 128, p)
    return p["dx"].reshape(shape), p["dw"], p["db"]


# ----------------------------------------------------------------------------
# cross-entropy
def cross_entropy_fwd(logits, targets, ignore_index=IGNORE_INDEX):
    r"""Mean loss over rows whose target is not ignore_index, plus per-row losses and lse (for backward).

    logits (..., V), targets (...) integers. Returns (loss: 0-d float32 array, losses (N,), lse (N,)).
    """
    z, _ = as_rows(logits)
    N, V = z.shape
    xp = _xp(logits)
    t = xp.ascontiguousarray(targets, dtype=np.int32).reshape(-1)
    if t.shape[0] != N:
        raise ValueError(f"targets hold {t.shape[0]} entries for {N} rows of logits")
    p = {"logits": z, "targets": t, "losses": xp.empty(N, np.float32), "lse": xp.empty(N, np.float32),
         "N": N, "V": V, "ignore_index": int(ignore_index)}
    _run("cross_entropy_fwd", 256, p)
    n_valid = max(1, int((t != ignore_index).sum()))
    return p["losses"].sum() / np.float32(n_valid), p["losses"], p["lse"]


def cross_entropy_bwd(logits, targets, lse, dloss=1.0, ignore_index=IGNORE_INDEX):
    r"""d(mean loss)/dlogits * dloss, shape of logits; ignored rows get 0."""
    z, shape = as_rows(logits)
    N, V = z.shape
    xp = _xp(logits)
    t = xp.ascontiguousarray(targets, dtype=np.int32).reshape(-1)
    n_valid = max(1, int((t != ignore_index).sum()))
    p = {"logits": z, "targets": t, "lse": _f32(lse).reshape(N), "grad_scale": float(dloss) / n_valid,
         "dlogits": xp.empty_like(z), "N": N, "V": V, "ignore_index": int(ignore_index)}
    return _run("cross_entropy_bwd", 256, p)["dlogits"].reshape(shape)


# ----------------------------------------------------------------------------
# elementwise
def gelu_fwd(x):
    x1 = _f32(x)
    p = {"x": x1.reshape(-1), "y": _xp(x).empty(x1.size, np.float32), "n": x1.size, "max_blocks": _max_blocks(x)}
    return _run("gelu_fwd", 256, p)["y"].reshape(x1.shape)


def gelu_bwd(x, dy):
    x1 = _f32(x)
    p = {"x": x1.reshape(-1), "dy": _f32(dy).reshape(-1), "dx": _xp(x).empty(x1.size, np.float32), "n": x1.size,
         "max_blocks": _max_blocks(x)}
    return _run("gelu_bwd", 256, p)["dx"].reshape(x1.shape)


def check_adamw_args(p, g, m, v, step):
    """adamw_step updates p, m, v in place: each must be a flat contiguous float32 buffer (a copy would take the
    update away), and step counts from 1 (the bias corrections divide by 1 - beta^step)."""
    for name, a in (("p", p), ("g", g), ("m", m), ("v", v)):
        if a.dtype != np.float32 or a.ndim != 1 or not a.flags.c_contiguous:
            raise TypeError(f"adamw_step: {name} must be a flat contiguous float32 buffer, got {a.dtype} {a.shape}")
    if step < 1:
        raise ValueError(f"adamw_step: step counts from 1, got {step}")


def adamw_step(p, g, m, v, *, lr, beta1, beta2, eps, weight_decay, step, grad_scale=1.0):
    r"""One AdamW step IN PLACE on flat float32 buffers p, m, v (g is read). step counts from 1."""
    check_adamw_args(p, g, m, v, step)
    problem = {"p": p, "g": g, "m": m, "v": v, "n": p.size, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
               "weight_decay": weight_decay, "bc1": 1.0 - beta1 ** step, "bc2": 1.0 - beta2 ** step,
               "grad_scale": grad_scale, "max_blocks": _max_blocks(p)}
    _run("adamw", 256, problem)


# ----------------------------------------------------------------------------
# attention
def _att_block(hs: int) -> int:
    if hs > 128:
        raise ValueError(f"flash attention kernels support head_dim <= 128, got {hs}")
    return 64 if hs <= 64 else 32          # keeps dynamic shared memory under 48 KiB


def attention_fwd(q, k, v):
    r"""Causal attention, q, k, v (..., T, hs) -> o (..., T, hs), lse (..., T)."""
    shape = q.shape
    T, hs = shape[-2:]
    xp = _xp(q)
    p = {"q": _f32(q).reshape(-1, T, hs), "k": _f32(k).reshape(-1, T, hs), "v": _f32(v).reshape(-1, T, hs),
         "T": T, "hs": hs, "scale": 1.0 / math.sqrt(hs)}
    p["BH"] = p["q"].shape[0]
    p["o"], p["lse"] = xp.empty_like(p["q"]), xp.empty((p["BH"], T), np.float32)
    _run("attention_fwd", _att_block(hs), p)
    return p["o"].reshape(shape), p["lse"].reshape(shape[:-1])


def attention_bwd(q, k, v, o, lse, do):
    r"""Gradients (dq, dk, dv) of sum(o * do), from the forward's o and lse."""
    shape = q.shape
    T, hs = shape[-2:]
    xp = _xp(q)
    p = {name: _f32(a).reshape(-1, T, hs) for name, a in (("q", q), ("k", k), ("v", v), ("o", o), ("do", do))}
    BH = p["q"].shape[0]
    p.update(lse=_f32(lse).reshape(BH, T), T=T, hs=hs, BH=BH, scale=1.0 / math.sqrt(hs),
             delta=xp.empty((BH, T), np.float32), dq=xp.empty_like(p["q"]), dk=xp.empty_like(p["q"]),
             dv=xp.empty_like(p["q"]))
    _run("attention_bwd", _att_block(hs), p)
    return p["dq"].reshape(shape), p["dk"].reshape(shape), p["dv"].reshape(shape)
