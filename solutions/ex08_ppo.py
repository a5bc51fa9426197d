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
    r = np.asarray(rewards)
    V = np.asarray(values)
    if r.shape != V.shape:
        raise ValueError(f"rewards {r.shape} and values {V.shape} must have the same shape")
    T = r.shape[-1]
    alive = np.ones(r.shape, dtype=bool) if dones is None else ~np.asarray(dones, dtype=bool)
    dtype = np.result_type(r, V, np.float32)
    adv = np.zeros(r.shape, dtype=dtype)  # (..., T)
    next_value = np.broadcast_to(np.asarray(last_value, dtype=dtype), r.shape[:-1])  # (...,)
    next_adv = np.zeros(r.shape[:-1], dtype=dtype)  # (...,)
    for t in reversed(range(T)):
        keep = alive[..., t]
        delta = r[..., t] + gamma * next_value * keep - V[..., t]
        next_adv = delta + gamma * lam * next_adv * keep
        adv[..., t] = next_adv
        next_value = V[..., t]
    return adv, adv + V
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
    logp_new, logp_old, A = np.asarray(logp_new), np.asarray(logp_old), np.asarray(advantages)
    m = np.ones(logp_new.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    n = int(m.sum())
    if n == 0:
        return 0.0, np.zeros_like(logp_new)
    ratio = np.exp(logp_new - logp_old)
    unclipped = ratio * A
    clipped = np.clip(ratio, 1.0 - eps, 1.0 + eps) * A
    objective = np.minimum(unclipped, clipped)
    loss = -float(np.sum(np.where(m, objective, 0.0), dtype=np.float64)) / n
    active = (unclipped <= clipped) & m  # the gradient flows through the unclipped term only
    grad = np.where(active, -unclipped / n, 0.0).astype(logp_new.dtype)
    return loss, grad
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
    logp, logp_ref = np.asarray(logp), np.asarray(logp_ref)
    m = np.asarray(mask, dtype=bool)  # (B, T)
    score = np.asarray(score)
    rewards = np.where(m, -beta * (logp - logp_ref), 0.0)  # (B, T)
    T = m.shape[-1]
    last = T - 1 - np.argmax(m[:, ::-1], axis=-1)  # (B,) index of the last real token
    has_tokens = m.any(axis=-1)  # (B,)
    rows = np.arange(m.shape[0])
    rewards[rows[has_tokens], last[has_tokens]] += score[has_tokens]
    return rewards
    ### END SOLUTION
