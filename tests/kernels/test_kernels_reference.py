"""The NumPy references themselves: hand-worked values, central differences, and torch when installed.

The kernels are only as right as these, so each backward reference is checked against
central differences of its own forward reference (float64), and forwards against torch.
    python -m pytest tests/kernels/test_kernels_reference.py -q
"""
import math

import numpy as np
import pytest

from minigpt.kernels import reference as R


def numgrad(f, x, eps=1e-6):
    """Central differences of the scalar f at x (float64)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        hi = f()
        x[i] = old - eps
        lo = f()
        x[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ----------------------------------------------------------------------------
def test_softmax_by_hand():
    """softmax([0, ln 3]) = [1/4, 3/4]; a shift by 1e4 changes nothing."""
    y = R.softmax_fwd(np.array([[0.0, math.log(3.0)], [1e4, 1e4 + math.log(3.0)]]))
    np.testing.assert_allclose(y, [[0.25, 0.75], [0.25, 0.75]], rtol=1e-12)


def test_softmax_bwd_is_the_gradient(rng):
    x, dy = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    g = numgrad(lambda: (R.softmax_fwd(x) * dy).sum(), x)
    np.testing.assert_allclose(R.softmax_bwd(R.softmax_fwd(x), dy), g, rtol=1e-6, atol=1e-8)


def test_layernorm_bwd_is_the_gradient(rng):
    x, w, b, dy = rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal((4, 6))
    _, mean, rstd = R.layernorm_fwd(x, w, b)
    dx, dw, db = R.layernorm_bwd(dy, x, w, mean, rstd)
    loss = lambda: (R.layernorm_fwd(x, w, b)[0] * dy).sum()
    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dw, numgrad(loss, w), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(db, numgrad(loss, b), rtol=1e-5, atol=1e-7)


def test_cross_entropy_by_hand_and_ignore_index():
    """Uniform logits over V=4: loss = ln 4 for every counted row; ignored rows give 0."""
    losses, lse = R.cross_entropy_fwd(np.zeros((3, 4)), np.array([1, -100, 3]))
    np.testing.assert_allclose(losses, [math.log(4), 0.0, math.log(4)], rtol=1e-12)
    np.testing.assert_allclose(lse, [math.log(4)] * 3, rtol=1e-12)


def test_cross_entropy_bwd_is_the_gradient_of_the_mean(rng):
    z, t = rng.standard_normal((5, 7)), np.array([0, 6, -100, 3, -100])
    n_valid = 3
    loss = lambda: R.cross_entropy_fwd(z, t)[0].sum() / n_valid
    _, lse = R.cross_entropy_fwd(z, t)
    np.testing.assert_allclose(R.cross_entropy_bwd(z, t, lse, 1.0 / n_valid), numgrad(loss, z), rtol=1e-6, atol=1e-9)


def test_gelu_by_hand_and_gradient(rng):
    """gelu(0) = 0, gelu(x) -> x for large x, -> 0 for very negative x."""
    np.testing.assert_allclose(R.gelu_fwd(np.array([0.0, 20.0, -20.0])), [0.0, 20.0, 0.0], atol=1e-12)
    x, dy = rng.standard_normal(8) * 3, rng.standard_normal(8)
    np.testing.assert_allclose(R.gelu_bwd(x, dy), numgrad(lambda: (R.gelu_fwd(x) * dy).sum(), x), rtol=1e-6, atol=1e-9)


def test_attention_bwd_is_the_gradient(rng):
    q, k, v, do = (rng.standard_normal((2, 5, 3)) for _ in range(4))
    dq, dk, dv = R.attention_bwd(q, k, v, do)
    loss = lambda: (R.attention_fwd(q, k, v)[0] * do).sum()
    for got, x in ((dq, q), (dk, k), (dv, v)):
        np.testing.assert_allclose(got, numgrad(loss, x), rtol=1e-5, atol=1e-8)


def test_attention_is_causal_and_first_row_copies_v(rng):
    """Row 0 attends only to key 0, so o[0] = v[0]; changing a later key leaves earlier rows alone."""
    q, k, v = (rng.standard_normal((1, 6, 4)) for _ in range(3))
    o, _ = R.attention_fwd(q, k, v)
    np.testing.assert_allclose(o[0, 0], v[0, 0], rtol=1e-12)
    k2 = k.copy()
    k2[0, 4] += 10.0
    np.testing.assert_allclose(R.attention_fwd(q, k2, v)[0][0, :4], o[0, :4], rtol=1e-12)


def test_adamw_first_step_by_hand():
    """Step 1: mhat = g, vhat = g^2, so p moves by lr * g/(|g| + eps) ~ lr * sign(g), after decay."""
    p, g = np.array([1.0, -2.0]), np.array([0.5, -3.0])
    new_p, m, v = R.adamw_step(p, g, np.zeros(2), np.zeros(2), lr=0.1, beta1=0.9, beta2=0.999, eps=0.0,
                               weight_decay=0.01, step=1)
    np.testing.assert_allclose(new_p, p * (1 - 0.1 * 0.01) - 0.1 * np.sign(g), rtol=1e-12)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-12)
    np.testing.assert_allclose(v, 0.001 * g * g, rtol=1e-12)


# ----------------------------------------------------------------------------
# against torch (optional)
def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((4, 9))
    tx = torch.tensor(x)
    np.testing.assert_allclose(R.gelu_fwd(x), F.gelu(tx, approximate="tanh").numpy(), rtol=1e-12, atol=1e-14)
    w, b = rng.standard_normal(9), rng.standard_normal(9)
    np.testing.assert_allclose(R.layernorm_fwd(x, w, b)[0],
                               F.layer_norm(tx, (9,), torch.tensor(w), torch.tensor(b), eps=1e-5).numpy(), rtol=1e-10)
    t = np.array([1, -100, 8, 0])
    losses, _ = R.cross_entropy_fwd(x, t)
    torch_mean = F.cross_entropy(tx, torch.tensor(t), ignore_index=-100).item()
    np.testing.assert_allclose(losses.sum() / 3, torch_mean, rtol=1e-12)
    q, k, v = (rng.standard_normal((2, 7, 4)) for _ in range(3))
    ref = F.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), is_causal=True).numpy()
    np.testing.assert_allclose(R.attention_fwd(q, k, v)[0], ref, rtol=1e-10, atol=1e-12)


def test_adamw_against_torch(rng):
    torch = pytest.importorskip("torch")
    p0 = rng.standard_normal(6)
    tp = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.AdamW([tp], lr=0.01, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    p, m, v = p0.copy(), np.zeros(6), np.zeros(6)
    for step in range(1, 4):
        g = rng.standard_normal(6)
        tp.grad = torch.tensor(g)
        opt.step()
        p, m, v = R.adamw_step(p, g, m, v, lr=0.01, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, step=step)
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
