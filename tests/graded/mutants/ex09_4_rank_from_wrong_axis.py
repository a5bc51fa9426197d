"""Mutant of 09.4: reads the rank off the wrong axis (r = A.shape[1] = d_in)."""
import numpy as np


def lora_merge(W, A, B, alpha):
    W, A, B = np.asarray(W), np.asarray(A), np.asarray(B)
    if W.ndim != 2 or A.shape != (A.shape[0], W.shape[1]) or B.shape != (W.shape[0], A.shape[0]) or A.shape[0] < 1:
        raise ValueError("shapes do not fit")
    return W + alpha / A.shape[1] * (B @ A)
