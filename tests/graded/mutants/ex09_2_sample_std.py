"""Mutant of 09.2: the sample standard deviation (divide by G − 1, ddof=1) instead of the population one."""
import numpy as np


def grpo_advantages(rewards, group_size, eps=1e-4):
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1 or group_size < 1 or len(r) % group_size or eps < 0:
        raise ValueError("bad input")
    g = r.reshape(-1, group_size)
    return ((g - g.mean(axis=1, keepdims=True)) / (g.std(axis=1, ddof=1, keepdims=True) + eps)).reshape(-1)
