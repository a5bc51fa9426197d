"""Mutant of 02.2: transposes with .T, which reverses ALL axes (right for 2-D, wrong for batches)."""
import numpy as np


def matmul_backward(a, b, grad):
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)
    da, db = grad @ b.T, a.T @ grad

    def sum_to(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for axis, size in enumerate(shape):
            if size == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return g

    return sum_to(da, a.shape), sum_to(db, b.shape)
