"""Mutant of 05.2: uses m and v without the 1 / (1 - beta^t) bias correction."""
import numpy as np


def adamw_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return p - lr * (m / (np.sqrt(v) + eps) + weight_decay * p), m, v
