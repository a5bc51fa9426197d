"""Mutant of 02.1: sums dims added on the left but forgets dims stretched from size 1."""
import numpy as np


def mul_backward(a, b, grad):
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)

    def sum_to(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        return g

    return sum_to(grad * b, a.shape), sum_to(grad * a, b.shape)
