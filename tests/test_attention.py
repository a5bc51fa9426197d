"""Causal attention: naive vs tiled (flash-style) vs PyTorch, gradchecks, masks, KV-cache shapes."""
import math

import numpy as np
import pytest

import minigpt as m
from minigpt import ops
from minigpt.autograd import Tensor


def _reference(q, k, v, allowed):
    """Plain float64 NumPy attention, written out loop-free from the formula."""
    s = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])
    s = np.where(allowed, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return p @ v


@pytest.mark.parametrize("T,S,tile", [(7, 7, 3), (1, 1, 4), (5, 9, 4), (16, 16, 16), (33, 33, 8)])
def test_naive_and_flash_match_reference(T, S, tile, rng):
    q = rng.standard_normal((2, 3, T, 4))
    k = rng.standard_normal((2, 3, S, 4))
    v = rng.standard_normal((2, 3, S, 4))
    allowed = np.arange(S)[None, :] <= np.arange(T)[:, None] + (S - T)
    ref = _reference(q, k, v, allowed)
    np.testing.assert_allclose(ops.attention(Tensor(q), Tensor(k), Tensor(v)).data, ref, atol=1e-12)
    np.testing.assert_allclose(ops.flash_attention(Tensor(q), Tensor(k), Tensor(v), tile=tile).data, ref,
                               atol=1e-12)


def test_first_query_sees_only_itself(rng):
    """Causality, by hand: output 0 must equal v[0] exactly (softmax over one key)."""
    q, k, v = (rng.standard_normal((1, 1, 5, 3)) for _ in range(3))
    y = ops.attention(Tensor(q), Tensor(k), Tensor(v)).data
    np.testing.assert_allclose(y[0, 0, 0], v[0, 0, 0])
    # changing a future key/value must not change earlier outputs
    v2 = v.copy()
    v2[0, 0, 4] += 10
    y2 = ops.attention(Tensor(q), Tensor(k), Tensor(v2)).data
    np.testing.assert_allclose(y2[0, 0, :4], y[0, 0, :4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_shift_extreme_scores(dtype, rng):
    """The naive path shifts scores by each head's block max, not each row's max (ops/attention.py).
    Scores far apart between rows must still give the textbook softmax: row 0 sits ~1000 below row 1
    (its terms would underflow to 0 under the block shift and must be redone), and scores of ~1e3
    must not overflow."""
    T, d = 4, 2
    q = np.abs(rng.standard_normal((1, 2, T, d))) + 1.0
    q[:, :, 0] *= -300.0  # row 0: scores ≈ -1000, far below the others (≈ +1000)
    q[:, :, 1:] *= 300.0
    k = np.abs(rng.standard_normal((1, 2, T, d))) + 1.0
    v = rng.standard_normal((1, 2, T, d))
    allowed = np.ones((T, T), dtype=bool)
    ref = _reference(q, k, v, allowed)
    y = ops.attention(*(Tensor(a.astype(dtype)) for a in (q, k, v)), mask=allowed).data
    assert np.isfinite(y).all()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, ref, atol=tol * np.abs(v).max())


@pytest.mark.parametrize("flash", [False, True])
def test_gradcheck(flash, rng):
    q, k, v = (Tensor(rng.standard_normal((1, 2, 6, 3)), requires_grad=True) for _ in range(3))
    fn = (lambda q, k, v: ops.flash_attention(q, k, v, tile=4)) if flash else ops.attention
    assert m.gradcheck(fn, [q, k, v])


def test_gradcheck_kv_cache_shape(rng):
    q = Tensor(rng.standard_normal((1, 1, 2, 3)), requires_grad=True)
    k, v = (Tensor(rng.standard_normal((1, 1, 5, 3)), requires_grad=True) for _ in range(2))
    assert m.gradcheck(ops.attention, [q, k, v])
    assert m.gradcheck(lambda q, k, v: ops.flash_attention(q, k, v, tile=2), [q, k, v])


def test_sparse_mask_pattern():
    """local=2, stride=3, T=6: row 5 sees 4, 5 (recent) and 2 (column with (j+1) % 3 == 0)."""
    mask = ops.local_strided_mask(6, local=2, stride=3)
    assert mask[5].nonzero()[0].tolist() == [2, 4, 5]
    assert not np.triu(mask, 1).any()  # still causal
    assert mask.diagonal().all()


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    q, k, v = (rng.standard_normal((2, 2, 9, 4)).astype(np.float32) for _ in range(3))
    g = rng.standard_normal((2, 2, 9, 4)).astype(np.float32)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    ty.backward(torch.tensor(g))
    for fn in (ops.attention, lambda a, b, c: ops.flash_attention(a, b, c, tile=4)):
        ours = [Tensor(a, requires_grad=True) for a in (q, k, v)]
        y = fn(*ours)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-5)
        y.backward(g)
        for a, b in zip(ours, (tq, tk, tv)):
            np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=1e-4)


def test_bad_shapes():
    with pytest.raises(ValueError, match="q \\(B, nh, T, hs\\)"):
        ops.attention(Tensor(np.ones((2, 3, 4))), Tensor(np.ones((2, 3, 4))), Tensor(np.ones((2, 3, 4))))
