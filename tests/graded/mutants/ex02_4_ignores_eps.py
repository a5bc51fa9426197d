"""Mutant of 02.4: hard-codes eps = 1e-5 instead of using the argument."""
import numpy as np

from solutions.ex02_autograd import layernorm_backward as _reference


def layernorm_backward(x, w, dy, eps=1e-5):
    return _reference(np.asarray(x), np.asarray(w), np.asarray(dy), 1e-5)
