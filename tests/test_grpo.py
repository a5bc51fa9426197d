"""GRPO: group-relative advantages and the loss by hand and against torch; a rollout's advantages are
per group; zero learning rate keeps the policy on the reference."""
import math

import numpy as np
import pytest
from align_helpers import tiny_gpt, world_tok

from minigpt.autograd import Tensor
from minigpt.data.assistant import sample_prompts
from minigpt.nn.heads import RewardModel
from minigpt.stages import grpo


def test_group_advantages_hand_worked():
    """Scores [1, 0, 0, 1, 2, 2], G = 2: groups [1, 0] and [0, 1] have mean .5 and population std .5
    → ±0.5/(0.5 + ε); the tied group [2, 2] gives 0, 0 (no signal)."""
    eps = 1e-4
    a = grpo.group_advantages([1, 0, 0, 1, 2, 2], 2, eps)
    h = 0.5 / (0.5 + eps)
    np.testing.assert_allclose(a, [h, -h, -h, h, 0, 0], rtol=1e-12)
    # G = 3, scores [3, 0, 0]: mean 1, std √((4 + 1 + 1)/3) = √2 → [2/√2, -1/√2, -1/√2]
    np.testing.assert_allclose(grpo.group_advantages([3, 0, 0], 3, 0.0), [math.sqrt(2), -1 / math.sqrt(2),
                                                                          -1 / math.sqrt(2)], rtol=1e-12)
    with pytest.raises(ValueError, match="divisible by group_size"):
        grpo.group_advantages([1, 2, 3], 2)


def test_grpo_loss_hand_worked():
    r"""Two responses, A = [1, -1], masks [1, 1] and [1, 0] → 3 real tokens.
    On-policy and on the reference (logp = old = ref): ρ = 1, KL_t = e⁰ - 0 - 1 = 0;
    loss = -(1 + 1 - 1)/3 = -1/3; ∂loss/∂logp = -A/3 per real token (ρ' = ρ = 1), 0 at padding."""
    lp = np.log(np.array([[0.5, 0.25], [0.2, 0.9]]))
    mask = np.array([[1.0, 1.0], [1.0, 0.0]])
    logp = Tensor(lp.copy(), requires_grad=True)
    loss, st = grpo.grpo_loss(logp, lp, lp, np.array([1.0, -1.0]), mask, clip_eps=0.2, kl_coef=0.1)
    assert loss.item() == pytest.approx(-1 / 3, rel=1e-12) and st["kl"] == pytest.approx(0.0, abs=1e-15)
    loss.backward()
    np.testing.assert_allclose(logp.grad, [[-1 / 3, -1 / 3], [1 / 3, 0]], rtol=1e-12, atol=1e-15)


def test_grpo_kl_term_hand_worked():
    r"""A = 0, one token with π_ref/π_θ = 2: KL = 2 - ln 2 - 1 = 0.30685; loss = β · KL with β = 0.5;
    ∂KL/∂logp = -(π_ref/π_θ) + 1 = -1 → gradient β · (-1) = -0.5 (raise logp toward the reference)."""
    logp = Tensor(np.array([[math.log(0.25)]]), requires_grad=True)
    loss, st = grpo.grpo_loss(logp, logp.data.copy(), np.array([[math.log(0.5)]]), np.array([0.0]),
                              np.ones((1, 1)), kl_coef=0.5)
    assert st["kl"] == pytest.approx(1 - math.log(2), rel=1e-12)
    assert loss.item() == pytest.approx(0.5 * (1 - math.log(2)), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(logp.grad, [[-0.5]], rtol=1e-12)


def test_grpo_loss_matches_torch(rng):
    """Off-policy, some ratios outside [1-ε, 1+ε], padding: the formula written again in torch."""
    torch = pytest.importorskip("torch")
    B, T = 4, 5
    lp, old, ref = (rng.standard_normal((B, T)) * 0.5 - 2 for _ in range(3))
    adv = rng.standard_normal(B)
    mask = (np.arange(T)[None, :] < np.array([5, 3, 1, 4])[:, None]).astype(float)
    ours = Tensor(lp.copy(), requires_grad=True)
    loss, _ = grpo.grpo_loss(ours, old, ref, adv, mask, clip_eps=0.2, kl_coef=0.3)
    loss.backward()
    t = torch.tensor(lp, requires_grad=True)
    m, A = torch.tensor(mask), torch.tensor(adv)[:, None]
    ratio = torch.exp(t - torch.tensor(old))
    surrogate = torch.minimum(ratio * A, torch.clamp(ratio, 0.8, 1.2) * A)
    d = torch.tensor(ref) - t
    kl = torch.exp(d) - d - 1
    tl = (-(surrogate * m).sum() + 0.3 * (kl * m).sum()) / m.sum()
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-10)
    np.testing.assert_allclose(ours.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def tok():
    return world_tok()


def test_rollout_groups_and_zero_lr(tmp_path, tok):
    """Each prompt is answered G times in a row and its advantages sum to ~0; with lr = 0 the policy
    stays the reference: KL 0 every iteration, weights unchanged."""
    policy, ref = tiny_gpt(tok, seed=1), tiny_gpt(tok, seed=1)
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=3)
    cfg = grpo.GRPOConfig(out_dir=str(tmp_path), iters=2, prompts_per_iter=4, group_size=3, minibatch_size=6,
                          max_new_tokens=10, seed=0)
    cfg.optim.lr = 0.0  # the config refuses lr = 0 (it trains nothing); set afterwards on purpose to freeze the policy
    prompts = sample_prompts(16, seed=0)
    batch = grpo.rollout(policy, ref, rm, tok, prompts[:4], cfg, seed=0)
    assert len(batch["texts"]) == 12
    np.testing.assert_allclose(batch["adv"].reshape(4, 3).sum(axis=1), 0, atol=1e-9)
    before = {k: v.copy() for k, v in policy.state_dict().items()}
    res = grpo.train(cfg, policy, ref, rm, tok, prompts, progress=False)
    h = res["history"]
    assert max(abs(k) for k in h["kl"]) < 1e-4 and max(h["clipfrac"]) == 0.0
    for k, v in policy.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_grpo_moves_the_policy(tmp_path, tok):
    policy, ref = tiny_gpt(tok, seed=1), tiny_gpt(tok, seed=1)
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=3)
    cfg = grpo.GRPOConfig(out_dir=str(tmp_path), iters=2, prompts_per_iter=4, group_size=4, minibatch_size=8,
                          max_new_tokens=10, optim=dict(lr=3e-3), seed=0)
    h = grpo.train(cfg, policy, ref, rm, tok, sample_prompts(16, seed=0), progress=False)["history"]
    assert h["kl"][0] == pytest.approx(0.0, abs=1e-5)  # first rollout: π = π_ref
    assert max(h["clipfrac"]) > 0 and abs(h["kl"][1]) > 1e-3


def test_config_round_trips_through_the_cli():
    import dataclasses

    from minigpt.config import parse_config
    cfg = parse_config(grpo.GRPOConfig, ["--group-size", "8", "--kl-coef", "0.1"])
    assert dataclasses.asdict(cfg) == {**dataclasses.asdict(grpo.GRPOConfig()), "group_size": 8, "kl_coef": 0.1}
