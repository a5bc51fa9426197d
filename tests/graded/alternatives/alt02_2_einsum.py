"""02.2 matmul_backward with einsum (batch dims broadcast through '...'), then the broadcast dims summed away."""
import numpy as np


def _sum_to(g, shape):
    padded = (1,) * (g.ndim - len(shape)) + tuple(shape)
    axes = tuple(i for i, (s, n) in enumerate(zip(padded, g.shape)) if s == 1 and n != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def matmul_backward(a, b, grad):
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)
    da = np.einsum("...nm,...km->...nk", grad, b)  # grad bᵀ
    db = np.einsum("...nk,...nm->...km", a, grad)  # aᵀ grad
    return _sum_to(da, a.shape), _sum_to(db, b.shape)
