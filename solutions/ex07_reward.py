r"""Exercise for notebook 07 (reward model): the pairwise ranking loss over K-way rankings.

InstructGPT's labelers rank K = 4..9 responses to a prompt; every one of the C(K, 2) pairs is a
comparison "winner beats loser", and the reward model r(x, y) is trained so that winners score
higher. All pairs of a prompt are used together (one forward pass per response, not per pair).

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_07_1_rm_loss
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def rm_pairwise_loss(rewards):
    r"""Exercise 07.1: reward-model loss over all C(K, 2) ranked pairs, and its gradient. Notebook 07, §2.

    rewards: (N, K) scores r(x, y_1), ..., r(x, y_K) of K >= 2 responses for each of N prompts,
    listed BEST FIRST (the labeler ranked y_1 above y_2 above ... y_K). Every pair i < j is a
    comparison with winner i and loser j; the loss is the mean over the N · C(K, 2) comparisons.
    A gap of ±1e4 between two rewards must give finite numbers. Integer rewards are exact numbers:
    the gradient is floating point.

    Returns:
        (loss, drewards): a Python float and d loss / d rewards, an (N, K) array.
    Raises:
        ValueError if rewards is not 2-D with K >= 2.

    Example: K = 2, rewards = [[1, 0]] -> loss ≈ 0.3133, drewards ≈ [[−0.2689, 0.2689]]
    """
    ### BEGIN SOLUTION
    r = np.asarray(rewards)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(f"rewards must be (N, K) with K >= 2 responses per prompt, got shape {r.shape}")
    N, K = r.shape
    win, lose = np.triu_indices(K, k=1)  # all pairs i < j: i is ranked above j
    d = r[:, win] - r[:, lose]  # (N, C(K,2))
    n_pairs = N * len(win)
    loss = float(np.logaddexp(0.0, -d).sum(dtype=np.float64)) / n_pairs
    coef = -np.exp(-np.logaddexp(0.0, d)) / n_pairs  # -σ(-d) / n_pairs, stable for huge |d|
    dr = np.zeros_like(r, dtype=coef.dtype)
    for c, (i, j) in enumerate(zip(win, lose)):
        dr[:, i] += coef[:, c]
        dr[:, j] -= coef[:, c]
    return loss, dr
    ### END SOLUTION
