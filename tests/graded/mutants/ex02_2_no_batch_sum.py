"""Mutant of 02.2: right products, but the gradient is never summed over broadcast batch dims."""
import numpy as np


def matmul_backward(a, b, grad):
    return grad @ np.swapaxes(b, -1, -2), np.swapaxes(a, -1, -2) @ grad
