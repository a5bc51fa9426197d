"""Modules, AdamW, the learning-rate schedule and gradient clipping."""
import math

import numpy as np
import pytest

from minigpt.autograd import Tensor
from minigpt.nn import Embedding, LayerNorm, Linear, Module
from minigpt.optim import AdamW, clip_grad_norm, cosine_lr


class Tiny(Module):
    def __init__(self, rng):
        self.emb = Embedding(7, 4, rng=rng)
        self.ln = LayerNorm(4)
        self.layers = [Linear(4, 4, rng=rng), Linear(4, 3, bias=False, rng=rng)]

    def forward(self, ids):
        h = self.ln(self.emb(ids))
        return self.layers[1](self.layers[0](h).relu())


def test_named_parameters_and_state_dict(rng):
    model = Tiny(rng)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["emb.weight", "ln.weight", "ln.bias", "layers.0.weight", "layers.0.bias", "layers.1.weight"]
    assert model.num_parameters() == 7 * 4 + 4 + 4 + 16 + 4 + 12
    sd = model.state_dict()
    other = Tiny(np.random.default_rng(99))
    other.load_state_dict(sd)
    ids = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(model(ids).data, other(ids).data)


def test_load_state_dict_errors(rng):
    model = Tiny(rng)
    sd = model.state_dict()
    missing = dict(sd)
    del missing["ln.bias"]
    with pytest.raises(KeyError, match="missing keys \\['ln.bias'\\]"):
        model.load_state_dict(missing)
    with pytest.raises(KeyError, match="unexpected keys \\['extra'\\]"):
        model.load_state_dict({**sd, "extra": np.zeros(1)})
    with pytest.raises(ValueError, match="emb.weight has shape \\(8, 4\\) in the checkpoint but \\(7, 4\\)"):
        model.load_state_dict({**sd, "emb.weight": np.zeros((8, 4), np.float32)})
    with pytest.raises(TypeError, match="dtype int64"):
        model.load_state_dict({**sd, "ln.bias": np.zeros(4, np.int64)})
    assert model.load_state_dict(missing, strict=False) == (["ln.bias"], [])


def test_train_eval_flags(rng):
    model = Tiny(rng).eval()
    assert not any(mod.training for mod in model.modules())
    assert all(mod.training for mod in model.train().modules())


# -----------------------------------------------------------------------------
# AdamW

def test_adamw_one_step_by_hand():
    """p=1, g=0.5, lr=0.1, wd=0.1, β=(0.9, 0.999), ε=1e-8, t=1:
    decay: p = 1 - 0.1·0.1·1 = 0.99; m̂ = g, v̂ = g² so the step is lr·g/(|g|+ε) ≈ 0.1 → p = 0.89."""
    p = Linear(1, 1, bias=False).weight
    p.data[...] = 1.0
    p.grad = np.array([[0.5]], np.float32)
    AdamW([p], lr=0.1, weight_decay=0.1).step()
    assert p.data[0, 0] == pytest.approx(0.99 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-6)


def test_adamw_no_decay_on_bias_ln_embedding(rng):
    model = Tiny(rng)
    opt = AdamW(model.parameters(), weight_decay=0.1)
    decayed = [n for (n, _), d in zip(model.named_parameters(), opt.decay) if d]
    assert decayed == ["layers.0.weight", "layers.1.weight"]


def test_adamw_matches_torch_12_steps(rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    b0 = rng.standard_normal(4).astype(np.float32)
    grads = [(rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32))
             for _ in range(12)]
    w, b = Linear(4, 3).weight, Linear(4, 3).bias
    w.data, b.data = w0.copy(), b0.copy()
    ours = AdamW([w, b], lr=0.01, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    theirs = torch.optim.AdamW([{"params": [tw], "weight_decay": 0.1}, {"params": [tb], "weight_decay": 0.0}],
                               lr=0.01, betas=(0.9, 0.95), eps=1e-8)
    for step, (gw, gb) in enumerate(grads):
        lr = cosine_lr(step, 0.01, 3, 12, 0.001)
        ours.lr = lr
        for group in theirs.param_groups:
            group["lr"] = lr
        w.grad, b.grad = gw.copy(), gb.copy()
        tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_adamw_state_roundtrip(rng):
    p = Linear(2, 2, rng=rng).weight
    opt = AdamW([p], lr=0.1)
    p.grad = np.ones((2, 2), np.float32)
    opt.step()
    state = opt.state_dict()
    opt2 = AdamW([p], lr=0.1)
    opt2.load_state_dict(state)
    assert opt2.t == 1 and np.array_equal(opt2.m[0], opt.m[0])


# -----------------------------------------------------------------------------
# schedule and clipping

def test_cosine_schedule_by_hand():
    """max 1, warmup 2, total 10, min 0.1: steps 0,1 → 0.5, 1.0; step 6 is halfway → 0.1 + 0.45·(1 + cos π/2) = 0.55."""
    lr = [cosine_lr(s, 1.0, 2, 10, 0.1) for s in range(12)]
    assert lr[0] == pytest.approx(0.5) and lr[1] == pytest.approx(1.0) and lr[2] == pytest.approx(1.0)
    assert lr[6] == pytest.approx(0.55)
    assert lr[10] == pytest.approx(0.1) and lr[11] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lr[2:], lr[3:]))


def test_clip_grad_norm_by_hand():
    """Grads (3, 4) → norm 5; clip to 1 scales by 1/5 (up to the 1e-6 guard)."""
    a, b = Tensor(0.0, requires_grad=True), Tensor(0.0, requires_grad=True)
    a.grad, b.grad = np.array(3.0, np.float32), np.array(4.0, np.float32)
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    assert math.hypot(a.grad, b.grad) == pytest.approx(1.0, rel=1e-5)
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)  # below the limit: unchanged
    assert math.hypot(a.grad, b.grad) == pytest.approx(1.0, rel=1e-5)


def test_adamw_numpy_path_matches_float64_reference(rng):
    """30 steps of the in-place float32 update against the float64 formula (kernels/reference.py),
    with weight decay, on gradients of mixed scale (including tiny ones, where ε matters)."""
    from minigpt.autograd import Tensor
    from minigpt.kernels.reference import adamw_step
    p = Tensor(rng.standard_normal((7, 5)).astype(np.float32), requires_grad=True)
    opt = AdamW([p], lr=3e-3, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.1)
    ref_p, ref_m, ref_v = p.data.astype(np.float64), np.zeros((7, 5)), np.zeros((7, 5))
    for t in range(1, 31):
        g = (rng.standard_normal((7, 5)) * np.logspace(-7, 1, 5)).astype(np.float32)
        p.grad = g.copy()
        opt.step()
        ref_p, ref_m, ref_v = adamw_step(ref_p, g, ref_m, ref_v, lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-6,
                                         weight_decay=0.1, step=t)
    np.testing.assert_allclose(p.data, ref_p, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(opt.m[0], ref_m, rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(opt.v[0], ref_v, rtol=1e-4, atol=1e-20)
