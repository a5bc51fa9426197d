r"""Layer normalisation over the last dimension, with a fused backward.

Forward, per row x of length C:
    μ = mean(x),  σ² = mean((x - μ)²)  (biased),  r = 1/√(σ² + ε)
    x̂ = (x - μ) r,   y = x̂ ⊙ w + b

Backward, with ĝ = g ⊙ w (the gradient reaching x̂):
    dL/dx = r · (ĝ - mean(ĝ) - x̂ · mean(ĝ ⊙ x̂))
    dL/dw = Σ_rows g ⊙ x̂,   dL/db = Σ_rows g

The dx formula comes from differentiating through μ and σ², both functions of
every element of the row (derivation in notebooks/02_autograd.ipynb).

    python -c "import minigpt as m, numpy as np; x = m.Tensor(np.random.randn(2, 4)); print(m.ops.layernorm(x, m.Tensor(np.ones(4)), m.Tensor(np.zeros(4))).data.std(-1))"
"""
from minigpt.autograd import Function
from minigpt.backend import colsum, get_xp, rowsum
from minigpt.ops.dispatch import kernels


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, w, b, eps=1e-5):
        C = x.shape[-1]
        if w.shape != (C,) or (b is not None and b.shape != (C,)):
            raise ValueError(f"layernorm: weight/bias must have shape ({C},) to match the input's last dim, "
                             f"got {w.shape} and {None if b is None else b.shape}")
        ctx.kernel = kernels(x, w, b) if b is not None else None
        if ctx.kernel:  # one fused pass per row: CUDA (kernels/layernorm.cu, Welford) or numba (kernels/cpu.py)
            y, mean, rstd = ctx.kernel.layernorm_fwd(x, w, b, eps)
            ctx.save_for_backward(x, w, mean, rstd)
            return y
        xp = get_xp(x)
        mu = rowsum(x) * (1.0 / C)  # row sums as x @ 1, see backend.rowsum
        xc = x - mu[..., None]
        var = rowsum(xc * xc) * (1.0 / C)
        r = (1.0 / xp.sqrt(var + eps))[..., None]
        xhat = xc
        xhat *= r  # in place: xc is not needed again
        ctx.save_for_backward(xhat, r, w)
        y = xhat * w
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, g):
        nx, nw, nb = ctx.needs_grad[:3]
        if ctx.kernel:
            x, w, mean, rstd = ctx.saved
            gx, gw, gb = ctx.kernel.layernorm_bwd(g, x, w, mean, rstd)
            return gx if nx else None, gw if nw else None, gb if nb else None
        xhat, r, w = ctx.saved
        gx = gw = gb = None
        if nx:
            C = g.shape[-1]
            gh = g * w
            mean_gh = rowsum(gh) * (1.0 / C)
            mean_ghx = rowsum(gh * xhat) * (1.0 / C)
            gx = xhat * mean_ghx[..., None]
            gx += mean_gh[..., None]
            get_xp(g).subtract(gh, gx, out=gx)  # gh - mean(gh) - x̂·mean(gh ⊙ x̂)
            gx *= r
        if nw:
            gw = colsum(g * xhat)
        if nb:
            gb = colsum(g)
        return gx, gw, gb


def layernorm(x, w, b=None, eps=1e-5):
    return LayerNorm.apply(x, w, b, eps=eps)
