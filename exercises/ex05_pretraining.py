# GENERATED from solutions/ex05_pretraining.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercises for notebook 05 (pretraining): the loss, the optimizer step and the sampling filter.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m "ex_05_1_cross_entropy or ex_05_2_adamw"
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def cross_entropy(logits, targets, ignore_index=-100):
    r"""Exercise 05.1: mean next-token cross-entropy and its gradient with respect to the logits. Notebook 05, §1.

    logits: (..., V) scores; targets: (...) ints, each in [0, V) or equal to ignore_index.
    The loss is the MEAN over the N positions whose target is not ignore_index (the ignored ones are
    neither in the sum nor in the count). If N = 0 the loss is 0.0 and the gradient is all zeros.
    Logits like 1e4 must give finite numbers, in every row of a batch whatever the other rows hold.
    Integer logits are exact numbers: the loss and the gradient are floating point.

    Returns:
        (loss, dlogits): a Python float and d loss / d logits, an array shaped like logits
        (zero at ignored positions).

    Example: logits = [[0, 0], [0, ln 3]], targets = [0, -100]
        -> loss = ln 2 ≈ 0.6931, dlogits = [[−0.5, 0.5], [0, 0]]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 05.1: cross_entropy() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def adamw_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    r"""Exercise 05.2: one AdamW update (Adam with decoupled weight decay, Loshchilov & Hutter). Notebook 05, §2.

    p, g, m, v: arrays of one shape: the weights, their gradient, and Adam's two running averages
    (zeros before the first step); t: the step number, starting at 1; lr, betas = (β1, β2), eps,
    weight_decay: as in minigpt.optim.AdamW (eps is added after the square root; the decay is
    decoupled, applied to p before this step, not added to g).

    Returns:
        new arrays (p, m, v); the input arrays are left unchanged.

    Example (t = 1, m = v = 0, weight_decay = 0): p = [1, 1], g = [0.5, −2], lr = 0.1
        -> p ≈ [0.9, 1.1]  (on the first step each weight moves by about lr, whatever |g|),
           m = [0.05, −0.2], v = [0.00025, 0.004]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 05.2: adamw_step() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def top_k_top_p_filter(logits, k=None, p=None):
    r"""Exercise 05.3: keep only the top-k and nucleus (top-p) tokens; set the other logits to −inf.

    Works along the last axis of logits (..., V) and returns a new array of the same shape: kept
    entries equal the input, removed entries are −inf, so sampling from softmax of the result
    only draws kept tokens. The positions of the tokens do not change (no sorting of the output).
    1. top-k (skipped when k is None or 0; k >= V keeps everything): keep the k largest logits of
       each row, and any logit tied with the k-th largest; remove the rest.
    2. top-p (skipped when p is None or p >= 1; need 0 < p): take the distribution that survived
       step 1, renormalised (softmax of the filtered logits), sort its tokens by probability,
       largest first, and keep a token if the total probability of the tokens BEFORE it is < p.
       So the token that crosses p is kept, and the most likely token is always kept. Tokens of
       equal probability may be ordered either way: only how many are kept is fixed.
    Each row is filtered on its own (its own k-th largest logit, its own distribution).

    Example: probs = [0.5, 0.3, 0.15, 0.05] (logits = log probs), k = None, p = 0.75
        mass before each token = [0, 0.5, 0.8, 0.95] -> keep tokens 0 and 1.
    Example: the same logits, k = 2, p = 0.55: top-2 renormalised = [0.625, 0.375],
        mass before = [0, 0.625] -> keep token 0 only (top-p looks at the top-k distribution).
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 05.3: top_k_top_p_filter() is not written yet (your code goes between the markers)")
    ### END SOLUTION
