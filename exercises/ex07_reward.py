# GENERATED from solutions/ex07_reward.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
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
    raise NotImplementedError("exercise 07.1: rm_pairwise_loss() is not written yet (your code goes between the markers)")
    ### END SOLUTION
