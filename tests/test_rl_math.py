"""RLHF math, checked against numbers worked out by hand from the papers' formulas (in each docstring),
and the two new ops (token_logprobs, log_sigmoid) against finite differences and NumPy references."""
import math

import numpy as np
import pytest

from minigpt import ops
from minigpt import rl_math
from minigpt.autograd import Tensor, gradcheck


def logsig(d):
    return -math.log(1.0 + math.exp(-d))


# -----------------------------------------------------------------------------
# ops

def test_token_logprobs_matches_numpy_and_gradcheck():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 3, 5))
    ids = rng.integers(0, 5, size=(2, 3))
    ref = z - np.log(np.exp(z).sum(-1, keepdims=True))
    ref = np.take_along_axis(ref, ids[..., None], -1)[..., 0]
    out = ops.token_logprobs(Tensor(z), ids).data
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: ops.token_logprobs(t, ids), [Tensor(z, requires_grad=True)])


def test_token_logprobs_large_logits_and_bad_ids():
    z = Tensor(np.array([[[1000.0, 0.0]]], dtype=np.float32))
    np.testing.assert_allclose(ops.token_logprobs(z, np.array([[1]])).data, [[-1000.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        ops.token_logprobs(z, np.array([[2]]))
    with pytest.raises(ValueError, match="shape"):
        ops.token_logprobs(z, np.array([1]))


def test_log_sigmoid_values_and_gradcheck():
    x = np.array([-800.0, -2.0, 0.0, 1.0, 800.0])
    out = ops.log_sigmoid(Tensor(x)).data
    np.testing.assert_allclose(out[1:4], [logsig(-2.0), math.log(0.5), logsig(1.0)], rtol=1e-12)
    assert out[0] == pytest.approx(-800.0) and abs(out[4]) < 1e-300 + 1e-12  # no overflow at either end
    assert gradcheck(ops.log_sigmoid, [Tensor(np.array([-3.0, -0.5, 0.2, 4.0]), requires_grad=True)])


# -----------------------------------------------------------------------------
# reward model loss

def test_rm_loss_over_all_pairs_of_a_ranking():
    r"""Prompt A ranks K = 3 responses with rewards [2, 1, 0] (best first): its C(3,2) = 3 pairs have
    r_w - r_l = 1, 2, 1, so loss_A = -1/3 (log σ(1) + log σ(2) + log σ(1))
                                   = -1/3 (-0.3132617 - 0.1269280 - 0.3132617) = 0.2511505.
    Prompt B: K = 2, the winner scores 0 and the loser 1: loss_B = -log σ(-1) = 1.3132617.
    Mean over prompts: (0.2511505 + 1.3132617) / 2 = 0.7822061; 3 of 4 pairs ordered right.
    d loss / d r(B winner) = -1/2 · σ(1) = -0.3655293 (σ(-d) with d = -1)."""
    r = Tensor(np.array([2.0, 1.0, 0.0, 0.0, 1.0]), requires_grad=True)
    winners, losers, groups = [0, 0, 1, 3], [1, 2, 2, 4], [0, 0, 0, 1]
    loss, acc = rl_math.rm_pairwise_loss(r, winners, losers, groups)
    assert loss.item() == pytest.approx(0.7822061, abs=1e-7)
    assert acc == 0.75
    naive = 0.5 * (-(logsig(1) + logsig(2) + logsig(1)) / 3 - logsig(-1))
    assert loss.item() == pytest.approx(naive, rel=1e-12)
    loss.backward()
    assert r.grad[3] == pytest.approx(-0.5 / (1 + math.exp(-1)), rel=1e-12)
    assert r.grad[3] == pytest.approx(-0.3655293, abs=1e-7)
    assert r.grad.sum() == pytest.approx(0.0, abs=1e-12)  # a shift of all rewards changes nothing


def test_rm_loss_needs_pairs():
    with pytest.raises(ValueError, match="at least one"):
        rl_math.rm_pairwise_loss(Tensor(np.zeros(2)), [], [], [])


# -----------------------------------------------------------------------------
# rewards, advantages

def test_kl_penalty_shaping():
    r"""logp = [-1, -2], ref = [-1.5, -1] → kl = [0.5, -1]; β = 0.1, score 2 on the last real token:
    r = [-0.05, 0.1 + 2] = [-0.05, 2.1]; the pad stays 0."""
    logp = np.array([[-1.0, -2.0, -7.0]])
    ref = np.array([[-1.5, -1.0, -3.0]])
    mask = np.array([[1.0, 1.0, 0.0]])
    rewards, kl = rl_math.kl_shaped_rewards(logp, ref, np.array([2.0]), mask, beta=0.1)
    np.testing.assert_allclose(kl, [[0.5, -1.0, 0.0]])
    np.testing.assert_allclose(rewards, [[-0.05, 2.1, 0.0]], atol=1e-12)


def test_gae_hand_computed():
    r"""rewards [0, 0, 1], V [0.5, 0.2, 0.4], γ = 0.9, λ = 0.8 (γλ = 0.72):
    δ2 = 1 - 0.4 = 0.6                  A2 = 0.6
    δ1 = 0.9·0.4 - 0.2 = 0.16           A1 = 0.16 + 0.72·0.6 = 0.592
    δ0 = 0.9·0.2 - 0.5 = -0.32          A0 = -0.32 + 0.72·0.592 = 0.10624
    returns = A + V = [0.60624, 0.792, 1.0].
    Row 2 has one real token (reward 1, V 0.3) then pads with junk values: A = [0.7, 0, 0]."""
    rewards = np.array([[0.0, 0.0, 1.0], [1.0, 5.0, 5.0]])
    values = np.array([[0.5, 0.2, 0.4], [0.3, 9.0, 9.0]])
    mask = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    adv, ret = rl_math.gae(rewards, values, mask, gamma=0.9, lam=0.8)
    np.testing.assert_allclose(adv, [[0.10624, 0.592, 0.6], [0.7, 0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(ret, [[0.60624, 0.792, 1.0], [1.0, 0.0, 0.0]], atol=1e-12)


def test_gae_lambda_one_is_monte_carlo_minus_value():
    rng = np.random.default_rng(1)
    r, v = rng.standard_normal((1, 5)), rng.standard_normal((1, 5))
    adv, _ = rl_math.gae(r, v, np.ones((1, 5)), gamma=1.0, lam=1.0)
    mc = np.cumsum(r[0, ::-1])[::-1]  # Σ_{k ≥ t} r_k
    np.testing.assert_allclose(adv[0], mc - v[0], atol=1e-12)


def test_whiten():
    r"""x = [1, 3] (and a pad): μ = 2, σ = 1 → [-1, 1]; the pad stays 0. Without shifting: [1, 3]."""
    x = np.array([[1.0, 3.0, 100.0]])
    mask = np.array([[1.0, 1.0, 0.0]])
    np.testing.assert_allclose(rl_math.whiten(x, mask), [[-1.0, 1.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(rl_math.whiten(x, mask, shift_mean=False), [[1.0, 3.0, 0.0]], atol=1e-7)


# -----------------------------------------------------------------------------
# PPO losses

def test_clipped_policy_loss_hand_computed():
    r"""ε = 0.2; five tokens (log ρ, A):
    (0.1, +1)  ρ = 1.10517  min(1.10517, 1.10517)      = 1.10517  unclipped, grad -A·ρ/5 = -0.221034
    (0.5, +1)  ρ = 1.64872  min(1.64872, 1.2)          = 1.2      clipped,   grad 0
    (0.5, -1)               min(-1.64872, -1.2)        = -1.64872 unclipped (pessimistic), grad +0.329744
    (-0.5, +1) ρ = 0.60653  min(0.60653, 0.8)          = 0.60653  unclipped, grad -0.121306
    (-0.5, -1)              min(-0.60653, -0.8)        = -0.8     clipped,   grad 0
    loss = -(1.10517 + 1.2 - 1.64872 + 0.60653 - 0.8) / 5 = -0.0925960; |ρ - 1| > ε on 4 of 5."""
    old = np.zeros((1, 6))
    lr = np.array([[0.1, 0.5, 0.5, -0.5, -0.5, 3.0]])  # the last token is padding
    adv = np.array([[1.0, 1.0, -1.0, 1.0, -1.0, 50.0]])
    mask = np.array([[1, 1, 1, 1, 1, 0]], dtype=float)
    logp = Tensor(lr, requires_grad=True)
    loss, st = rl_math.ppo_policy_loss(logp, old, adv, mask, clip_eps=0.2)
    e1, e5 = math.exp(0.1), math.exp(0.5)
    assert loss.item() == pytest.approx(-(e1 + 1.2 - e5 + 1 / e5 - 0.8) / 5, rel=1e-12)
    assert loss.item() == pytest.approx(-0.0925960, abs=1e-6)
    loss.backward()
    np.testing.assert_allclose(logp.grad, [[-e1 / 5, 0.0, e5 / 5, -1 / e5 / 5, 0.0, 0.0]], atol=1e-12)
    assert st["clipfrac"] == pytest.approx(0.8)


def test_policy_loss_at_ratio_one_is_minus_mean_advantage():
    adv = np.array([[0.5, -1.5, 2.0]])
    logp = Tensor(np.array([[-1.0, -2.0, -0.5]]), requires_grad=True)
    loss, st = rl_math.ppo_policy_loss(logp, logp.data.copy(), adv, np.ones((1, 3)))
    assert loss.item() == pytest.approx(-adv.mean())
    assert st["clipfrac"] == 0.0 and st["ratio_mean"] == pytest.approx(1.0) and st["approx_kl"] == 0.0


def test_clipped_value_loss_hand_computed():
    r"""V_old = 0, ε = 0.2, returns R = 1:
    V = 0.5:  (V - R)² = 0.25, V_clip = 0.2 → (0.2 - 1)² = 0.64  → max 0.64 (clipped, grad 0)
    V = 0.1:  inside the clip, both terms 0.81                      → 0.81 (grad (V - R)/3 = -0.3)
    V = -0.5: (V - R)² = 2.25, V_clip = -0.2 → 1.44                 → 2.25 (grad (V - R)/3 = -0.5)
    loss = ½ (0.64 + 0.81 + 2.25) / 3 = 0.6166667."""
    v = Tensor(np.array([[0.5, 0.1, -0.5]]), requires_grad=True)
    loss, st = rl_math.ppo_value_loss(v, np.zeros((1, 3)), np.ones((1, 3)), np.ones((1, 3)), clip_eps=0.2)
    assert loss.item() == pytest.approx(0.6166667, abs=1e-7)
    loss.backward()
    np.testing.assert_allclose(v.grad, [[0.0, -0.3, -0.5]], atol=1e-12)
    assert st["vf_clipfrac"] == pytest.approx(1 / 3)


# -----------------------------------------------------------------------------
# KL controllers, entropy

def test_adaptive_kl_controller():
    r"""β = 0.1, target 6, horizon 10000, 64 samples per update:
    KL = 9   → e = clip(9/6 - 1) = clip(0.5) = 0.2  → β = 0.1 (1 + 0.2·64/10000) = 0.100128
    KL = 6.6 → e = 0.1                              → β = 0.1 (1 + 0.1·0.0064)   = 0.100064
    KL = 3   → e = clip(-0.5) = -0.2                → β = 0.1 (1 - 0.00128)      = 0.099872"""
    for kl, expected in ((9.0, 0.100128), (6.6, 0.100064), (3.0, 0.099872)):
        ctl = rl_math.AdaptiveKLController(0.1, target=6.0, horizon=10_000)
        assert ctl.update(kl, 64) == pytest.approx(expected, rel=1e-12)
    fixed = rl_math.FixedKLController(0.1)
    assert fixed.update(100.0, 64) == 0.1
    with pytest.raises(ValueError):
        rl_math.AdaptiveKLController(0.1, target=0.0)


def test_entropy_uniform_and_peaked():
    logits = np.zeros((1, 2, 4))
    logits[0, 1] = [100.0, 0.0, 0.0, 0.0]  # (nearly) one-hot: entropy ~ 0
    assert rl_math.entropy(logits, np.array([[1.0, 0.0]])) == pytest.approx(math.log(4))
    assert rl_math.entropy(logits, np.array([[1.0, 1.0]])) == pytest.approx(math.log(4) / 2, rel=1e-6)
