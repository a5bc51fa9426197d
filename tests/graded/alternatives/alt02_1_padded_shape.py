"""02.1 mul_backward: left-pad the input's shape with 1s, sum every axis where it is 1 and the output's is not, reshape."""
import numpy as np


def _sum_to(g, shape):
    padded = (1,) * (g.ndim - len(shape)) + tuple(shape)
    axes = tuple(i for i, (s, n) in enumerate(zip(padded, g.shape)) if s == 1 and n != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def mul_backward(a, b, grad):
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)
    return _sum_to(grad * b, a.shape), _sum_to(grad * a, b.shape)
