r"""The math of RLHF as small pure functions: reward-model loss, KL shaping, GAE, whitening,
PPO's clipped losses, the adaptive KL controller.

Arrays are (B, T) over response tokens with a 0/1 `mask` marking real (non-pad) tokens.
Functions returning a loss take and return Tensors (they are differentiated); the others work on
plain NumPy arrays (they run on rollout data, under no gradient). Sources: Ouyang et al. 2022
(InstructGPT: RM loss, per-token KL, PPO-ptx), Schulman et al. 2017 (PPO clipping), Schulman et al.
2016 (GAE), Ziegler et al. 2019 (adaptive KL controller).

    python -c "from minigpt.rl_math import gae; import numpy as np; print(gae(np.array([[0, 0, 1.]]), np.zeros((1, 3)), np.ones((1, 3)), 1.0, 1.0))"
"""
import numpy as np

from minigpt import ops
from minigpt.autograd import Tensor
from minigpt.backend import get_xp

# -----------------------------------------------------------------------------
# helpers


def masked_mean(x, mask, axis=None):
    """Mean of x over the entries where mask is 1 (Tensor or array x; mask an array)."""
    if isinstance(x, Tensor):
        m = x.data.dtype.type(1) * mask
        return (x * m).sum() / max(float(m.sum()), 1.0)
    n = np.maximum(mask.sum(axis=axis), 1)
    return (x * mask).sum(axis=axis) / n


def whiten(x, mask, shift_mean=True, eps=1e-8, total=None):
    r"""Normalise x over the real entries:  (x - μ) / sqrt(σ² + eps)  (μ added back if not shift_mean).

    μ, σ² are the mean and (population) variance over entries with mask = 1; padded entries stay 0.
    Example: x = [1, 3] → μ = 2, σ = 1 → [-1, 1].
    When x is one share of a batch split across processes, `total(*numbers)` sums numbers over the
    shares (data parallelism passes the ranks' all-reduce), so μ and σ² are those of the whole batch.
    """
    x = np.asarray(x, dtype=np.float64)
    total = total or (lambda *v: v)
    s, n = total(float((x * mask).sum()), float(mask.sum()))
    n = max(n, 1.0)
    mean = s / n
    var = total(float((((x - mean) ** 2) * mask).sum()))[0] / n
    out = (x - mean) / np.sqrt(var + eps)
    if not shift_mean:
        out = out + mean
    return out * mask


# -----------------------------------------------------------------------------
# reward model

def rm_pairwise_loss(rewards, winners, losers, groups):
    r"""InstructGPT's reward-model loss over all ranked pairs, prompt by prompt:

        loss(θ) = -1/G Σ_g 1/P_g Σ_{(w, l) ∈ pairs(g)} log σ(r(x_g, y_w) - r(x_g, y_l))

    with P_g = C(K, 2) pairs for a K-way ranking of prompt g (fewer if tied pairs are left out).
    `rewards` (N,) Tensor holds one scalar per response: each response runs through the model
    once, however many pairs it is in (the point of batching all pairs of a prompt together).
    winners, losers, groups: (P,) int arrays, the indices of each pair's responses and its prompt.
    Returns (loss Tensor, accuracy = fraction of pairs with r_w > r_l).
    """
    winners, losers, groups = (np.asarray(a, dtype=np.int64) for a in (winners, losers, groups))
    if winners.size == 0:
        raise ValueError("rm_pairwise_loss needs at least one (winner, loser) pair")
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weight = 1.0 / (counts[inverse] * len(counts))  # 1 / (P_g · G) per pair, (P,)
    diff = rewards[winners] - rewards[losers]  # (P,)
    loss = -(ops.log_sigmoid(diff) * weight.astype(diff.dtype)).sum()
    return loss, float((diff.data > 0).mean())


# -----------------------------------------------------------------------------
# rewards for PPO

def kl_shaped_rewards(logp, ref_logp, scores, mask, beta):
    r"""Per-token rewards: a KL penalty at every response token, the score at the last one.

        kl_t = log π(a_t | s_t) - log π_ref(a_t | s_t)
        r_t  = -β · kl_t  +  [t = last real token] · score

    Summed over t, E[Σ kl_t] is KL(π ‖ π_ref) of the whole response, so this maximises
    score - β·KL, InstructGPT's objective. logp, ref_logp, mask: (B, T); scores: (B,).
    Returns (rewards (B, T), kl (B, T)), both 0 at padding.
    """
    kl = (np.asarray(logp, dtype=np.float64) - np.asarray(ref_logp, dtype=np.float64)) * mask
    rewards = -beta * kl
    lengths = mask.sum(axis=1).astype(np.int64)
    if (lengths < 1).any():
        raise ValueError("every response needs at least one real token (mask row of zeros)")
    rows = np.arange(len(scores))
    rewards[rows, lengths - 1] += scores
    return rewards, kl


