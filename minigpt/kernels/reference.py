r"""NumPy references for every CUDA kernel: the math each .cu file must reproduce.

Straightforward float64 formulas, written for clarity, not speed. The tests compare
each kernel (on the CPU shim or a GPU) against these, and check these against torch
and against central differences of their own forward functions.

    python -c "import numpy as np; from minigpt.kernels import reference as R; print(R.gelu_fwd(np.array([1.0])))"
"""
from __future__ import annotations

import math

import numpy as np

IGNORE_INDEX = -100  # the target id cross-entropy skips (PyTorch's convention); the one definition
GELU_C = math.sqrt(2.0 / math.pi)


def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


# ----------------------------------------------------------------------------
# softmax
def softmax_fwd(x):
    r"""y_ij = exp(x_ij - m_i) / \sum_k exp(x_ik - m_i), m_i = max_k x_ik.  x: (N, C)."""
    (x,) = _f64(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_bwd(y, dy):
    r"""dx_ij = y_ij (dy_ij - \sum_k dy_ik y_ik)."""
    y, dy = _f64(y, dy)
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


# ----------------------------------------------------------------------------
# layernorm
def layernorm_fwd(x, w, b, eps=1e-5):
    r"""y = (x - mean) / sqrt(var + eps) * w + b over the last axis; var is biased (divides by C).

    Returns y (N, C), mean (N,), rstd = 1/sqrt(var + eps) (N,).
    """
    x, w, b = _f64(x, w, b)
    mean = x.mean(axis=-1)
    var = ((x - mean[:, None]) ** 2).mean(axis=-1)
    rstd = 1.0 / np.sqrt(var + eps)
    return (x - mean[:, None]) * rstd[:, None] * w + b, mean, rstd


def layernorm_bwd(dy, x, w, mean, rstd):
    r"""With xhat = (x - mean) rstd and g = dy w:
    dx = rstd (g - mean_j(g) - xhat mean_j(g xhat)),  dw = \sum_rows dy xhat,  db = \sum_rows dy.
    """
    dy, x, w, mean, rstd = _f64(dy, x, w, mean, rstd)
    xhat = (x - mean[:, None]) * rstd[:, None]
    g = dy * w
    dx = rstd[:, None] * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


# ----------------------------------------------------------------------------
# cross-entropy
def cross_entropy_fwd(logits, targets, ignore_index=IGNORE_INDEX):
    r"""Per-row loss_i = lse_i - logits[i, t_i] (0 where t_i == ignore_index) and lse_i = log \sum_j exp(logits_ij).

    The mean loss is losses.sum() / (number of rows not ignored).
    """
    (z,) = _f64(logits)
    t = np.asarray(targets)
    m = z.max(axis=-1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=-1))
    keep = t != ignore_index
    picked = z[np.arange(len(t)), np.where(keep, t, 0)]
    return np.where(keep, lse - picked, 0.0), lse


def cross_entropy_bwd(logits, targets, lse, grad_scale, ignore_index=IGNORE_INDEX):
    r"""dlogits_ij = grad_scale (softmax_ij - [j == t_i]); rows with t_i == ignore_index get 0.

    For the mean loss grad_scale = dloss / (number of rows not ignored).
    """
    z, lse = _f64(logits, lse)
    t = np.asarray(targets)
    keep = t != ignore_index
    d = np.exp(z - lse[:, None])
    d[np.arange(len(t))[keep], t[keep]] -= 1.0
    return grad_scale * d * keep[:, None]


# ----------------------------------------------------------------------------
# GELU (GPT-2's tanh approximation)
def gelu_fwd(x):
    r"""gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)."""
    (x,) = _f64(x)
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x**3)))


def gelu_bwd(x, dy):
    r"""gelu'(x) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)."""
    x, dy = _f64(x, dy)
    t = np.tanh(GELU_C * (x + 0.044715 * x**3))
    return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * x * x))


# ----------------------------------------------------------------------------
# AdamW
def adamw_step(p, g, m, v, *, lr, beta1, beta2, eps, weight_decay, step, grad_scale=1.0):
    r"""One AdamW step (decoupled weight decay, as torch.optim.AdamW); returns new (p, m, v).

    g <- grad_scale g;  p <- p (1 - lr wd);  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - lr mhat / (sqrt(vhat) + eps),  mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t).
    """
    p, g, m, v = _f64(p, g, m, v)
    g = grad_scale * g
    p = p * (1.0 - lr * weight_decay)
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    mhat = m / (1.0 - beta1**step)
    vhat = v / (1.0 - beta2**step)
    return p - lr * mhat / (np.sqrt(vhat) + eps), m, v


# ----------------------------------------------------------------------------
# matmul
def matmul(a, b):
    """C = A @ B for A (M, K), B (K, N)."""
    a, b = _f64(a, b)
    return a @ b


# ----------------------------------------------------------------------------
# causal attention, the naive O(T^2)-memory way
def attention_fwd(q, k, v):
    r"""o = softmax(q k^T / sqrt(hs) + causal mask) v;  q, k, v: (BH, T, hs).

    Returns o (BH, T, hs) and lse (BH, T) = log \sum_{j<=i} exp(s_ij), the softmax normaliser.
    """
    q, k, v = _f64(q, k, v)
    T, hs = q.shape[-2:]
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(hs)             # (BH, T, T)
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    lse = m[..., 0] + np.log(np.exp(s - m).sum(axis=-1))
    return np.exp(s - lse[..., None]) @ v, lse


def attention_bwd(q, k, v, do):
    r"""Gradients of sum(o * do) for o = attention_fwd(q, k, v)[0]:
    P = softmax(S),  dV = P^T dO,  dP = dO V^T,  dS = P (dP - rowsum(dO o)),  dQ = dS K / sqrt(hs),  dK = dS^T Q / sqrt(hs).
    """
    q, k, v, do = _f64(q, k, v, do)
    hs = q.shape[-1]
    o, lse = attention_fwd(q, k, v)
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(hs)
    p = np.tril(np.exp(s - lse[..., None]))                    # (BH, T, T), zero above the diagonal
    dv = np.swapaxes(p, -1, -2) @ do
    dp = do @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (do * o).sum(axis=-1, keepdims=True))
    return ds @ k / math.sqrt(hs), np.swapaxes(ds, -1, -2) @ q / math.sqrt(hs), dv
