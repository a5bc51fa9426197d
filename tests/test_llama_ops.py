"""LLaMA-style ops: RMSNorm, SiLU / SwiGLU, rotary position embeddings (RoPE).

Each is checked against finite differences (float64 gradcheck), an independent
reference (hand-worked numbers, complex-number rotation in NumPy, PyTorch when
installed), and the properties that make it useful (RoPE: norms preserved,
scores depend only on relative position).
"""
import numpy as np
import pytest

import minigpt as m
from minigpt import ops
from minigpt.autograd import Tensor
from minigpt.ops.rope import rope_tables, rotate


def T64(rng, *shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


def assert_matches_torch(rng, ours, theirs, arrays, rtol=1e-5, atol=1e-6, grad_atols=None):
    """ours(*Tensors) and theirs(*torch tensors) on the same float32 inputs: equal outputs, and equal
    input gradients for one random upstream gradient (grad_atols: one atol per input, default 1e-5)."""
    torch = pytest.importorskip("torch")
    mine = [Tensor(a, requires_grad=True) for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*mine), theirs(torch, *ref)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for t, tt, gatol in zip(mine, ref, grad_atols or [1e-5] * len(arrays)):
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-4, atol=gatol)


# -----------------------------------------------------------------------------
# RMSNorm

def test_rmsnorm_hand_worked():
    """x = [3, 4]: mean(x²) = (9 + 16)/2 = 12.5, rms = √12.5 = 3.5355; y = x/rms · w with w = [1, 2]
    → [0.84853, 2.26274]."""
    y = ops.rmsnorm(Tensor(np.array([[3.0, 4.0]])), Tensor(np.array([1.0, 2.0])), eps=0.0)
    np.testing.assert_allclose(y.data, [[3 / 12.5 ** 0.5, 8 / 12.5 ** 0.5]], rtol=1e-12)


def test_rmsnorm_gradcheck(rng):
    x, w = T64(rng, 2, 3, 6), T64(rng, 6)
    assert m.gradcheck(lambda x, w: ops.rmsnorm(x, w), [x, w])
    x1, w1 = T64(rng, 1, 1, 4), T64(rng, 4)  # one token
    assert m.gradcheck(lambda x, w: ops.rmsnorm(x, w), [x1, w1])


def test_rmsnorm_matches_torch(rng):
    x = rng.standard_normal((3, 5, 8)).astype(np.float32) * 3
    w = rng.standard_normal(8).astype(np.float32)
    assert_matches_torch(rng, lambda x, w: ops.rmsnorm(x, w, eps=1e-5),
                         lambda torch, x, w: torch.nn.functional.rms_norm(x, (8,), w, eps=1e-5),
                         [x, w], atol=1e-5, grad_atols=[1e-5, 1e-4])


def test_rmsnorm_bad_weight():
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        ops.rmsnorm(Tensor(np.ones((2, 4))), Tensor(np.ones(3)))


# -----------------------------------------------------------------------------
# SiLU and SwiGLU

def test_silu_values_and_gradcheck(rng):
    """silu(0) = 0; silu(1) = 1/(1 + e⁻¹) = 0.731059; silu(-1) = -0.268941; no overflow at ±1000."""
    y = ops.silu(Tensor(np.array([0.0, 1.0, -1.0, 1000.0, -1000.0])))
    np.testing.assert_allclose(y.data, [0, 1 / (1 + np.exp(-1)), -1 / (1 + np.e), 1000.0, 0.0], atol=1e-12)
    assert m.gradcheck(ops.silu, [T64(rng, 3, 4)])


def test_swiglu_gradcheck_and_reference(rng):
    a, b = T64(rng, 2, 3, 5), T64(rng, 2, 3, 5)
    assert m.gradcheck(ops.swiglu, [a, b])
    an, bn = a.data, b.data
    np.testing.assert_allclose(ops.swiglu(a, b).data, an / (1 + np.exp(-an)) * bn, rtol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        ops.swiglu(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4))))


def test_silu_swiglu_match_torch(rng):
    a = rng.standard_normal((4, 7)).astype(np.float32) * 4
    b = rng.standard_normal((4, 7)).astype(np.float32)
    assert_matches_torch(rng, ops.swiglu, lambda torch, a, b: torch.nn.functional.silu(a) * b, [a, b])


# -----------------------------------------------------------------------------
# RoPE

def _rope_complex(x, positions, base=10000.0):
    """Independent reference: pair i is the complex number x₁[i] + i·x₂[i], multiplied by e^{i·pos·θ_i}."""
    hs = x.shape[-1]
    h = hs // 2
    theta = base ** (-2.0 * np.arange(h) / hs)
    z = (x[..., :h] + 1j * x[..., h:]) * np.exp(1j * np.outer(positions, theta))
    return np.concatenate([z.real, z.imag], axis=-1)


