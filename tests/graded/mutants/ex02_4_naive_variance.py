"""Mutant of 02.4 (class: offsets of ±1e3): the variance as E[x²] − E[x]², which cancels catastrophically."""
import numpy as np


def layernorm_backward(x, w, dy, eps=1e-5):
    x, w, dy = np.asarray(x), np.asarray(w), np.asarray(dy)
    mu = x.mean(axis=-1, keepdims=True)
    var = np.maximum((x * x).mean(axis=-1, keepdims=True) - mu * mu, 0)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    g = dy * w
    dx = (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True)) * rstd
    lead = tuple(range(x.ndim - 1))
    return dx, (dy * xhat).sum(axis=lead), dy.sum(axis=lead)
