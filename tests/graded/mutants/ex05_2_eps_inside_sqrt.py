"""Mutant of 05.2: puts eps inside the square root."""
import numpy as np


def adamw_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return p - lr * ((m / (1 - b1**t)) / np.sqrt(v / (1 - b2**t) + eps) + weight_decay * p), m, v
