"""Mutant of 09.4: scales the adapter by α instead of α/r (right only when r = 1)."""
import numpy as np


def lora_merge(W, A, B, alpha):
    W, A, B = np.asarray(W), np.asarray(A), np.asarray(B)
    if W.ndim != 2 or A.shape != (A.shape[0], W.shape[1]) or B.shape != (W.shape[0], A.shape[0]) or A.shape[0] < 1:
        raise ValueError("shapes do not fit")
    return W + alpha * (B @ A)
