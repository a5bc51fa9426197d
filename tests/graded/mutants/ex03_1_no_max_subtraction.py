"""Mutant of 03.1: exponentiates the raw scores; large scores overflow to inf and give NaN."""
import math

import numpy as np


def causal_self_attention(q, k, v):
    T = q.shape[-2]
    att = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    p = np.where(np.tril(np.ones((T, T), dtype=bool)), np.exp(att), 0.0)
    return p / p.sum(axis=-1, keepdims=True) @ v
