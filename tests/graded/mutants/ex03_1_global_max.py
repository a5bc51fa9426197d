"""Mutant of 03.1 (class: rows of very different scales): subtracts the max over the whole batch, not each row's."""
import math

import numpy as np


def causal_self_attention(q, k, v):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    T, hs = q.shape[-2], q.shape[-1]
    att = (q @ np.swapaxes(k, -1, -2)) / math.sqrt(hs)
    att = np.where(np.tril(np.ones((T, T), dtype=bool)), att, -np.inf)
    p = np.exp(att - att.max())
    return p / p.sum(axis=-1, keepdims=True) @ v
