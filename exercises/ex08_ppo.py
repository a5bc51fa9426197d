# GENERATED from solutions/ex08_ppo.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercises for notebook 08 (PPO): rewards per token, advantages, and the clipped policy loss.

One PPO iteration in RLHF: sample responses, score them with the reward model, turn the score
into per-token rewards with a KL penalty against the SFT model (08.3), estimate advantages
with GAE from the value head (08.1), then take a few clipped policy-gradient steps (08.2).

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m "ex_08_1_gae or ex_08_2_ppo_clip or ex_08_3_kl_rewards"
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    r"""Exercise 08.1: generalized advantage estimation (Schulman et al., 2016). Notebook 08, §3b.

    rewards, values: (..., T), time along the last axis; gamma γ, lam λ as in the notebook.
    last_value: V(s_T), the value of the state after the final step (a scalar or shape (...)); 0 when
    the episode is over, as for a finished response. dones: optional bool (..., T); dones[t] = True
    means the episode ends after step t, so nothing leaks back from the next episode (the next value
    and advantage count as 0 there); with a batch, each row has its own dones. Integer rewards/values
    are exact numbers: the results are floating point (float32 at least).

    Returns:
        (advantages, returns), both shaped like rewards; returns = advantages + values (the value
        head's regression targets).

    Example: r = [0, 1], V = [0.5, 0.5], γ = 1, λ = 0.5, last_value = 0
        -> advantages = [0.25, 0.5],  returns = [0.75, 1.0]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 08.1: gae() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def ppo_clip_loss(logp_new, logp_old, advantages, eps=0.2, mask=None):
    r"""Exercise 08.2: PPO's clipped surrogate policy loss and its gradient w.r.t. logp_new. Notebook 08, §3c.

    logp_new, logp_old: log-probabilities of the taken tokens under the new policy and the old
    (sampling) one; advantages: one per token; all of one shape. eps: the clip range ε.
    loss = −(mean of the per-token clipped objective) over the tokens where mask is true (all
    tokens when mask is None); 0.0 with a zero gradient if no token counts.

    Returns:
        (loss, dlogp_new): a Python float and d loss / d logp_new, an array shaped like logp_new.

    Example (ε = 0.2), four tokens with ratios π_new/π_old = [1.5, 1.5, 0.5, 0.5], A = [+1, −1, +1, −1]
        -> loss = 0.15,  dlogp_new = [0, 1.5, −0.5, 0] / 4   (tokens 0 and 3 are clipped)
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 08.2: ppo_clip_loss() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    r"""Exercise 08.3: per-token RLHF rewards: a KL penalty on every token, the RM score at the end. Notebook 08, §3a.

    logp, logp_ref: (B, T) log-probabilities of the sampled response tokens under the policy and
    under the frozen reference (SFT) model; mask: (B, T) true on real response tokens, false on
    padding (on the left, the right or both: "last real token" is the last True of the row);
    score: (B,) the reward model's score of each whole response, added on the LAST real token of
    its row; beta: KL coefficient β. Padding gets 0; a row without real tokens gets all zeros.

    Returns:
        rewards: (B, T).

    Example: logp = [[−1, −2, 0]], logp_ref = [[−1.5, −1, 0]], mask = [[1, 1, 0]], score = [2], β = 0.1
        -> [[−0.05, 2.1, 0]]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 08.3: kl_penalized_rewards() is not written yet (your code goes between the markers)")
    ### END SOLUTION
