r"""Exercises for notebook 03 (attention): causal self-attention (03.1) and the online softmax (03.2).

The model's attention layer (minigpt/nn) splits the residual stream into nh heads of size hs,
computes q, k, v and then exactly causal_self_attention, once per head, in one batched matmul.
Its flash path (ops.flash_attention) never stores a whole row of scores: it keeps the running
max and sum of online_softmax for every query.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m "ex_03_1_attention or ex_03_2_online_softmax"
"""
from __future__ import annotations

import math
import operator

import numpy as np


# -----------------------------------------------------------------------------
def causal_self_attention(q, k, v):
    r"""Exercise 03.1: causal scaled dot-product attention (forward only). Notebook 03, §1–§3.

    q, k, v: (B, nh, T, hs). Position t attends to positions s <= t only. Scores may be large:
    nothing may overflow. Use batched matmul (`@` works on the last two axes), no Python loop over
    B, nh or T.

    Returns:
        y: (B, nh, T, hs).

    Example: T = 1 -> y = v (a single token attends only to itself).
    Example: hs = 1, q = k = [[0], [0]], v = [[1], [3]] -> y = [[1], [2]]
    """
    ### BEGIN SOLUTION
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    T, hs = q.shape[-2], q.shape[-1]
    att = (q @ np.swapaxes(k, -1, -2)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
    causal = np.tril(np.ones((T, T), dtype=bool))  # (T, T), True where s <= t
    att = np.where(causal, att, -np.inf)
    att = att - att.max(axis=-1, keepdims=True)  # the diagonal is never masked, so the max is finite
    p = np.exp(att)
    p = p / p.sum(axis=-1, keepdims=True)  # (B, nh, T, T)
    return p @ v  # (B, nh, T, hs)
    ### END SOLUTION


# -----------------------------------------------------------------------------
def online_softmax(x, block):
    r"""Exercise 03.2: each row's softmax statistics in one pass over blocks of columns, as flash attention needs them.

    x: (R, C) scores, finite or -inf (masked); block: an int >= 1. Visit the columns in blocks of
    `block` (the last may be shorter), left to right, looking at each block once: keep a running
    pair (m, s) per row and merge each block's pair into it (notebook 03, §7).
    Returns (m, s), each of shape (R,): m = each row's maximum, s = the sum over the row of
    exp(x - m), so that softmax(x) = exp(x - m[:, None]) / s[:, None]. A row with nothing but -inf
    (fully masked) gives m = -inf, s = 0, never NaN; a first block of only -inf must not spoil the
    rest of the row. Integer x is read as float64; float32 may stay float32. x not 2-D or
    block < 1: ValueError.

    Example: online_softmax([[1.0, 3.0, 2.0]], block=2) -> m = [3.0], s = [1.5032147]   (1 + e^-1 + e^-2)
    Example: online_softmax([[-inf, -inf, 5.0], [-inf, -inf, -inf]], block=2) -> m = [5.0, -inf], s = [1.0, 0.0]
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"online_softmax needs x of shape (R, C), got shape {x.shape}")
    try:
        block = operator.index(block)
    except TypeError:
        raise ValueError(f"block must be an integer, got {block!r}") from None
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)

    def merge(m_a, s_a, m_b, s_b):
        """(max, Σ exp(· − max)) of two parts of a row -> the pair of their union; a part of only −inf is (−inf, 0)."""
        m = np.maximum(m_a, m_b)
        shift = np.where(np.isneginf(m), 0.0, m)  # both parts empty so far: keep s = 0 instead of exp(−inf + inf) = NaN
        return m, s_a * np.exp(m_a - shift) + s_b * np.exp(m_b - shift)

    R, C = x.shape
    m = np.full(R, -np.inf, dtype=x.dtype)  # (R,) running max: nothing seen yet
    s = np.zeros(R, dtype=x.dtype)  # (R,) running Σ exp(x − m)
    for j in range(0, C, block):
        xb = x[:, j:j + block]  # (R, b)
        mb = xb.max(axis=1)  # (R,) the block's own max
        shift = np.where(np.isneginf(mb), 0.0, mb)
        sb = np.exp(xb - shift[:, None]).sum(axis=1)  # (R,) the block's own sum; 0 for an all −inf block
        m, s = merge(m, s, mb, sb)
    return m, s
    ### END SOLUTION