def gae(rewards, values, mask, gamma=1.0, lam=0.95):
    r"""Generalised advantage estimation, backwards over each response:

        δ_t = r_t + γ V_{t+1} - V_t           (V after the last real token = 0: the episode ends)
        A_t = δ_t + γ λ A_{t+1}               (A after the last real token = 0)
        R_t = A_t + V_t                       (the value target, "returns")

    λ = 1 gives Monte-Carlo returns minus V; λ = 0 the one-step TD error.
    rewards, values, mask: (B, T), right-padded. Returns (advantages, returns), 0 at padding.
    """
    B, T = rewards.shape
    adv = np.zeros((B, T), dtype=np.float64)
    next_v = np.zeros(B)
    next_a = np.zeros(B)
    for t in reversed(range(T)):
        m = mask[:, t]
        delta = rewards[:, t] + gamma * next_v - values[:, t]
        a = delta + gamma * lam * next_a
        adv[:, t] = a * m
        next_v = np.where(m > 0, values[:, t], 0.0)  # a pad position passes on "episode over"
        next_a = np.where(m > 0, a, 0.0)
    returns = (adv + values) * mask
    return adv, returns


# -----------------------------------------------------------------------------
# PPO losses

def ppo_policy_loss(logp, old_logp, advantages, mask, clip_eps=0.2):
    r"""PPO's clipped surrogate, to minimise:

        ρ_t = exp(log π_θ(a_t|s_t) - log π_old(a_t|s_t))
        L   = -mean_t min(ρ_t A_t, clip(ρ_t, 1-ε, 1+ε) A_t)

    The min takes the pessimistic term: once ρ leaves [1-ε, 1+ε] in the direction A favours, the
    clipped term is a constant and its gradient is 0. logp is a Tensor (B, T), the rest arrays.
    Returns (loss, stats) with clipfrac = fraction of tokens where |ρ - 1| > ε and
    approx_kl = mean ½(log ρ)² (a low-variance estimate of KL(π_old ‖ π_θ)).
    """
    log_ratio = logp - Tensor(old_logp.astype(logp.dtype))
    ratio = ops.exp(log_ratio)  # (B, T)
    r, adv = ratio.data, advantages.astype(logp.dtype)
    unclipped = r * adv
    clipped = np.clip(r, 1.0 - clip_eps, 1.0 + clip_eps) * adv
    surrogate = ops.where(unclipped <= clipped, ratio * adv, clipped.astype(logp.dtype))  # min of the two
    loss = -masked_mean(surrogate, mask)
    lr = log_ratio.data
    stats = {"clipfrac": float(masked_mean((np.abs(r - 1.0) > clip_eps).astype(np.float64), mask)),
             "approx_kl": float(masked_mean(0.5 * lr.astype(np.float64) ** 2, mask)),
             "ratio_mean": float(masked_mean(r.astype(np.float64), mask)),
             "log_ratio_absmax": float(np.abs(lr * mask).max())}
    return loss, stats


def ppo_value_loss(values, old_values, returns, mask, clip_eps=0.2):
    r"""Clipped value loss, to minimise:

        V_clip = V_old + clip(V_θ - V_old, -ε, ε)
        L_V    = ½ mean_t max((V_θ - R_t)², (V_clip - R_t)²)

    The value may not move more than ε from its rollout-time estimate in one update (unless that
    move makes it worse, which the max lets through). values is a Tensor (B, T).
    Returns (loss, stats) with vf_clipfrac = fraction of tokens where the clipped term was larger.
    """
    dt = values.dtype
    R, vo = returns.astype(dt), old_values.astype(dt)
    err = values - Tensor(R)
    v = values.data
    inside = np.abs(v - vo) <= clip_eps
    v_clip = ops.where(inside, values, np.clip(v, vo - clip_eps, vo + clip_eps).astype(dt))
    err_clip = v_clip - Tensor(R)
    use_clip = (err_clip.data ** 2) > (err.data ** 2)
    sq = ops.where(use_clip, err_clip * err_clip, err * err)
    loss = 0.5 * masked_mean(sq, mask)
    return loss, {"vf_clipfrac": float(masked_mean(use_clip.astype(np.float64), mask))}


# -----------------------------------------------------------------------------
# KL controllers

class FixedKLController:
    """β stays where it was set."""

    def __init__(self, beta):
        self.beta = float(beta)

    def update(self, kl, n_steps):
        return self.beta


class AdaptiveKLController:
    r"""Ziegler et al. 2019: steer the measured KL toward a target by scaling β.

        e = clip(KL / KL_target - 1, -0.2, 0.2)
        β ← β · (1 + e · n_steps / horizon)

    KL above target → β grows (stronger pull back to π_ref); below → β shrinks. The clip keeps
    one noisy batch from moving β by more than a factor 1 ± 0.2·n_steps/horizon.
    """

    def __init__(self, beta, target, horizon=10_000):
        if target <= 0 or horizon <= 0:
            raise ValueError(f"AdaptiveKLController needs target > 0 and horizon > 0, got {target}, {horizon}")
        self.beta, self.target, self.horizon = float(beta), float(target), float(horizon)

    def update(self, kl, n_steps):
        error = float(np.clip(kl / self.target - 1.0, -0.2, 0.2))
        self.beta *= 1.0 + error * n_steps / self.horizon
        return self.beta


# -----------------------------------------------------------------------------
# diagnostics

def entropy(logits, mask):
    r"""Mean per-token entropy H = -Σ_v p_v log p_v of softmax(logits) over real tokens, in nats."""
    xp = get_xp(logits)
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
    h = -(xp.exp(logp) * logp).sum(axis=-1)  # (B, T)
    return float(masked_mean(np.asarray(h, dtype=np.float64), mask))
