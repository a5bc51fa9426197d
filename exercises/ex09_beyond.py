# GENERATED from solutions/ex09_beyond.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercises for notebook 09 (beyond the four stages): DPO, GRPO, RoPE and LoRA.

Notebook 09 derives each of these; here each one is a small NumPy function that the notebook
calls next to the library's version (minigpt/stages/dpo.py, stages/grpo.py, ops/rope.py,
nn/lora.py) and that the graded checks test on adversarial inputs.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_09_1_dpo_loss
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    r"""Exercise 09.1: the DPO loss of a batch of preference pairs, and its gradient.

    pi_chosen, pi_rejected: (B,) sequence log-probabilities log π_θ(y|x) of the chosen and the
        rejected response of each of B >= 1 pairs, under the policy being trained;
    ref_chosen, ref_rejected: (B,) the same under the frozen reference model;
    beta: > 0, the strength of the KL constraint (notebook 09, section 4).
    Float64, float32 or integer arrays; the loss must stay finite and accurate for margins of
    any size (try ±1e3).

    Returns:
        (loss, d_chosen, d_rejected): the loss as a Python float (averaged over the B pairs) and
        d loss / d pi_chosen, d loss / d pi_rejected, each a float (B,) array.
    Raises:
        ValueError if the four inputs are not 1-D of one length B >= 1, or beta <= 0.

    Example: beta = 0.5, pi_chosen = [-1], ref_chosen = [-2], pi_rejected = [-3], ref_rejected = [-2.5]
        -> loss ≈ 0.386871, d_chosen ≈ [-0.160411], d_rejected ≈ [0.160411]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 09.1: dpo_loss() is not written yet (your code goes between the markers)")
    ### END SOLUTION


# -----------------------------------------------------------------------------
def grpo_advantages(rewards, group_size, eps=1e-4):
    r"""Exercise 09.2: GRPO's group-relative advantages of a batch of sampled responses.

    rewards: (N,) one score per response, laid out as N / G consecutive groups of G responses to
        the same prompt (responses 0..G-1 answer prompt 0, G..2G-1 prompt 1, ...); float or int;
    group_size: G >= 1, and N must be a multiple of G (N = 0 gives an empty answer);
    eps: >= 0, added to each group's spread, as in notebook 09, section 4. The spread is the
        POPULATION standard deviation of the group (divide by G, NumPy's default ddof=0).
    Groups in one batch may differ in scale by many orders of magnitude, and sit far from zero
    (rewards near 1e3 that differ by 1e-3): work in float64.

    Returns:
        a float64 (N,) array: the advantage of every response.
    Raises:
        ValueError if rewards is not 1-D, group_size < 1, N is not a multiple of group_size, or eps < 0.

    Example: rewards [1, 0, 0, 1, 2, 2], group_size 2 (eps 1e-4)
        -> [0.9998, -0.9998, -0.9998, 0.9998, 0, 0]   (0.9998 = 0.5 / 0.5001)
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 09.2: grpo_advantages() is not written yet (your code goes between the markers)")
    ### END SOLUTION


# -----------------------------------------------------------------------------
def rope_rotate(x, positions, base=10000.0):
    r"""Exercise 09.3: rotary position embedding (RoPE) of queries or keys, in minigpt's convention.

    x: (..., T, hs) queries or keys, hs even; float64, float32 or integer;
    positions: (T,) the absolute position of each of the T rows (any integers, in any order);
    base: > 0, the base of the angle table (10000 in LLaMA).
    Channel i is paired with channel i + hs/2 (the "half-split" pairing of minigpt/ops/rope.py and
    LLaMA's Hugging Face port; the RoFormer paper pairs neighbours 2i, 2i + 1 instead), pair 0
    turns fastest, and a positive angle turns channel i towards channel i + hs/2 — as notebook 09,
    section 1 derives. x itself is left unchanged.

    Returns:
        an array of x's shape: float32 for float32 x, float64 otherwise.
    Raises:
        ValueError if hs is odd, or positions is not 1-D of length T.

    Example: x = [[1, 2, 3, 4], [1, 2, 3, 4]], positions [0, 1], base 100
        -> [[1, 2, 3, 4], [-1.984111, 1.590675, 2.462378, 4.179683]]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 09.3: rope_rotate() is not written yet (your code goes between the markers)")
    ### END SOLUTION


# -----------------------------------------------------------------------------
def lora_merge(W, A, B, alpha):
    r"""Exercise 09.4: fold a trained LoRA adapter into its frozen weight, as `LoRALinear.merge()` does.

    W: (d_out, d_in) the frozen weight (y = x Wᵀ);
    A: (r, d_in) and B: (d_out, r) the adapter, rank r >= 1 (read off A and B);
    alpha: the adapter's scaling hyperparameter α (notebook 09, section 3; LoRA's default ties it to r,
        but any real α is allowed).
    W, A and B are left unchanged: the merged weight is a new array, of W's dtype when W is
    float32 or float64 (float64 otherwise).

    Returns:
        the merged (d_out, d_in) weight.
    Raises:
        ValueError if the shapes do not fit together (W 2-D, A (r, d_in), B (d_out, r), r >= 1).

    Example: W = [[1, 0, 0], [0, 1, 0]], A = [[1, 2, 3]], B = [[1], [-1]], alpha = 2
        -> [[3, 4, 6], [-2, -3, -6]]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 09.4: lora_merge() is not written yet (your code goes between the markers)")
    ### END SOLUTION
