"""Mutant of 03.1: no causal mask, every position sees the future."""
import math

import numpy as np


def causal_self_attention(q, k, v):
    att = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    p = np.exp(att - att.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True) @ v
