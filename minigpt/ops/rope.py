r"""Rotary position embeddings (RoPE, Su et al. 2021; used by LLaMA).

Instead of adding a position vector to the input, rotate each query and key by
an angle proportional to its position. The head dimension hs is split in two
halves x = [x₁, x₂] (each hs/2 wide); pair i = (x₁[i], x₂[i]) is a point in a
plane, rotated at position t by φ_{t,i} = t · θ_i with θ_i = base^{-2i/hs}:

    y₁ = x₁ cos φ - x₂ sin φ
    y₂ = x₁ sin φ + x₂ cos φ          i.e. y = R(φ) x, a rotation (‖y‖ = ‖x‖)

Why it encodes *relative* position: rotations compose, R(a)ᵀR(b) = R(b - a), so

    ⟨R(φ_m) q, R(φ_n) k⟩ = ⟨q, R(φ_n - φ_m) k⟩

depends on m and n only through n - m. Low i turn fast (θ₀ = 1 rad per step),
high i turn slowly: fast pairs resolve nearby tokens, slow ones distant tokens.

Backward: y = R x is linear with an orthogonal R, so dL/dx = Rᵀ g = R(-φ) g,
the inverse rotation (same formula with sin → -sin).

(This is the "half split" pairing (i, i + hs/2); the RoFormer paper pairs
neighbours (2i, 2i+1). Both are the same model up to a fixed permutation of
the head dimension; halves are contiguous slices, so cheaper in NumPy.)

    python -c "import minigpt as m, numpy as np; x = m.Tensor(np.ones((1, 1, 3, 4))); print(m.ops.rope(x, np.arange(3)).data[0, 0])"
"""
import numpy as np

from minigpt.autograd import Function, raw
from minigpt.backend import get_xp, to_numpy


def rope_tables(positions, head_size, base=10000.0, xp=np, dtype=np.float32):
    r"""cos φ and sin φ, each (T, hs/2), for integer `positions` (T,): φ_{t,i} = pos_t · base^{-2i/hs}.
    Positions (B, T), one row per sequence (a left-padded batch), give tables (B, T, hs/2).

    Example: positions [0, 1], hs=4, base=100 → θ = [1, 0.1]; φ = [[0, 0], [1, 0.1]].
    """
    if head_size % 2:
        raise ValueError(f"rope: head size must be even (pairs of dims are rotated), got {head_size}")
    pos = np.asarray(to_numpy(raw(positions)), dtype=np.float64)
    if pos.ndim not in (1, 2):
        raise ValueError(f"rope: positions must be (T,) or (B, T), got shape {pos.shape}")
    theta = base ** (-np.arange(0, head_size, 2, dtype=np.float64) / head_size)  # (hs/2,)
    phi = pos[..., None] * theta  # (T, hs/2) or (B, T, hs/2), in float64 so large positions stay accurate
    return xp.asarray(np.cos(phi), dtype=dtype), xp.asarray(np.sin(phi), dtype=dtype)


def rotate(x, cos, sin):
    """R(φ) x on raw arrays: x (..., T, hs), cos/sin (T, hs/2). Pass -sin for the inverse rotation."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    out = get_xp(x).empty_like(x)
    out[..., :h] = x1 * cos - x2 * sin
    out[..., h:] = x1 * sin + x2 * cos
    return out


class Rope(Function):
    @staticmethod
    def forward(ctx, x, cos, sin):
        if cos.shape != (x.shape[-2], x.shape[-1] // 2) or x.shape[-1] % 2:
            raise ValueError(f"rope: input (..., T, hs) = {x.shape} needs tables of shape (T, hs/2), got {cos.shape}")
        ctx.save_for_backward(cos, sin)
        return rotate(x, cos, sin)

    @staticmethod
    def backward(ctx, g):
        cos, sin = ctx.saved
        return rotate(g, cos, -sin), None, None  # the inverse rotation R(-φ) = R(φ)ᵀ


def rope(x, positions, base=10000.0):
    """Rotate x (B, nh, T, hs) by the RoPE angles of absolute `positions` (T,)."""
    xp = get_xp(raw(x))
    cos, sin = rope_tables(positions, x.shape[-1], base, xp=xp, dtype=x.dtype)
    return Rope.apply(x, cos, sin)