def test_rope_tables_hand_worked():
    """hs = 4, base = 100: θ = [100⁰, 100^(-1/2)] = [1, 0.1]; position 1 → φ = [1, 0.1]."""
    cos, sin = rope_tables([0, 1], 4, base=100.0, dtype=np.float64)
    np.testing.assert_allclose(cos, [[1, 1], [np.cos(1), np.cos(0.1)]], rtol=1e-12)
    np.testing.assert_allclose(sin, [[0, 0], [np.sin(1), np.sin(0.1)]], atol=1e-15)


def test_rope_matches_complex_reference(rng):
    x = rng.standard_normal((2, 3, 5, 8))
    pos = np.array([0, 1, 2, 7, 40])
    np.testing.assert_allclose(ops.rope(Tensor(x), pos).data, _rope_complex(x, pos), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ops.rope(Tensor(x), np.zeros(5, int)).data, x)  # position 0: identity


def test_rope_preserves_norms(rng):
    x = rng.standard_normal((2, 2, 6, 16))
    y = ops.rope(Tensor(x), np.arange(100, 106)).data
    # each rotated pair keeps its length, so does the whole vector
    h = 8
    np.testing.assert_allclose(y[..., :h] ** 2 + y[..., h:] ** 2, x[..., :h] ** 2 + x[..., h:] ** 2, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)


def test_rope_relative_position_property(rng):
    """⟨rope(q, m), rope(k, n)⟩ depends only on n - m: shifting both positions by 37 changes nothing,
    and equals ⟨q, rope(k, n - m)⟩."""
    q, k = rng.standard_normal((1, 1, 1, 8)), rng.standard_normal((1, 1, 1, 8))

    def score(mq, nk):
        return float((ops.rope(Tensor(q), [mq]).data * ops.rope(Tensor(k), [nk]).data).sum())

    for mq, nk in [(0, 3), (5, 2), (11, 11)]:
        assert score(mq, nk) == pytest.approx(score(mq + 37, nk + 37), rel=1e-9, abs=1e-12)
        rel = float((q * ops.rope(Tensor(k), [nk - mq]).data).sum())
        assert score(mq, nk) == pytest.approx(rel, rel=1e-9, abs=1e-12)
    assert abs(score(0, 3) - score(0, 4)) > 1e-3  # but it does depend on the offset


def test_rope_gradcheck_and_backward_is_inverse_rotation(rng):
    x = T64(rng, 2, 2, 4, 6)
    pos = np.array([3, 4, 5, 6])
    assert m.gradcheck(lambda x: ops.rope(x, pos), [x])
    cos, sin = rope_tables(pos, 6, dtype=np.float64)
    g = rng.standard_normal(x.shape)
    x.grad = None
    ops.rope(x, pos).backward(g)
    np.testing.assert_allclose(x.grad, rotate(g, cos, -sin), rtol=1e-12)
    np.testing.assert_allclose(rotate(rotate(x.data, cos, sin), cos, -sin), x.data, rtol=1e-12, atol=1e-14)


def test_rope_errors():
    with pytest.raises(ValueError, match="even"):
        ops.rope(Tensor(np.ones((1, 1, 2, 5))), [0, 1])
    with pytest.raises(ValueError, match=r"tables of shape \(T, hs/2\)"):
        ops.rope(Tensor(np.ones((1, 1, 2, 4))), [0, 1, 2])


def test_packed_attention_with_rope_equals_separate_ops(rng):
    """Rotating inside the fused attention = rope(q), rope(k) then plain attention; gradients agree too."""
    B, T, nh, hs = 2, 5, 2, 4
    qkv = T64(rng, B, T, 3 * nh * hs)
    pos = np.arange(T)
    cos, sin = rope_tables(pos, hs, dtype=np.float64)
    y = ops.packed_attention(qkv, nh, rope=(cos, sin))
    q, k, v = [qkv[:, :, i * nh * hs:(i + 1) * nh * hs].reshape(B, T, nh, hs).permute(0, 2, 1, 3) for i in range(3)]
    ref = ops.attention(ops.rope(q, pos), ops.rope(k, pos), v).permute(0, 2, 1, 3).reshape(B, T, nh * hs)
    np.testing.assert_allclose(y.data, ref.data, rtol=1e-10, atol=1e-12)
    for impl in ("naive", "flash"):
        assert m.gradcheck(lambda t: ops.packed_attention(t, nh, impl=impl, tile=2, rope=(cos, sin)), [qkv])
