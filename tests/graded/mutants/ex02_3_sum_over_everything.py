"""Mutant of 02.3: sums dy * y over the whole array instead of along `axis`."""
import numpy as np


def softmax_backward(y, dy, axis=-1):
    return y * (dy - np.sum(dy * y))
