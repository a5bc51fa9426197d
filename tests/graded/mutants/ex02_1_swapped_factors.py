"""Mutant of 02.1: uses the wrong local derivative, d(a*b)/da = a, with correct unbroadcasting."""
import numpy as np


def mul_backward(a, b, grad):
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)

    def sum_to(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for axis, size in enumerate(shape):
            if size == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return g

    return sum_to(grad * a, a.shape), sum_to(grad * b, b.shape)
