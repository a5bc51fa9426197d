"""Mutant of 02.4: uses the unbiased variance (divide by C - 1) instead of LayerNorm's biased one."""
import numpy as np


def layernorm_backward(x, w, dy, eps=1e-5):
    x, w, dy = np.asarray(x), np.asarray(w), np.asarray(dy)
    C = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).sum(axis=-1, keepdims=True) / max(C - 1, 1)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    g = dy * w
    dx = (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True)) * rstd
    lead = tuple(range(x.ndim - 1))
    return dx, (dy * xhat).sum(axis=lead), dy.sum(axis=lead)
