"""Mutant of 02.4: forgets that sigma depends on x: dx = (g - mean(g)) / sigma."""
import numpy as np


def layernorm_backward(x, w, dy, eps=1e-5):
    x, w, dy = np.asarray(x), np.asarray(w), np.asarray(dy)
    mu = x.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    g = dy * w
    dx = (g - g.mean(axis=-1, keepdims=True)) * rstd
    lead = tuple(range(x.ndim - 1))
    return dx, (dy * xhat).sum(axis=lead), dy.sum(axis=lead)
