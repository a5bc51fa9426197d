"""Mutant of 09.4: returns float64 for a float32 W (the merged model silently doubles its memory)."""
import numpy as np


def lora_merge(W, A, B, alpha):
    W, A, B = (np.asarray(a, dtype=np.float64) for a in (W, A, B))
    if W.ndim != 2 or A.shape != (A.shape[0], W.shape[1]) or B.shape != (W.shape[0], A.shape[0]) or A.shape[0] < 1:
        raise ValueError("shapes do not fit")
    return W + alpha / A.shape[0] * (B @ A)
