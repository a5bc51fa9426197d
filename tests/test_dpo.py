"""DPO: the loss and its gradient by hand, against torch, log π(y|x) against a per-sequence brute force,
and a few steps of training that move probability from the rejected to the chosen response."""
import math

import numpy as np
import pytest
from align_helpers import naive_log_softmax, tiny_gpt, world_tok

from minigpt.autograd import Tensor
from minigpt.scoring import sequence_logprobs
from minigpt.stages import dpo
from minigpt.tokenizer.chat_template import chat_ids


def test_dpo_loss_hand_worked():
    r"""β = 0.5. Pair 1: log π_w = -1, log π_ref_w = -2 → r̂_w = 0.5·1 = 0.5;
    log π_l = -3, log π_ref_l = -2.5 → r̂_l = 0.5·(-0.5) = -0.25; margin 0.75, loss₁ = ln(1 + e^{-0.75}).
    Pair 2: all equal → margin 0, loss₂ = ln 2. Loss = (loss₁ + loss₂)/2.
    Gradient: ∂/∂log π_w = -β σ(-margin)/B: pair 1 → -0.5·σ(-0.75)/2, pair 2 → -0.5·0.5/2 = -0.125."""
    pi_w = Tensor(np.array([-1.0, -4.0]), requires_grad=True)
    pi_l = Tensor(np.array([-3.0, -4.0]), requires_grad=True)
    loss, st = dpo.dpo_loss(pi_w, pi_l, np.array([-2.0, -4.0]), np.array([-2.5, -4.0]), beta=0.5)
    assert loss.item() == pytest.approx((math.log1p(math.exp(-0.75)) + math.log(2)) / 2, rel=1e-12)
    loss.backward()
    sig = 1 / (1 + math.exp(0.75))  # σ(-0.75)
    np.testing.assert_allclose(pi_w.grad, [-0.5 * sig / 2, -0.125], rtol=1e-12)
    np.testing.assert_allclose(pi_l.grad, [0.5 * sig / 2, 0.125], rtol=1e-12)
    assert st["accuracy"] == 0.5 and st["margin"] == pytest.approx(0.375)
    assert st["chosen"] == pytest.approx(0.25) and st["rejected"] == pytest.approx(-0.125)


def test_dpo_loss_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a, b, c, d = (rng.standard_normal(16) * 5 for _ in range(4))
    pw, pl = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    loss, _ = dpo.dpo_loss(pw, pl, c, d, beta=0.3)
    loss.backward()
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tl = -torch.nn.functional.logsigmoid(0.3 * ((ta - torch.tensor(c)) - (tb - torch.tensor(d)))).mean()
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(pw.grad, ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(pl.grad, tb.grad.numpy(), rtol=1e-10)


@pytest.fixture(scope="module")
def tok():
    return world_tok()


def test_sequence_logprobs_brute_force(tok):
    """Σ_t log π(y_t | x, y_<t), from one full forward per sequence and a NumPy log-softmax."""
    model = tiny_gpt(tok, seed=4)
    pairs = [("What is 2+2?", "4", "The answer is 5."), ("Sort: 3 1", "1 3", "3 1")]
    ctx, win, lose = dpo.encode_pairs(tok, pairs, model.config.block_size)
    assert win[0][-1] == chat_ids(tok)["end"]
    got = sequence_logprobs(model, ctx + ctx, win + lose, chat_ids(tok)["pad"]).data
    for i, (c, r) in enumerate(zip(ctx + ctx, win + lose)):
        seq = np.array([c + r])
        logp = naive_log_softmax(model(seq)[0].data[0])  # (T, V)
        expected = sum(logp[len(c) + j - 1, r[j]] for j in range(len(r)))
        assert got[i] == pytest.approx(expected, rel=1e-5)


def test_dpo_starts_at_log2_and_learns_the_preference(tok, tmp_path):
    """At step 0 π = π_ref so every margin is 0 and the loss is ln 2; a few steps later the chosen
    answers gained log-probability relative to the rejected ones."""
    policy, ref = tiny_gpt(tok, seed=5), tiny_gpt(tok, seed=5)
    pairs = [(f"What is {a}+{b}?", str(a + b), f"The answer is {a + b + 1}.") for a in range(4) for b in range(4)]
    cfg = dpo.DPOConfig(out_dir=str(tmp_path), epochs=3, batch_size=8, optim=dict(lr=3e-3, min_lr=3e-3, warmup_iters=0),
                        beta=0.5)
    res = dpo.train(cfg, policy, ref, tok, pairs, progress=False)
    h = res["history"]
    assert h["loss"][0] == pytest.approx(math.log(2), abs=1e-5) and h["margin"][0] == pytest.approx(0, abs=1e-5)
    assert h["loss"][-1] < 0.5 and h["accuracy"][-1] == 1.0
    assert np.mean(h["chosen"][-2:]) > 0 > np.mean(h["rejected"][-2:])
    with pytest.raises(ValueError, match="beta must be > 0"):
        dpo.train(dpo.DPOConfig(out_dir=str(tmp_path), beta=0.0), policy, ref, tok, pairs, progress=False)


def test_config_round_trips_through_the_cli():
    import dataclasses

    from minigpt.config import parse_config
    cfg = parse_config(dpo.DPOConfig, ["--beta", "0.3", "--epochs", "1"])
    assert dataclasses.asdict(cfg) == {**dataclasses.asdict(dpo.DPOConfig()), "beta": 0.3, "epochs": 1}
