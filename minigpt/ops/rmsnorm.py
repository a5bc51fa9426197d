r"""RMS normalisation over the last dimension (LLaMA's norm), with a fused backward.

Like LayerNorm without the mean: each row x of length C is divided by its root
mean square, then scaled by a learned gain w (no bias). Zhang & Sennrich 2019.

    r = 1/√(mean(x²) + ε),   x̂ = x r,   y = x̂ ⊙ w

Backward, with ĝ = g ⊙ w (the gradient reaching x̂). r depends on every x_k
through mean(x²): ∂r/∂x_k = -r³ x_k / C, so

    dL/dx_k = ĝ_k r - (r³ x_k / C) Σ_j ĝ_j x_j = r · (ĝ_k - x̂_k · mean(ĝ ⊙ x̂))
    dL/dw   = Σ_rows g ⊙ x̂

Compare with layernorm's dx = r (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)): the mean(ĝ) term
is gone because nothing was centred.

    python -c "import minigpt as m, numpy as np; x = m.Tensor(np.random.randn(2, 4)); y = m.ops.rmsnorm(x, m.Tensor(np.ones(4))); print((y.data ** 2).mean(-1))"
"""
from minigpt.autograd import Function
from minigpt.backend import colsum, get_xp, rowsum


class RMSNorm(Function):
    @staticmethod
    def forward(ctx, x, w, eps=1e-5):
        C = x.shape[-1]
        if w.shape != (C,):
            raise ValueError(f"rmsnorm: weight must have shape ({C},) to match the input's last dim, got {w.shape}")
        xp = get_xp(x)
        r = (1.0 / xp.sqrt(rowsum(x * x) * (1.0 / C) + eps))[..., None]  # (..., 1); rowsum: see backend
        xhat = x * r
        ctx.save_for_backward(xhat, r, w)
        return xhat * w

    @staticmethod
    def backward(ctx, g):
        xhat, r, w = ctx.saved
        nx, nw = ctx.needs_grad[:2]
        gx = gw = None
        if nx:
            gh = g * w
            mean_ghx = rowsum(gh * xhat) * (1.0 / g.shape[-1])
            gx = r * (gh - xhat * mean_ghx[..., None])
        if nw:
            gw = colsum(g * xhat)
        return gx, gw


def rmsnorm(x, w, eps=1e-5):
    """x / rms(x) ⊙ w over the last axis; w has shape (C,)."""
    return RMSNorm.apply(x, w, eps=eps)
