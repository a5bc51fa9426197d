# GENERATED from solutions/ex03_attention.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercise for notebook 03 (attention): causal scaled dot-product self-attention, forward.

The model's attention layer (minigpt/nn) splits the residual stream into nh heads of size hs,
computes q, k, v and then exactly this function, once per head, in one batched matmul.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_03_1_attention
"""
from __future__ import annotations

import math

import numpy as np


# -----------------------------------------------------------------------------
def causal_self_attention(q, k, v):
    r"""Exercise 03.1: causal scaled dot-product attention (forward only).

    q, k, v: (B, nh, T, hs). For every batch entry and head:
        S = q kᵀ / sqrt(hs)            (T, T) scores; the √hs keeps their variance near 1
        S[t, s] = −∞ for s > t          causal mask: position t attends to positions s ≤ t only
        P = softmax(S) along s          each row of P sums to 1
        y = P v                         (T, hs)
    Subtract each row's max before exp, so large scores cannot overflow (softmax is shift-invariant).
    Use batched matmul (`@` works on the last two axes), no Python loop over B, nh or T.

    Returns:
        y: (B, nh, T, hs).

    Example: T = 1 -> P = [[1]] and y = v (a single token attends only to itself).
    Example: hs = 1, q = k = [[0], [0]], v = [[1], [3]] -> P = [[1, 0], [0.5, 0.5]], y = [[1], [2]]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 03.1: causal_self_attention() is not written yet (your code goes between the markers)")
    ### END SOLUTION
