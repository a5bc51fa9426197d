"""Mutant of 03.1: forgets to divide the scores by sqrt(hs)."""
import numpy as np


def causal_self_attention(q, k, v):
    T = q.shape[-2]
    att = q @ np.swapaxes(k, -1, -2)
    att = np.where(np.tril(np.ones((T, T), dtype=bool)), att, -np.inf)
    p = np.exp(att - att.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True) @ v
