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
    r"""Exercise 08.1: generalized advantage estimation (Schulman et al., 2016).

    rewards, values: (..., T), time along the last axis. last_value: V(s_T), the value of the
    state after the final step (a scalar or shape (...)); 0 when the episode is over, as for a
    finished response. dones: optional bool (..., T); dones[t] = True means the episode ends
    after step t, so there V_{t+1} and A_{t+1} count as 0 (nothing leaks back from the next episode);
    with a batch, each row has its own dones. Integer rewards/values are exact numbers: the
    results are floating point (float32 at least).
        δ_t = r_t + γ V_{t+1} − V_t             (V_T = last_value)
        A_t = δ_t + γ λ A_{t+1}                 (A_T = 0), computed backwards from t = T − 1
        returns_t = A_t + V_t                   (the value head's regression targets)
    λ = 0 gives the one-step TD error δ_t; λ = 1 gives the Monte-Carlo return minus V_t.

    Returns:
        (advantages, returns), both shaped like rewards.

    Example: r = [0, 1], V = [0.5, 0.5], γ = 1, λ = 0.5, last_value = 0
        δ = [0 + 0.5 − 0.5, 1 + 0 − 0.5] = [0, 0.5];  A_1 = 0.5,  A_0 = 0 + 1 · 0.5 · 0.5 = 0.25
        advantages = [0.25, 0.5],  returns = [0.75, 1.0]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 08.1: gae() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def ppo_clip_loss(logp_new, logp_old, advantages, eps=0.2, mask=None):
    r"""Exercise 08.2: PPO's clipped surrogate policy loss and its gradient w.r.t. logp_new.

    Per token: the probability ratio ρ = exp(logp_new − logp_old) of the taken token under the
    new and the old (sampling) policy, and
        objective_t = min(ρ A, clip(ρ, 1 − ε, 1 + ε) A)
    loss = −mean of objective_t over the tokens where mask is true (all tokens when mask is None);
    0.0 with a zero gradient if no token counts. The min is a pessimistic bound: for A > 0 the gain
    stops growing at ρ = 1 + ε, for A < 0 at ρ = 1 − ε, but a change that made the objective
    worse is never clipped.
    Gradient of objective_t w.r.t. logp_new_t: ρ A where the unclipped term is the min, else 0.
    The returned gradient is that of the loss (minus sign, divided by the count).

    Returns:
        (loss, dlogp_new): a Python float and an array shaped like logp_new.

    Example (ε = 0.2), four tokens:
        ρ = 1.5, A = +1: min(1.5, 1.2) = 1.2     clipped, gradient 0
        ρ = 1.5, A = −1: min(−1.5, −1.2) = −1.5  not clipped, d/dlogp = ρ A = −1.5
        ρ = 0.5, A = +1: min(0.5, 0.8) = 0.5     not clipped, d/dlogp = 0.5
        ρ = 0.5, A = −1: min(−0.5, −0.8) = −0.8  clipped, gradient 0
        loss = −(1.2 − 1.5 + 0.5 − 0.8) / 4 = 0.15,  dlogp_new = [0, 1.5, −0.5, 0] / 4
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 08.2: ppo_clip_loss() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    r"""Exercise 08.3: per-token RLHF rewards: a KL penalty on every token, the RM score at the end.

    logp, logp_ref: (B, T) log-probabilities of the sampled response tokens under the policy and
    under the frozen reference (SFT) model; mask: (B, T) true on real response tokens, false on
    padding (on the left, the right or both: "last real token" is the last True of the row);
    score: (B,) the reward model's score of each whole response; beta: KL coefficient β.
        r_t = −β (logp_t − logp_ref_t)     on real tokens (a one-sample estimate of the KL, as a penalty)
        r_last += score                    on the LAST real token of each row
        r_t = 0                            on padding
    A row without real tokens gets all zeros.

    Returns:
        rewards: (B, T).

    Example: logp = [[−1, −2, 0]], logp_ref = [[−1.5, −1, 0]], mask = [[1, 1, 0]], score = [2], β = 0.1
        logp − logp_ref = [0.5, −1, ·] -> r = [−0.05, 0.1 + 2, 0] = [−0.05, 2.1, 0]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 08.3: kl_penalized_rewards() is not written yet (your code goes between the markers)")
    ### END SOLUTION
