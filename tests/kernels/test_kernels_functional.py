"""minigpt.kernels.functional (what the ops call on the GPU path), run on the CPU shim with NumPy arrays.

Shapes carry leading dimensions (B, T, ...) and ragged sizes; every result is compared with
the float64 reference.
    python -m pytest tests/kernels/test_kernels_functional.py -q
"""
import numpy as np
import pytest

from minigpt.kernels import emulate
from minigpt.kernels import functional as KF
from minigpt.kernels import reference as R

pytestmark = pytest.mark.skipif(emulate.compiler() is None, reason="the CPU shim needs g++ (C++20)")


def close(got, want, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("C", [37, 5000])        # warp per row (v2) and block per row (v3)
def test_softmax(rng, C):
    x = rng.standard_normal((2, 3, C)).astype(np.float32) * 30
    y = KF.softmax_fwd(x)
    assert y.shape == x.shape and y.dtype == np.float32
    close(y, R.softmax_fwd(x.reshape(-1, C)).reshape(x.shape), atol=1e-7)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    close(KF.softmax_bwd(y, dy), R.softmax_bwd(y.reshape(-1, C), dy.reshape(-1, C)).reshape(x.shape), atol=1e-6)


def test_layernorm(rng):
    x = rng.standard_normal((3, 5, 70)).astype(np.float32) + 4
    w, b = rng.standard_normal(70).astype(np.float32), rng.standard_normal(70).astype(np.float32)
    y, mean, rstd = KF.layernorm_fwd(x, w, b)
    ry, rmean, rrstd = R.layernorm_fwd(x.reshape(-1, 70), w, b)
    close(y, ry.reshape(x.shape)); close(mean, rmean.reshape(3, 5)); close(rstd, rrstd.reshape(3, 5))
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx, dw, db = KF.layernorm_bwd(dy, x, w, mean, rstd)
    rdx, rdw, rdb = R.layernorm_bwd(dy.reshape(-1, 70), x.reshape(-1, 70), w, mean.reshape(-1), rstd.reshape(-1))
    close(dx, rdx.reshape(x.shape)); close(dw, rdw, atol=1e-4); close(db, rdb, atol=1e-4)


def test_cross_entropy_mean_and_grad(rng):
    logits = rng.standard_normal((2, 7, 300)).astype(np.float32) * 5
    targets = rng.integers(0, 300, size=(2, 7))
    targets[0, :3] = -100
    loss, losses, lse = KF.cross_entropy_fwd(logits, targets)
    rlosses, rlse = R.cross_entropy_fwd(logits.reshape(-1, 300), targets.reshape(-1))
    close(loss, rlosses.sum() / 11)
    close(losses, rlosses)
    d = KF.cross_entropy_bwd(logits, targets, lse, dloss=2.0)
    assert d.shape == logits.shape
    close(d, R.cross_entropy_bwd(logits.reshape(-1, 300), targets.reshape(-1), rlse, 2.0 / 11).reshape(d.shape), atol=1e-7)


def test_gelu(rng):
    x = rng.standard_normal((4, 333)).astype(np.float32) * 3
    dy = rng.standard_normal(x.shape).astype(np.float32)
    close(KF.gelu_fwd(x), R.gelu_fwd(x), atol=1e-6)
    close(KF.gelu_bwd(x, dy), R.gelu_bwd(x, dy), atol=1e-6)


def test_adamw_in_place(rng):
    n = 1001
    p, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
    rp, rm, rv = p.astype(np.float64), np.zeros(n), np.zeros(n)
    hyper = dict(lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1)
    for step in (1, 2):
        KF.adamw_step(p, g, m, v, step=step, **hyper)
        rp, rm, rv = R.adamw_step(rp, g, rm, rv, step=step, **hyper)
    close(p, rp, atol=1e-6); close(m, rm, atol=1e-6); close(v, rv, atol=1e-7)
    with pytest.raises(TypeError, match="flat contiguous float32"):
        KF.adamw_step(p.astype(np.float64), g, m, v, step=3, **hyper)


def test_attention(rng):
    q, k, v = (rng.standard_normal((2, 3, 29, 16)).astype(np.float32) for _ in range(3))
    o, lse = KF.attention_fwd(q, k, v)
    ro, rlse = R.attention_fwd(q.reshape(6, 29, 16), k.reshape(6, 29, 16), v.reshape(6, 29, 16))
    close(o, ro.reshape(o.shape)); close(lse, rlse.reshape(2, 3, 29))
    do = rng.standard_normal(q.shape).astype(np.float32)
    grads = KF.attention_bwd(q, k, v, o, lse, do)
    refs = R.attention_bwd(*(a.reshape(6, 29, 16) for a in (q, k, v, do)))
    for got, want in zip(grads, refs):
        close(got, want.reshape(got.shape))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="targets hold 3 entries for 4 rows"):
        KF.cross_entropy_fwd(np.zeros((4, 10), np.float32), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="head_dim <= 128"):
        KF.attention_fwd(*(np.zeros((1, 4, 256), np.float32) for _ in range(3)))
